"""The registry of stream kinds a scenario's players may name.

A kind says which parameters it takes (:class:`~harness.kinds.params.Param`) and which
player action produces it (``factory(params, context) -> PlayerAction``). The orchestra
resolves an action kind it does not know itself here, so a player process started with
``kind = "b-image"`` builds its action from this registry.

This module sits at the bottom of the house: it imports nothing of the packages that
register into it. Packages register with :func:`register_stream_kind` when they are
imported (the built-ins in :mod:`harness.streams.catalog`, ``captured`` in
:mod:`harness.recording.replay.captured_kind`); a process that has imported neither, such as a
player process, finds every provider through the entry points of the group
``donki.stream_kinds``, the same door a third-party plugin uses (the entry point names a
:class:`StreamKind`, a list of them, or a module that registers on import).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

from harness.errors import ScenarioError
from harness.kinds.params import Param, resolve_params

__all__ = [
    "ENTRY_POINT_GROUP",
    "StreamKind",
    "find_stream_kind",
    "get_stream_kind",
    "register_stream_kind",
    "stream_kinds",
    "unregister_stream_kind",
]

ENTRY_POINT_GROUP = "donki.stream_kinds"

_REGISTRY: dict[str, StreamKind] = {}
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
    with _LOCK:
        existing = _REGISTRY.get(kind.name)
        if existing is not None and existing != kind and not replace:
            raise ScenarioError(f"stream kind {kind.name!r} is already registered ({existing.description})")
        _REGISTRY[kind.name] = kind
    return kind


def stream_kinds() -> dict[str, StreamKind]:
    """Every known kind by name (built-ins and plugins)."""
    _load_providers()
    with _LOCK:
        return dict(sorted(_REGISTRY.items()))


def find_stream_kind(name: str) -> StreamKind | None:
    """The kind called ``name``, or ``None`` (providers loaded first)."""
    return stream_kinds().get(name)


def unregister_stream_kind(name: str) -> None:
    """Forget kind ``name`` (tests that register a kind of their own clean up with this)."""
    with _LOCK:
        _REGISTRY.pop(name, None)


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
        for entry_point in _entry_points():
            try:
                _register_provided(entry_point.load())
            except Exception as exc:  # noqa: BLE001 - a broken plugin must not hide the built-ins
                _LOAD_ERRORS.append(f"{entry_point.name} = {entry_point.value}: {exc}")


def _entry_points() -> Iterable[EntryPoint]:
    from importlib.metadata import entry_points

    return entry_points(group=ENTRY_POINT_GROUP)


def _register_provided(provided: object) -> None:
    if isinstance(provided, StreamKind):
        register_stream_kind(provided)
    elif isinstance(provided, (list, tuple)):
        for kind in provided:
            register_stream_kind(kind)
    # a module registers its kinds when imported; nothing more to do
