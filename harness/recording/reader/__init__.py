"""HDF5 -> records: opening and validating a recording, selecting messages, summaries."""
