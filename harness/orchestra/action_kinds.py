"""Action kinds: how a player process is told by name what to run per trigger.

A kind is a factory ``factory(params, context) -> PlayerAction``; ``params`` is the
JSON object of the player's config, ``context`` holds at least ``name``, ``bootstrap``
(may be ``None``), ``topic``, ``seed``, ``mode`` (``"process"`` or ``"thread"``) and
``stop_event`` (a :class:`threading.Event` set when the player must stop).

Built-in kinds serve tests and benchmarks: ``noop``, ``sleep``, ``fail-at``,
``crash-at``, ``hang-at`` and ``python``. Other packages add theirs with
:func:`register_action_kind`; a kind not found here is looked up among the stream kinds
(:mod:`harness.kinds`, which loads its providers' entry points), so stream kinds resolve
in player processes that never imported them.
"""

from __future__ import annotations

import importlib
import os
import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from harness.errors import ConfigError
from harness.kinds import find_stream_kind, stream_kinds
from harness.orchestra.action import ActionResult, PlayerAction

__all__ = ["ActionFactory", "register_action_kind", "unregister_action_kind", "action_kinds", "make_action"]

ActionFactory = Callable[[dict[str, Any], dict[str, Any]], PlayerAction]  # (params, context) -> action

_KINDS: dict[str, ActionFactory] = {}
_LOCK = threading.Lock()
_DOTTED = re.compile(r"[A-Za-z_][\w]*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")


def register_action_kind(name: str, factory: ActionFactory, *, replace: bool = False) -> None:
    """Make ``name`` resolvable by :func:`make_action`."""
    with _LOCK:
        if name in _KINDS and _KINDS[name] is not factory and not replace:
            raise ConfigError(f"action kind {name!r} is already registered; pass replace=True to override it")
        _KINDS[name] = factory


def unregister_action_kind(name: str) -> None:
    """Forget kind ``name`` (tests that register a kind of their own clean up with this)."""
    with _LOCK:
        _KINDS.pop(name, None)


def _factory_of(kind: str) -> ActionFactory | None:
    with _LOCK:
        factory = _KINDS.get(kind)
    if factory is None:
        stream_kind = find_stream_kind(kind)
        factory = stream_kind.factory if stream_kind is not None else None
    return factory


def action_kinds() -> list[str]:
    """Names of every known kind (stream kinds and plugins included)."""
    with _LOCK:
        own = set(_KINDS)
    return sorted(own | set(stream_kinds()))


def make_action(kind: str, params: Mapping[str, Any] | None = None,
                context: Mapping[str, Any] | None = None) -> PlayerAction:
    """Build the action of ``kind`` with ``params`` and ``context``."""
    factory = _factory_of(kind)
    if factory is None:
        raise ConfigError(f"unknown player action kind {kind!r}; known kinds: {', '.join(action_kinds())}")
    ctx = {"name": "player", "bootstrap": None, "topic": None, "seed": None, "mode": "process",
           "stop_event": threading.Event(), **(context or {})}
    return factory(dict(params or {}), ctx)


# -- parameter helpers --------------------------------------------------------------------


def _param(params: dict[str, Any], key: str, kind: str, types: tuple[type, ...], default: Any = ...) -> Any:
    if key not in params:
        if default is ...:
            raise ConfigError(f"action kind {kind!r} needs the parameter {key!r} (e.g. --param {key}=...)")
        return default
    value = params[key]
    if not isinstance(value, types) or isinstance(value, bool) and bool not in types:
        names = "/".join(t.__name__ for t in types)
        raise ConfigError(f"action kind {kind!r}: parameter {key!r}={value!r} must be {names}")
    return value


def _only(params: dict[str, Any], kind: str, *allowed: str) -> None:
    unknown = set(params) - set(allowed)
    if unknown:
        raise ConfigError(f"action kind {kind!r} does not take parameter(s) {sorted(unknown)}; "
                          f"it takes: {list(allowed) or 'none'}")


# -- built-in kinds -----------------------------------------------------------------------


def _noop(params: dict[str, Any], context: dict[str, Any]) -> PlayerAction:
    _only(params, "noop")
    return lambda trigger: None


class _Sleep:
    def __init__(self, seconds: float, stop: threading.Event) -> None:
        self.seconds, self._stop = seconds, stop

    def __call__(self, trigger: int) -> ActionResult:
        self._stop.wait(self.seconds)  # stands for work; a stopping player is not held up
        return ActionResult()


def _sleep(params: dict[str, Any], context: dict[str, Any]) -> PlayerAction:
    _only(params, "sleep", "seconds")
    seconds = float(_param(params, "seconds", "sleep", (int, float)))
    if seconds < 0:
        raise ConfigError(f"action kind 'sleep': seconds={seconds} must be >= 0")
    return _Sleep(seconds, context["stop_event"])


def _at(params: dict[str, Any], kind: str, *extra: str) -> int:
    _only(params, kind, "trigger", *extra)
    trigger: int = _param(params, "trigger", kind, (int,))
    if trigger < 1:
        raise ConfigError(f"action kind {kind!r}: trigger={trigger} must be >= 1")
    return trigger


def _fail_at(params: dict[str, Any], context: dict[str, Any]) -> PlayerAction:
    at = _at(params, "fail-at", "message")
    message = _param(params, "message", "fail-at", (str,), f"fail-at: planned failure at trigger {at}")

    def action(trigger: int) -> None:
        if trigger == at:
            raise RuntimeError(message)

    return action


def _crash_at(params: dict[str, Any], context: dict[str, Any]) -> PlayerAction:
    at = _at(params, "crash-at", "code")
    code = _param(params, "code", "crash-at", (int,), 70)
    if context.get("mode") == "thread":
        raise ConfigError("action kind 'crash-at' ends its process; run that player as a process, not a thread")

    def action(trigger: int) -> None:
        if trigger == at:
            os._exit(code)  # a crash: no teardown, no bye, no flush

    return action


def _hang_at(params: dict[str, Any], context: dict[str, Any]) -> PlayerAction:
    at = _at(params, "hang-at", "seconds")
    seconds = float(_param(params, "seconds", "hang-at", (int, float), 3600.0))
    stop: threading.Event = context["stop_event"]

    def action(trigger: int) -> None:
        if trigger == at:
            deadline = time.monotonic() + seconds
            while not stop.is_set() and time.monotonic() < deadline:
                stop.wait(min(1.0, max(0.0, deadline - time.monotonic())))

    return action


def _python(params: dict[str, Any], context: dict[str, Any]) -> PlayerAction:
    _only(params, "python", "callable", "factory", "kwargs")
    target = _param(params, "callable", "python", (str,))
    if not _DOTTED.fullmatch(target):
        raise ConfigError(f"action kind 'python': callable={target!r} must be 'package.module:attribute'")
    module_name, _, attr = target.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"action kind 'python': cannot import {target!r}: {exc}") from None
    if _param(params, "factory", "python", (bool,), False):
        obj = obj(params=dict(_param(params, "kwargs", "python", (dict,), {})), context=context)
    if not callable(obj):
        raise ConfigError(f"action kind 'python': {target!r} is not callable")
    action: PlayerAction = obj  # known to be callable; the player calls it with each trigger
    return action


for _name, _factory in {"noop": _noop, "sleep": _sleep, "fail-at": _fail_at, "crash-at": _crash_at,
                        "hang-at": _hang_at, "python": _python}.items():
    register_action_kind(_name, _factory)
