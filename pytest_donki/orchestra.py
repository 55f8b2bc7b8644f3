"""Fixture factories for a Director and its Players, and player errors in the test that ran them."""

from __future__ import annotations

from typing import Any, Callable, Iterator

import pytest

__all__ = ["director_fixture", "player_factory_fixture", "ensembles_of", "PLAYER_ERRORS_SECTION"]

PLAYER_ERRORS_SECTION = "donki player errors"


def director_fixture(scope: str = "function", **ensemble_options: Any) -> Callable[..., Any]:
    """A fixture giving a started :class:`~harness.orchestra.Ensemble` (director + players it starts).

    ``ensemble_options`` go to ``Ensemble`` (``heartbeat_s``, ``liveness``, ``curve_server``...).
    Errors its players report are raised in the test that ran them (see
    :func:`ensembles_of`); take them with ``.take_player_errors()`` to inspect them instead.
    """

    @pytest.fixture(scope=scope)
    def _director(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
        from harness.orchestra import Ensemble

        log_dir = tmp_path_factory.mktemp("donki-players")
        with Ensemble(log_dir=log_dir, **ensemble_options) as ensemble:
            yield ensemble

    return _director


def player_factory_fixture(director: str = "donki_director", broker: str = "donki_kafka") -> Callable[..., Any]:
    """A fixture giving ``make(name, kind="noop", **spec)`` that starts players on ``director``.

    Keywords are those of :class:`~harness.orchestra.PlayerConfig` plus ``mode``
    (``"process"``, default, or ``"thread"``), ``action`` (an object, thread mode only) and
    ``wait`` (wait for registration, default true). A player given a ``topic`` but no
    ``bootstrap`` publishes to the ``broker`` fixture's cluster.
    """

    @pytest.fixture()
    def _make_player(request: pytest.FixtureRequest) -> Callable[..., Any]:
        from harness.orchestra import PlayerConfig

        ensemble = request.getfixturevalue(director)

        def make(name: str, kind: str = "noop", *, mode: str = "process", action: Any = None, wait: bool = True,
                 **spec: Any) -> Any:
            if spec.get("topic") and not spec.get("bootstrap"):
                spec["bootstrap"] = request.getfixturevalue(broker).bootstrap_servers
            if "params" in spec:
                spec["params"] = dict(spec["params"])
            return ensemble.add_player(PlayerConfig(name, kind, **spec), mode, action, wait=wait)

        return make

    return _make_player


def ensembles_of(item: pytest.Item) -> list[Any]:
    """The ensembles among a test's fixture values."""
    from harness.orchestra import Ensemble

    values = getattr(item, "funcargs", {}).values()
    return [v for v in values if isinstance(v, Ensemble)]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Re-raise player errors in the test; if the test failed anyway, attach them to its report."""
    try:
        result = yield
    except BaseException:
        texts = [str(e) for ens in ensembles_of(item) for e in ens.take_player_errors()]
        if texts:
            item.add_report_section("call", PLAYER_ERRORS_SECTION, "\n\n".join(texts))
        raise
    for ensemble in ensembles_of(item):
        ensemble.raise_player_errors()
    return result
