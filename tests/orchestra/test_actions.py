"""The action-kind registry and the built-in kinds."""

import subprocess
import sys
import threading
import time

import pytest

from harness.errors import ConfigError
from harness.orchestra import ActionResult, action_kinds, make_action, register_action_kind


def test_builtin_kinds_are_listed():
    assert {"noop", "sleep", "fail-at", "crash-at", "hang-at", "python"} <= set(action_kinds())


def test_unknown_kind_names_the_known_ones():
    with pytest.raises(ConfigError, match=r"unknown player action kind 'warp'.*noop"):
        make_action("warp")


def test_noop_and_sleep():
    assert make_action("noop")(1) is None
    t0 = time.monotonic()
    assert isinstance(make_action("sleep", {"seconds": 0.05})(1), ActionResult)
    assert time.monotonic() - t0 >= 0.045


def test_sleep_returns_early_when_the_player_stops():
    stop = threading.Event()
    stop.set()
    t0 = time.monotonic()
    make_action("sleep", {"seconds": 30}, {"stop_event": stop})(1)
    assert time.monotonic() - t0 < 1


def test_fail_at_raises_only_at_its_trigger():
    action = make_action("fail-at", {"trigger": 2, "message": "planned"})
    action(1)
    with pytest.raises(RuntimeError, match="planned"):
        action(2)
    action(3)


def test_hang_at_blocks_until_the_stop_event():
    stop = threading.Event()
    action = make_action("hang-at", {"trigger": 1}, {"stop_event": stop})
    threading.Timer(0.1, stop.set).start()
    t0 = time.monotonic()
    action(1)
    assert 0.08 <= time.monotonic() - t0 < 5


def test_crash_at_is_refused_in_a_thread_player():
    with pytest.raises(ConfigError, match="process"):
        make_action("crash-at", {"trigger": 1}, {"mode": "thread"})


@pytest.mark.parametrize("kind,params,message", [
    ("sleep", {}, "needs the parameter 'seconds'"),
    ("sleep", {"seconds": "long"}, "must be int/float"),
    ("sleep", {"seconds": -1}, ">= 0"),
    ("noop", {"x": 1}, "does not take"),
    ("fail-at", {"trigger": 0}, ">= 1"),
    ("fail-at", {"trigger": True}, "must be int"),
    ("python", {"callable": "os.system"}, "package.module:attribute"),
    ("python", {"callable": "no_such_module_xyz:f"}, "cannot import"),
    ("python", {"callable": "os:sep"}, "not callable"),
])
def test_bad_params_are_refused_with_the_fix(kind, params, message):
    with pytest.raises(ConfigError, match=message):
        make_action(kind, params)


def counting_action(trigger):
    return ActionResult(messages=trigger, bytes=10 * trigger)


class CountingFactory:
    def __init__(self, params, context):
        self.step = params["step"]
        self.name = context["name"]

    def __call__(self, trigger):
        return ActionResult(messages=self.step)


def test_python_kind_imports_local_code_by_dotted_path():
    action = make_action("python", {"callable": f"{__name__}:counting_action"})
    assert action(3).counts() == {"messages": 3, "bytes": 30, "failed": 0}
    factory = make_action("python", {"callable": f"{__name__}:CountingFactory", "factory": True,
                                     "kwargs": {"step": 5}}, {"name": "p1"})
    assert factory.name == "p1" and factory(1).messages == 5


def test_registering_a_kind_twice_needs_replace():
    factory = lambda params, context: (lambda trigger: None)  # noqa: E731
    register_action_kind("test-kind-twice", factory)
    register_action_kind("test-kind-twice", factory)  # the same factory again is fine
    with pytest.raises(ConfigError, match="already registered"):
        register_action_kind("test-kind-twice", lambda p, c: None)
    register_action_kind("test-kind-twice", lambda p, c: None, replace=True)


def test_unknown_action_kinds_are_looked_up_among_the_stream_kinds():
    from harness.kinds import Param, StreamKind, register_stream_kind, unregister_stream_kind

    register_stream_kind(StreamKind("probe-stream", "a test kind", (Param("n", int, 1),),
                                    lambda params, context: (lambda trigger: ("probe", params["n"]))))
    try:
        assert "probe-stream" in action_kinds()
        assert make_action("probe-stream", {"n": 3})(1) == ("probe", 3)
    finally:
        unregister_stream_kind("probe-stream")
    with pytest.raises(ConfigError, match="unknown player action kind 'probe-stream'"):
        make_action("probe-stream")


def test_a_fresh_process_finds_every_stream_kind_through_the_entry_points():
    # a player process imports the orchestra only: the kinds come through donki.stream_kinds
    code = ("import sys; from harness.orchestra.action_kinds import action_kinds; kinds = action_kinds(); "
            "print(','.join(kinds)); print('harness.streams.catalog' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    kinds, imported = done.stdout.split()
    assert {"a-scalar", "ess-events", "run-control", "captured", "noop"} <= set(kinds.split(","))
    assert imported == "True"
