"""The stream kind ``captured``: a scenario player that replays a recording.

Imported by the stream-kind registry (entry point ``donki.stream_kinds: captured``) and by :mod:`harness.recording`,
which also makes ``captured`` an action kind a player process resolves by name. In a
scenario file::

    [[players]]
    name = "loki-capture"
    stream = "captured"
    topic = "loki_detector"
    rate = 14.0

    [players.params]
    recording = "recordings/loki-beamtime.h5"
    topics = ["loki_detector"]        # optional: recorded topics to use (default: all)
    split = "time"                    # auto | trigger | time | count
"""

from __future__ import annotations

from typing import Any

from harness.errors import ScenarioError
from harness.kinds import StreamKind, register_stream_kind
from harness.kinds.params import Param

__all__ = ["CAPTURED", "CAPTURED_PARAMS", "SPLITS", "TIME_BASES"]

SPLITS = ("auto", "trigger", "time", "count")
TIME_BASES = ("timestamp", "received")

CAPTURED_PARAMS = (
    Param("recording", str, help="path of the recording (HDF5) to replay; relative to the current directory"),
    Param("topics", list, [], "recorded topics to replay (empty: all)", item=str),
    Param("streams", list, [], "recorded donki streams to replay (empty: all)", item=str),
    Param("split", str, "auto", "how the recording is cut into one slice per trigger", choices=SPLITS),
    Param("messages_per_trigger", int, 1, "slice size with split='count'", minimum=1, maximum=1_000_000),
    Param("time_base", str, "timestamp", "recorded clock for split='time': Kafka timestamp or receive time",
          choices=TIME_BASES),
    Param("loop", bool, True, "start over when the triggers outlast the recording"),
    Param("shift_timestamps", bool, True, "move data and Kafka timestamps so each slice carries its trigger's time"),
)


def _check(params: dict[str, Any], where: str) -> None:
    if not params["recording"].strip():
        raise ScenarioError(f"{where}.recording: empty; give the path of a recording file (donki record -o ...)")


def _factory(params: dict[str, Any], context: dict[str, Any]) -> Any:
    from harness.recording.replay.captured import captured_action

    return captured_action(params, context)


CAPTURED = register_stream_kind(StreamKind(
    "captured", "a recording's messages replayed, one slice per trigger (any schema)", CAPTURED_PARAMS, _factory,
    (), None, _check))
