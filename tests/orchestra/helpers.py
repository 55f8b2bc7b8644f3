"""Test actions (imported by player processes through the ``python`` kind) and a hand-driven peer."""

from __future__ import annotations

import json
import time
from pathlib import Path

from harness.orchestra.action import ActionResult
from harness.orchestra.protocol import DIRECTOR, PROTOCOL_VERSION, Message, MsgType, decode, encode


class IntervalRecorder:
    """Sleeps ``seconds`` per trigger and appends [trigger, start, end] (wall clock) to ``dir/NAME.jsonl``."""

    def __init__(self, params, context):
        self.path = Path(params["dir"]) / f"{context['name']}.jsonl"
        self.seconds = params.get("seconds", 0.0)
        self.stop = context["stop_event"]

    def setup(self):
        self.path.with_suffix(".setup").write_text("set up")

    def teardown(self):
        self.path.with_suffix(".teardown").write_text("torn down")

    def __call__(self, trigger):
        start = time.time()
        self.stop.wait(self.seconds)
        with open(self.path, "a") as fh:
            fh.write(json.dumps([trigger, start, time.time()]) + "\n")
        return ActionResult(messages=1, bytes=trigger)


def intervals(path: Path) -> list[list[float]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


class Rogue:
    """A DEALER that speaks the protocol by hand, to misbehave on purpose."""

    def __init__(self, endpoint: str, name: str = "rogue", priority: int = 0):
        import zmq

        self.zmq = zmq
        self.context = zmq.Context()
        self.sock = self.context.socket(zmq.DEALER)
        self.sock.linger = 0
        self.sock.connect(endpoint)
        self.name, self.priority = name, priority
        self.run = 1  # the run of the last trigger seen; acks echo it

    def hello(self, **overrides) -> Message:
        fields = dict(name=self.name, priority=self.priority, divisor=1, streams=[], protocol=PROTOCOL_VERSION,
                      host="rogue-host", pid=0, kind="hand", ack_mode="send")
        fields.update(overrides)
        self.send(encode(MsgType.HELLO, **fields))
        return self.expect(MsgType.WELCOME, MsgType.REJECT)

    def send(self, frames: list[bytes]) -> None:
        self.sock.send_multipart(frames)

    def ack(self, trigger: int, attempt: int = 1, counts=None, run: int | None = None) -> None:
        self.send(encode(MsgType.ACK, run=self.run if run is None else run, trigger=trigger, attempt=attempt,
                         counts=counts or {}))

    def expect(self, *types: MsgType, timeout_s: float = 10.0) -> Message:
        """The next message of one of ``types`` (heartbeats and others skipped)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.sock.poll(50):
                msg = decode(self.sock.recv_multipart(), DIRECTOR)
                if msg.type is MsgType.TRIGGER:
                    self.run = msg["run"]
                if msg.type in types:
                    return msg
        raise AssertionError(f"rogue got no {[t.value for t in types]} within {timeout_s} s")

    def close(self) -> None:
        self.sock.close(0)
        self.context.term()


class DeliveryTracker:
    """Pretends to produce ``params['messages']`` messages per trigger; delivery is confirmed later."""

    def __init__(self, params, context):
        self.messages = params.get("messages", 2)
        self.produced: dict[int, int] = {}

    def __call__(self, trigger):
        self.produced[trigger] = self.messages
        return ActionResult(messages=self.messages, bytes=100 * self.messages)

    def wait_delivered(self, trigger, timeout_s):
        sent = self.produced.pop(trigger)
        return ActionResult(messages=sent, bytes=100 * sent, delivered=sent - 1, failed=1)


class BrokenSetup:
    def __init__(self, params, context):
        pass

    def setup(self):
        raise OSError("cannot open the detector geometry file")

    def __call__(self, trigger):
        return None


class Stuck:
    """Blocks in ``time.sleep`` at trigger ``at``, deaf to the stop event: an action stuck in a call."""

    def __init__(self, params, context):
        self.at = params.get("at", 2)
        self.marker = Path(params["dir"]) / f"{context['name']}.stuck"

    def __call__(self, trigger):
        if trigger == self.at:
            self.marker.write_text(str(trigger))
            time.sleep(3600)
