"""HDF5 -> Kafka: the timed replayer and the ``captured`` stream kind that replays per trigger."""
