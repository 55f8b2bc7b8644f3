"""The Director/Player wire protocol: message types, encoding and strict decoding.

A message is a multipart ZeroMQ message: one small JSON header frame (an object with a
``type`` and the fields of that type) followed by zero or more raw buffer frames
(arrays, log text). On the director's ROUTER socket the peer's routing id precedes it.

Decoding is strict and never executes anything: the header must be valid UTF-8 JSON
(no NaN/Infinity), an object, of a known type allowed from that side, carrying exactly
the fields of that type with the right JSON types. Anything else raises
:class:`~harness.errors.ProtocolError` naming the reason, which the receiver journals or
logs and then ignores.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from harness.errors import ProtocolError

__all__ = [
    "PROTOCOL_VERSION",
    "SUPPORTED_VERSIONS",
    "MAX_HEADER_BYTES",
    "MAX_FRAMES",
    "MAX_MESSAGE_BYTES",
    "DECODE_ERRORS",
    "DIRECTOR",
    "PLAYER",
    "MsgType",
    "Message",
    "UnsupportedVersion",
    "encode",
    "decode",
    "trigger_frames",
    "ack_frames",
    "parse_trigger",
    "parse_ack",
]

PROTOCOL_VERSION = 1
SUPPORTED_VERSIONS = frozenset({1})
MAX_HEADER_BYTES = 64 * 1024  # headers are small; a big one is garbage or an attack
MAX_FRAMES = 64
#: ZMQ_MAXMSGSIZE of both sides: a peer sending a bigger frame is disconnected by libzmq before
#: Python sees it (the largest legitimate frame is a log tail or a traceback, well under this).
MAX_MESSAGE_BYTES = 8 * 1024 * 1024
#: Every error a JSON decoder may raise on hostile input: a deeply nested ``[[[...`` raises
#: RecursionError, not ValueError; a frame of it is a rejected frame like any other.
DECODE_ERRORS = (ValueError, UnicodeDecodeError, RecursionError, MemoryError, TypeError)

DIRECTOR = "director"
PLAYER = "player"


class MsgType(str, enum.Enum):
    """Message types; values are what travels on the wire."""

    HELLO = "hello"  # player registers: name, priority, divisor, streams, protocol
    WELCOME = "welcome"  # director accepts: heartbeat interval and liveness
    REJECT = "reject"  # director refuses a hello: reason
    INFO = "info"  # director asks for the player's live state
    START = "start"  # director asks the player to set its action up
    STOP = "stop"  # director asks the player to tear its action down
    SET_PRIORITY = "set_priority"
    LOG = "log"  # director asks for the tail of the player's log
    REPLY = "reply"  # player answers info/start/stop/set_priority/log
    TRIGGER = "trigger"
    ACK = "ack"
    NACK = "nack"  # the action raised; error = traceback text
    HEARTBEAT = "heartbeat"
    BYE = "bye"


_INT = (int,)
_NUM = (int, float)
_STR = (str,)
_BOOL = (bool,)
_LIST = (list,)
_DICT = (dict,)

# type -> (sender, {field: allowed JSON types}); every field is required, no others allowed
_SCHEMA: dict[MsgType, tuple[str, dict[str, tuple[type, ...]]]] = {
    MsgType.HELLO: (PLAYER, {"name": _STR, "priority": _INT, "divisor": _INT, "streams": _LIST,
                             "protocol": _INT, "host": _STR, "pid": _INT, "kind": _STR, "ack_mode": _STR}),
    MsgType.WELCOME: (DIRECTOR, {"protocol": _INT, "heartbeat_s": _NUM, "liveness": _INT}),
    MsgType.REJECT: (DIRECTOR, {"reason": _STR}),
    MsgType.INFO: (DIRECTOR, {"req": _INT}),
    MsgType.START: (DIRECTOR, {"req": _INT}),
    MsgType.STOP: (DIRECTOR, {"req": _INT}),
    MsgType.SET_PRIORITY: (DIRECTOR, {"req": _INT, "priority": _INT}),
    MsgType.LOG: (DIRECTOR, {"req": _INT, "lines": _INT}),
    MsgType.REPLY: (PLAYER, {"req": _INT, "ok": _BOOL, "body": _DICT, "error": _STR}),
    MsgType.TRIGGER: (DIRECTOR, {"run": _INT, "trigger": _INT, "attempt": _INT}),
    MsgType.ACK: (PLAYER, {"run": _INT, "trigger": _INT, "attempt": _INT, "counts": _DICT}),
    MsgType.NACK: (PLAYER, {"run": _INT, "trigger": _INT, "attempt": _INT, "counts": _DICT, "error": _STR}),
    MsgType.HEARTBEAT: ("*", {}),
    MsgType.BYE: ("*", {"reason": _STR}),
}
_BY_VALUE = {t.value: t for t in MsgType}
_POSITIVE = frozenset({"run", "trigger", "attempt", "divisor", "req", "liveness"})


class Message(NamedTuple):
    """A decoded message: its type, header fields and raw buffer frames (immutable).

    ``msg["trigger"]`` reads a header field; the tuple's own fields are attributes. Type checkers
    index a tuple by its items, so typed code reads header fields as ``msg.body["trigger"]``.
    """

    type: MsgType
    body: Mapping[str, Any] = {}
    buffers: tuple[bytes, ...] = ()

    def __getitem__(self, key: Any) -> Any:
        return self.body[key] if isinstance(key, str) else tuple.__getitem__(self, key)


class UnsupportedVersion(ProtocolError):
    """A hello announced a protocol version this side does not speak."""

    def __init__(self, message: str, *, name: str, version: Any) -> None:
        super().__init__(message)
        self.name = name
        self.version = version


def encode(msg_type: MsgType, buffers: Sequence[bytes] = (), **fields: Any) -> list[bytes]:
    """Frames of one message: the JSON header, then the raw buffers."""
    header = {"type": msg_type.value, **fields}
    return [json.dumps(header, separators=(",", ":")).encode(), *buffers]


def trigger_frames(run: int, trigger: int, attempt: int) -> list[bytes]:
    """Frames of a trigger, formatted directly: the hot path of a run."""
    return [b'{"type":"trigger","run":%d,"trigger":%d,"attempt":%d}' % (run, trigger, attempt)]


def ack_frames(run: int, trigger: int, attempt: int, counts: Mapping[str, int]) -> list[bytes]:
    """Frames of an ack (hot path of the player)."""
    body = json.dumps(counts, separators=(",", ":")) if counts else "{}"
    return [b'{"type":"ack","run":%d,"trigger":%d,"attempt":%d,"counts":%s}' % (run, trigger, attempt, body.encode())]


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)

# The two messages of every trigger, in the exact form this module writes them, are
# recognised without a JSON parse; anything else takes the general, strict path.
_FAST_TRIGGER = re.compile(
    rb'\{"type":"trigger","run":([1-9][0-9]{0,17}),"trigger":([1-9][0-9]{0,17}),"attempt":([1-9][0-9]{0,8})\}\Z')
_FAST_ACK = re.compile(rb'\{"type":"ack","run":([1-9][0-9]{0,17}),"trigger":([1-9][0-9]{0,17}),'
                       rb'"attempt":([1-9][0-9]{0,8}),"counts":(\{[^{}]*\})\}\Z')


def parse_trigger(frame: bytes) -> tuple[int, int, int] | None:
    """(run, trigger, attempt) of a trigger frame in canonical form, else ``None`` (use :func:`decode`)."""
    match = _FAST_TRIGGER.match(frame)
    return None if match is None else (int(match[1]), int(match[2]), int(match[3]))


def parse_ack(frame: bytes) -> tuple[int, int, int, dict[str, int]] | None:
    """(run, trigger, attempt, counts) of an ack frame in canonical form, else ``None`` (use :func:`decode`)."""
    match = None if len(frame) > MAX_HEADER_BYTES else _FAST_ACK.match(frame)
    if match is None:
        return None
    counts_text = match[4]
    if counts_text == b"{}":
        counts: dict[str, int] = {}
    else:
        try:
            counts = _DECODER.decode(counts_text.decode())
        except DECODE_ERRORS:
            return None
        if not isinstance(counts, dict) or not all(type(v) is int for v in counts.values()):
            return None
    return int(match[1]), int(match[2]), int(match[3]), counts


def _fast_decode(frame: bytes, sender: str) -> Message | None:
    if sender == DIRECTOR:
        trig = parse_trigger(frame)
        return None if trig is None else Message(MsgType.TRIGGER, dict(zip(("run", "trigger", "attempt"), trig,
                                                                            strict=True)))
    ack = parse_ack(frame)
    return None if ack is None else Message(MsgType.ACK, dict(zip(("run", "trigger", "attempt", "counts"), ack,
                                                                  strict=True)))


def _parse_header(frame: bytes) -> dict[str, Any]:
    if len(frame) > MAX_HEADER_BYTES:
        raise ProtocolError(f"header frame of {len(frame)} bytes exceeds {MAX_HEADER_BYTES}")
    try:
        header = _DECODER.decode(bytes(frame).decode("utf-8"))
    except DECODE_ERRORS as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)[:200]
        raise ProtocolError(f"header frame is not JSON: {reason}; first bytes {bytes(frame[:40])!r}") from None
    if not isinstance(header, dict):
        raise ProtocolError(f"header must be a JSON object, got {type(header).__name__}")
    return header


def _check_version(header: dict[str, Any]) -> None:
    version = header.get("protocol")
    if type(version) is int and version in SUPPORTED_VERSIONS:
        return
    name = header.get("name")
    if not isinstance(name, str):
        name = "?"
    supported = ", ".join(str(v) for v in sorted(SUPPORTED_VERSIONS))
    raise UnsupportedVersion(
        f"player {name!r} speaks protocol version {version!r}; this director supports {supported}: "
        "run the same pytest-donki version on both sides",
        name=name,
        version=version,
    )


def _check_fields(kind: MsgType, spec: dict[str, tuple[type, ...]], header: dict[str, Any]) -> None:
    missing = spec.keys() - header.keys()
    if missing:
        raise ProtocolError(f"{kind.value} message lacks field(s) {sorted(missing)}")
    unknown = header.keys() - spec.keys()
    if unknown:
        raise ProtocolError(f"{kind.value} message has unknown field(s) {sorted(unknown)}")
    for name, types in spec.items():
        value = header[name]
        # bool is an int subclass in Python but not a number on the wire
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            expected = "/".join(t.__name__ for t in types)
            raise ProtocolError(f"{kind.value}.{name} must be {expected}, got {type(value).__name__}")
        if name in _POSITIVE and isinstance(value, int) and value < 1:  # the positive fields are all int
            raise ProtocolError(f"{kind.value}.{name} must be >= 1, got {value}")


def _check_counts(kind: MsgType, counts: dict[str, Any]) -> None:
    for key, value in counts.items():
        if type(value) is not int:
            raise ProtocolError(f"{kind.value}.counts[{key!r}] must be an integer, got {type(value).__name__}")


def decode(frames: Sequence[bytes], sender: str) -> Message:
    """Decode ``frames`` (without the routing id) that came from ``sender``.

    Raises
    ------
    ProtocolError
        The frames are not a valid message from ``sender`` (reason in the text).
    UnsupportedVersion
        A hello with a protocol version outside :data:`SUPPORTED_VERSIONS`.
    """
    if len(frames) == 1:
        fast = _fast_decode(frames[0], sender)
        if fast is not None:
            return fast
    if not frames:
        raise ProtocolError("empty message")
    if len(frames) > MAX_FRAMES:
        raise ProtocolError(f"message has {len(frames)} frames; at most {MAX_FRAMES} allowed")
    header = _parse_header(frames[0])
    kind = _BY_VALUE.get(header.pop("type", None)) if isinstance(header.get("type"), str) else None
    if kind is None:
        raise ProtocolError(f"unknown or missing message type in header {_preview(header)}")
    allowed_from, spec = _SCHEMA[kind]
    if allowed_from not in ("*", sender):
        raise ProtocolError(f"{kind.value} is not a message a {sender} may send")
    if kind is MsgType.HELLO:
        _check_version(header)
    _check_fields(kind, spec, header)
    if "counts" in header:
        _check_counts(kind, header["counts"])
    if kind is MsgType.HELLO and not all(isinstance(s, str) for s in header["streams"]):
        raise ProtocolError("hello.streams must be a list of strings")
    return Message(kind, header, tuple(bytes(f) for f in frames[1:]))


def _preview(header: dict[str, Any]) -> str:
    try:
        text = json.dumps(header)
    except (ValueError, RecursionError):  # decodable yet not re-encodable (deep nesting): say so, no more
        return "(not printable)"
    return text if len(text) <= 80 else text[:77] + "..."
