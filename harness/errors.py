"""The one exception hierarchy of pytest-donki.

Every error names the input that was wrong, what was expected and how to fix it,
so a user reading a failed CI log knows what to change without reading our code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

__all__ = [
    "DonkiError",
    "ConfigError",
    "BrokerError",
    "KafkaRuntimeError",
    "ImageBuildError",
    "BrokerStartError",
    "BrokerUnreachableError",
    "BrokerLostError",
    "TopicError",
    "ProtocolError",
    "PlayerError",
    "PlayerFailed",
    "PlayersFailed",
    "RunError",
    "RunFailed",
    "ScenarioError",
    "RecordingError",
    "FileWriterError",
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


class ImageBuildError(BrokerError):
    """The Kafka Docker image could not be built (``donki kafka image build``)."""


class BrokerStartError(BrokerError):
    """A broker process was started but did not become ready."""


class BrokerUnreachableError(BrokerError):
    """No broker answered at the configured bootstrap address within the deadline."""


class BrokerLostError(BrokerError):
    """A Kafka cluster that served stopped answering for longer than the allowed grace.

    ``bootstrap`` names the brokers, ``reason`` what the last attempt saw; ``str()`` is
    one line, fit for a CLI error or a failed test's first line.
    """

    def __init__(self, bootstrap: str, reason: str, down_s: float | None = None):
        self.bootstrap = bootstrap
        self.reason = reason
        self.down_s = down_s
        since = "" if down_s is None else f" for {down_s:.1f} s"
        super().__init__(f"Kafka broker(s) {bootstrap} lost: no answer{since} ({reason}). "
                         "Check that the broker runs and is reachable.")

    def __reduce__(self) -> tuple[type[BrokerLostError], tuple[str, str, float | None]]:
        return (BrokerLostError, (self.bootstrap, self.reason, self.down_s))  # the fields survive xdist/pickle


class TopicError(DonkiError):
    """A topic could not be created, deleted or found."""


class ProtocolError(DonkiError):
    """A message on the Director/Player wire was malformed or not allowed."""


class PlayerError(DonkiError):
    """A player failed; carries the player's name and traceback text."""


class PlayerFailed(PlayerError):
    """One named player failed: its action raised, it crashed, hung, was lost or rejected.

    ``player`` is its name, ``traceback_text`` the player's traceback or log tail.
    """

    def __init__(self, player: str, what: str, traceback_text: str = "", *, trigger: int | None = None):
        self.player = player
        self.what = what
        self.traceback_text = traceback_text
        self.trigger = trigger
        text = f"player {player!r} {what}"
        if traceback_text:
            text += f"\n--- from player {player!r} ---\n{traceback_text.rstrip()}"
        super().__init__(text)

    # keep the keyword-only field when pickled across xdist/pytest
    def __reduce__(self) -> tuple[Callable[..., PlayerFailed], tuple[object, ...]]:
        return (_rebuild_player_failed, (self.player, self.what, self.traceback_text, self.trigger))


def _rebuild_player_failed(player: str, what: str, traceback_text: str, trigger: int | None) -> PlayerFailed:
    return PlayerFailed(player, what, traceback_text, trigger=trigger)


class PlayersFailed(PlayerError):
    """Several players failed; ``errors`` holds each :class:`PlayerFailed`."""

    def __init__(self, errors: Iterable[PlayerFailed]):
        self.errors = list(errors)
        names = ", ".join(sorted({e.player for e in self.errors}))
        body = "\n\n".join(str(e) for e in self.errors)
        super().__init__(f"{len(self.errors)} player failure(s) ({names}):\n{body}")

    def __reduce__(self) -> tuple[Callable[..., PlayersFailed], tuple[object, ...]]:
        return (PlayersFailed, (self.errors,))


class RunError(DonkiError):
    """A scenario run failed as a whole (policy 'fail', abort, lost players)."""


class RunFailed(RunError):
    """A run ended aborted; ``result`` is its :class:`~harness.orchestra.ScheduleResult`."""

    # typed object: this bottom module may not import the orchestra, even for type checking
    def __init__(self, message: str, result: object = None):
        self.result = result
        super().__init__(message)

    def __reduce__(self) -> tuple[Callable[..., RunFailed], tuple[object, ...]]:
        return (RunFailed, (str(self), self.result))


class ScenarioError(DonkiError):
    """A scenario file or definition is invalid."""


class RecordingError(DonkiError):
    """A recording file is missing, damaged, of an unknown version or must not be written."""


class FileWriterError(DonkiError):
    """A file-writer command cannot be carried out (its message is the rejecting answ's reason)."""


class CheckFailed(DonkiError, AssertionError):
    """A harness check found that a stream is not what it should be."""
