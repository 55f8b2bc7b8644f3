"""Kafka -> HDF5: the recorder, its write-behind pipeline, the writer, NeXus views and copies."""
