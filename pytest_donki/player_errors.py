"""Errors of players and background threads, raised in the test that ran them."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from harness.orchestra import Ensemble

__all__ = ["ensembles_of", "PLAYER_ERRORS_SECTION", "pytest_runtest_call"]

PLAYER_ERRORS_SECTION = "donki player errors"


def ensembles_of(item: pytest.Item) -> list[Ensemble]:
    """The ensembles among a test's fixture values (none while the engine's orchestra is not loaded)."""
    if "harness.orchestra" not in sys.modules:
        return []
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
