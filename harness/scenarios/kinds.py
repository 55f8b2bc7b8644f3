"""The registry of stream kinds a scenario's players may name.

A kind says which parameters it takes (:class:`~harness.scenarios.params.Param`) and
which player action produces it (``factory(params, context) -> PlayerAction``). Every
registered kind is also an action kind of the orchestra of the same name, so a player
process started with ``kind = "b-image"`` builds its action from this registry.

The built-in kinds live in :mod:`harness.streams.kinds`. Other packages add theirs with
:func:`register_stream_kind` in a module listed in :data:`OPTIONAL_PROVIDERS` (imported
when present) or named by an entry point of the group ``donki.stream_kinds`` (the entry
point names a :class:`StreamKind`, a list of them, or a module that registers on import).
"""

from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

from harness.errors import ScenarioError
from harness.scenarios.params import Param, resolve_params

__all__ = [
    "ENTRY_POINT_GROUP",
    "OPTIONAL_PROVIDERS",
    "StreamKind",
    "get_stream_kind",
    "register_stream_kind",
    "stream_kinds",
]

ENTRY_POINT_GROUP = "donki.stream_kinds"
BUILTIN_PROVIDERS = ("harness.streams.kinds",)
#: modules of this distribution that provide kinds when they exist (imported if present)
OPTIONAL_PROVIDERS = ("harness.recording.kinds",)

_REGISTRY: dict[str, "StreamKind"] = {}
_LOAD_ERRORS: list[str] = []
_LOCK = threading.RLock()
_loaded = False


@dataclass(frozen=True)
class StreamKind:
    """A kind of stream a player can produce.

    Parameters
    ----------
    name
        What a scenario writes as ``stream = "..."``.
    description
        One line for ``donki scenarios --kinds``.
    params
        The keys of the player's ``params`` table.
    factory
        ``factory(params, context) -> PlayerAction``; ``params`` are the player's params
        table, ``context`` the orchestra's (name, bootstrap, topic, seed, ...).
    schemas
        The FlatBuffer schema ids it writes (for docs and checks).
    default_rate
        Its natural rate in Hz, shown in docs; the scenario decides the real one.
    check
        Optional cross-parameter check ``check(params, where)`` raising ScenarioError.
    """

    name: str
    description: str
    params: tuple[Param, ...]
    factory: Callable[[dict[str, Any], dict[str, Any]], Any]
    schemas: tuple[str, ...] = ()
    default_rate: float | None = None
    check: Callable[[dict[str, Any], str], None] | None = None

    def resolve(self, given: Mapping[str, Any], where: str) -> dict[str, Any]:
        """The validated parameters, defaults filled in."""
        resolved = resolve_params(self.params, given, where)
        if self.check is not None:
            self.check(resolved, where)
        return resolved


def register_stream_kind(kind: StreamKind, *, replace: bool = False) -> StreamKind:
    """Make ``kind`` available to scenarios and as a player action kind.

    A second, different kind of the same name is an error unless ``replace``.
    """
    from harness.orchestra.actions import register_action_kind

    with _LOCK:
        existing = _REGISTRY.get(kind.name)
        if existing is not None and existing != kind and not replace:
            raise ScenarioError(f"stream kind {kind.name!r} is already registered ({existing.description})")
        register_action_kind(kind.name, kind.factory, replace=replace or existing == kind)
        _REGISTRY[kind.name] = kind
    return kind


def stream_kinds() -> dict[str, StreamKind]:
    """Every known kind by name (built-ins and plugins)."""
    _load_providers()
    with _LOCK:
        return dict(sorted(_REGISTRY.items()))


def get_stream_kind(name: str, where: str = "stream") -> StreamKind:
    """The kind called ``name``; a :class:`ScenarioError` listing the known ones if none."""
    kinds = stream_kinds()
    if name in kinds:
        return kinds[name]
    note = f" (plugins that failed to load: {'; '.join(_LOAD_ERRORS)})" if _LOAD_ERRORS else ""
    raise ScenarioError(f"{where}: unknown stream kind {name!r}; expected one of: {', '.join(kinds)}{note}")


def _load_providers() -> None:
    global _loaded
    with _LOCK:
        if _loaded:
            return
        _loaded = True
        for module in BUILTIN_PROVIDERS:
            importlib.import_module(module)
        for module in OPTIONAL_PROVIDERS:
            try:
                importlib.import_module(module)
            except ImportError as exc:
                if exc.name is None or not module.startswith(exc.name):
                    _LOAD_ERRORS.append(f"{module}: {exc}")  # it exists but is broken: say so
        for entry_point in _entry_points():
            try:
                _register_provided(entry_point.load())
            except Exception as exc:  # noqa: BLE001 - a broken plugin must not hide the built-ins
                _LOAD_ERRORS.append(f"{entry_point.name} = {entry_point.value}: {exc}")


def _entry_points() -> Iterable[Any]:
    from importlib.metadata import entry_points

    return entry_points(group=ENTRY_POINT_GROUP)


def _register_provided(provided: Any) -> None:
    if isinstance(provided, StreamKind):
        register_stream_kind(provided)
    elif isinstance(provided, (list, tuple)):
        for kind in provided:
            register_stream_kind(kind)
    # a module registers its kinds when imported; nothing more to do
