"""pytest-donki: the pytest plugin of the donki record-replay harness.

The plugin only wires the engine (:mod:`harness`) into pytest: options and ini keys,
fixtures, markers and reporting.
"""

from harness import __version__
from pytest_donki.factories import kafka_broker_fixture, topic_namespace_fixture
from pytest_donki.filewriter import file_writer_fixture

__all__ = ["__version__", "kafka_broker_fixture", "topic_namespace_fixture", "file_writer_fixture"]
