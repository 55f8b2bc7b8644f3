"""Fuzzing the director: hypothesis-made frames from a stranger and from a seated peer, while a real
player runs a 20 Hz run beside them. Nothing may crash the director, hang it, or disturb that run."""

import json
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.orchestra import Ensemble, EventKind, PlayerConfig
from harness.orchestra.protocol import PROTOCOL_VERSION, MsgType

EXAMPLES = 150
TYPES = [t.value for t in MsgType] + ["", "ACK", "trigger ", "x" * 300]

json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False),
                      st.text(max_size=20))
json_value = st.recursive(json_leaf, lambda inner: st.lists(inner, max_size=4)
                          | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)


@st.composite
def headers(draw):
    """A JSON object that looks like a message: a known (or odd) type with fields of any type."""
    body = {"type": draw(st.sampled_from(TYPES))}
    for name in draw(st.lists(st.sampled_from(["run", "trigger", "attempt", "counts", "name", "priority", "divisor",
                                               "streams", "protocol", "host", "pid", "kind", "ack_mode", "req",
                                               "ok", "body", "error", "reason", "extra"]), max_size=10)):
        body[name] = draw(json_value)
    return json.dumps(body).encode()


def nested(depth: int, opener: bytes) -> bytes:
    return opener * depth


canonical_ack = st.builds(lambda r, t, a, c: b'{"type":"ack","run":%d,"trigger":%d,"attempt":%d,"counts":%s}'
                          % (r, t, a, c), st.integers(1, 3), st.integers(1, 10**6), st.integers(1, 5),
                          st.sampled_from([b"{}", b'{"messages":1}', b'{"a":' + b"[" * 5000 + b"}",
                                           b'{"a":1.5}', b'{"a":"x"}']))
frame = st.one_of(
    st.binary(max_size=512),
    headers(),
    canonical_ack,
    st.builds(nested, st.integers(1, 20_000), st.sampled_from([b"[", b'{"a":', b"[{\"b\":"])),
    st.integers(60_000, 200_000).map(lambda n: b'{"type":"heartbeat","pad":"' + b"x" * n + b'"}'),
    st.text(max_size=200).map(lambda s: s.encode("utf-8", "surrogatepass")),
)
message = st.lists(frame, min_size=0, max_size=4) | st.lists(st.just(b"{}"), min_size=60, max_size=80)


@pytest.fixture
def ensemble(tmp_path):
    # one seat: the real player takes it, so a well-formed hello from the fuzzer is refused, not seated
    ens = Ensemble(heartbeat_s=0.2, liveness=10, max_players=1, log_dir=tmp_path / "players").start()
    try:
        yield ens
    finally:
        ens.close()


def test_fuzzed_frames_neither_crash_nor_hang_the_director_nor_disturb_a_run(ensemble):
    import zmq

    ensemble.add_player(PlayerConfig("steady"))
    handle = ensemble.start_run(count=None, rate_hz=20, ack_timeout_s=2.0, policy="skip")
    context = zmq.Context()
    peers = []
    for _ in range(3):  # strangers, each on its own connection
        sock = context.socket(zmq.DEALER)
        sock.linger = 0
        sock.connect(ensemble.endpoint)
        peers.append(sock)
    director = ensemble.director
    started = time.monotonic()

    @settings(max_examples=EXAMPLES, deadline=None)
    @given(frames=message, peer=st.integers(0, len(peers) - 1))
    def one(frames, peer):
        if frames:
            peers[peer].send_multipart(frames)
        assert director._loop.crash is None
        assert director.run_state == "running"  # the loop answers at once: not hung

    try:
        one()
        time.sleep(0.5)
        assert director.run_state == "running"
        handle.stop()
        result = handle.wait(10)
    finally:
        for sock in peers:
            sock.close(0)
        context.term()
    elapsed = time.monotonic() - started
    assert director._loop.crash is None
    assert result.missed == 0 and result.nacked == 0 and result.acked == result.last_trigger, result
    assert result.last_trigger >= 0.5 * 20 * elapsed, (result.last_trigger, elapsed)  # the 20 Hz pace held
    assert [p.name for p in director.players()] == ["steady"]
    assert not ensemble.journal.of_kind(EventKind.PLAYER_LOST)
    assert sum(director.rejections.values()) > 0
    assert len(ensemble.journal.of_kind(EventKind.GARBAGE)) < 200  # sampled, however many were sent


def test_a_frame_over_the_size_limit_does_not_reach_python(ensemble):
    import zmq

    from harness.orchestra.protocol import MAX_MESSAGE_BYTES

    ensemble.add_player(PlayerConfig("steady"))
    context = zmq.Context()
    sock = context.socket(zmq.DEALER)
    sock.linger = 0
    sock.connect(ensemble.endpoint)
    try:
        sock.send(b"[" * (MAX_MESSAGE_BYTES + 1))
        sock.send(json.dumps({"type": "hello", "name": "late", "priority": 0, "divisor": 1, "streams": [],
                              "protocol": PROTOCOL_VERSION, "host": "h", "pid": 1, "kind": "k",
                              "ack_mode": "send"}).encode())
        assert ensemble.run(count=10, rate_hz=50, ack_timeout_s=2.0).ok
    finally:
        sock.close(0)
        context.term()
    assert not ensemble.journal.of_kind(EventKind.GARBAGE)  # libzmq dropped the connection before Python
