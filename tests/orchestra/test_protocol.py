"""The wire protocol: what is accepted, and that everything else is rejected with a reason."""

import json

import pytest

from harness.errors import ProtocolError
from harness.orchestra.protocol import (
    DIRECTOR,
    MAX_FRAMES,
    MAX_HEADER_BYTES,
    PLAYER,
    PROTOCOL_VERSION,
    MsgType,
    UnsupportedVersion,
    ack_frames,
    decode,
    encode,
    parse_ack,
    parse_trigger,
    trigger_frames,
)

HELLO = dict(name="det", priority=0, divisor=1, streams=["det_ev44"], protocol=PROTOCOL_VERSION, host="h",
             pid=1, kind="noop", ack_mode="send")


def test_hello_round_trip():
    msg = decode(encode(MsgType.HELLO, **HELLO), PLAYER)
    assert msg.type is MsgType.HELLO
    assert msg["streams"] == ["det_ev44"] and msg.body == HELLO


def test_buffers_travel_as_raw_frames():
    frames = encode(MsgType.REPLY, (b"\x00\x01log", b"more"), req=3, ok=True, body={}, error="")
    msg = decode(frames, PLAYER)
    assert msg.buffers == (b"\x00\x01log", b"more")


@pytest.mark.parametrize("run,trigger,attempt", [(1, 1, 1), (3, 2**40, 7)])
def test_fast_trigger_frames_decode_like_the_general_encoder(run, trigger, attempt):
    fast = decode(trigger_frames(run, trigger, attempt), DIRECTOR)
    general = decode(encode(MsgType.TRIGGER, run=run, trigger=trigger, attempt=attempt), DIRECTOR)
    assert fast == general
    assert fast.type is MsgType.TRIGGER and fast["trigger"] == trigger and fast["run"] == run
    assert parse_trigger(trigger_frames(run, trigger, attempt)[0]) == (run, trigger, attempt)


@pytest.mark.parametrize("counts", [{}, {"messages": 3, "bytes": 1024, "failed": 0, "delivered": 3}])
def test_fast_ack_frames_decode_like_the_general_encoder(counts):
    fast = decode(ack_frames(4, 9, 2, counts), PLAYER)
    assert fast == decode(encode(MsgType.ACK, run=4, trigger=9, attempt=2, counts=counts), PLAYER)
    assert fast["counts"] == counts
    assert parse_ack(ack_frames(4, 9, 2, counts)[0]) == (4, 9, 2, counts)


@pytest.mark.parametrize("frame", [
    b'{"type":"ack","run":1,"trigger":1,"attempt":1,"counts":{"m":1.5}}',  # not an int: the strict path says why
    b'{"type":"ack","run":1,"trigger":01,"attempt":1,"counts":{}}',
    b'{"type":"ack", "run":1,"trigger":1,"attempt":1,"counts":{}}',
    b'{"type":"ack","run":1,"trigger":1,"attempt":1,"counts":{}} ',
])
def test_only_the_canonical_form_takes_the_fast_path(frame):
    assert parse_ack(frame) is None


@pytest.mark.parametrize("frames,reason", [
    ([], "empty message"),
    ([b"\xff\xfe"], "not JSON"),
    ([b"{not json"], "not JSON"),
    ([b"[1, 2]"], "JSON object"),
    ([b'{"trigger": 1}'], "unknown or missing message type"),
    ([b'{"type": "launch_missiles"}'], "unknown or missing message type"),
    ([b'{"type": 7}'], "unknown or missing message type"),
    ([b'{"type": "trigger", "run": 1, "trigger": 1, "attempt": 1}'], "not a message a player may send"),
    ([b'{"type": "ack", "run": 1, "trigger": 1, "attempt": 1}'], "lacks field"),
    ([b'{"type": "ack", "trigger": 1, "attempt": 1, "counts": {}}'], "lacks field"),
    ([b'{"type": "ack", "run": 1, "trigger": 1, "attempt": 1, "counts": {}, "x": 1}'], "unknown field"),
    ([b'{"type": "ack", "run": 1, "trigger": "1", "attempt": 1, "counts": {}}'], "must be int"),
    ([b'{"type": "ack", "run": 1, "trigger": true, "attempt": 1, "counts": {}}'], "must be int"),
    ([b'{"type": "ack", "run": 1, "trigger": 1.0, "attempt": 1, "counts": {}}'], "must be int"),
    ([b'{"type": "ack", "run": 1, "trigger": 0, "attempt": 1, "counts": {}}'], "must be >= 1"),
    ([b'{"type": "ack", "run": 1, "trigger": 1, "attempt": 1, "counts": {"messages": 1.5}}'], "must be an integer"),
    ([b'{"type": "ack", "run": 1, "trigger": 1, "attempt": 1, "counts": {"m": NaN}}'], "not JSON"),
    ([b'{"type": "bye", "reason": "x"}'] + [b""] * MAX_FRAMES, "frames"),
    ([b'{"type": "bye", "reason": "' + b"x" * MAX_HEADER_BYTES + b'"}'], "exceeds"),
])
def test_malformed_messages_are_rejected_with_a_reason(frames, reason):
    with pytest.raises(ProtocolError, match=reason):
        decode(frames, PLAYER)


def test_a_python_object_payload_is_never_unpickled():
    import pickle

    with pytest.raises(ProtocolError, match="not JSON"):
        decode([pickle.dumps({"type": "ack"})], PLAYER)


def test_hello_streams_must_be_strings():
    with pytest.raises(ProtocolError, match="streams"):
        decode(encode(MsgType.HELLO, **{**HELLO, "streams": [1]}), PLAYER)


@pytest.mark.parametrize("version", [0, 2, 99, "1", None])
def test_unsupported_protocol_version_is_named(version):
    header = {**HELLO, "protocol": version, "type": "hello"}
    with pytest.raises(UnsupportedVersion, match=r"protocol version") as info:
        decode([json.dumps(header).encode()], PLAYER)
    assert info.value.name == "det"
    assert info.value.version == version


def test_heartbeat_and_bye_may_come_from_either_side():
    for sender in (PLAYER, DIRECTOR):
        assert decode(encode(MsgType.HEARTBEAT), sender).type is MsgType.HEARTBEAT
        assert decode(encode(MsgType.BYE, reason="done"), sender)["reason"] == "done"


def test_director_commands_are_rejected_from_a_player():
    for kind, fields in [(MsgType.START, {"req": 1}), (MsgType.WELCOME, {"protocol": 1, "heartbeat_s": 1,
                                                                         "liveness": 3})]:
        with pytest.raises(ProtocolError, match="may send"):
            decode(encode(kind, **fields), PLAYER)
