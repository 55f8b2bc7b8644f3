"""The one exception hierarchy of pytest-donki.

Every error names the input that was wrong, what was expected and how to fix it,
so a user reading a failed CI log knows what to change without reading our code.
"""

from __future__ import annotations

__all__ = [
    "DonkiError",
    "ConfigError",
    "BrokerError",
    "KafkaRuntimeError",
    "BrokerStartError",
    "BrokerUnreachableError",
    "TopicError",
    "ProtocolError",
    "PlayerError",
    "RunError",
    "ScenarioError",
    "RecordingError",
    "CheckFailed",
]


class DonkiError(Exception):
    """Base of every error raised on purpose by pytest-donki."""


class ConfigError(DonkiError):
    """A setting (option, ini key, environment variable, argument) has a bad value."""


class BrokerError(DonkiError):
    """A Kafka broker could not be provided or used."""


class KafkaRuntimeError(BrokerError):
    """Java or the Apache Kafka jars needed for a local broker are missing or broken."""


class BrokerStartError(BrokerError):
    """A broker process was started but did not become ready."""


class BrokerUnreachableError(BrokerError):
    """No broker answered at the configured bootstrap address within the deadline."""


class TopicError(DonkiError):
    """A topic could not be created, deleted or found."""


class ProtocolError(DonkiError):
    """A message on the Director/Player wire was malformed or not allowed."""


class PlayerError(DonkiError):
    """A player failed; carries the player's name and traceback text."""


class RunError(DonkiError):
    """A scenario run failed as a whole (policy 'fail', abort, lost players)."""


class ScenarioError(DonkiError):
    """A scenario file or definition is invalid."""


class RecordingError(DonkiError):
    """A recording file is missing, damaged, of an unknown version or must not be written."""


class CheckFailed(DonkiError, AssertionError):
    """A harness check found that a stream is not what it should be."""
