"""Test-suite wide fixtures and helpers."""

from __future__ import annotations

import os

import pytest

pytest_plugins = ["pytester"]


@pytest.fixture(autouse=True)
def _inner_sessions_start_from_a_clean_environment(request: pytest.FixtureRequest,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A pytester session reads DONKI_* like any other: the outer session's must not leak in
    (the environment beats ini keys), so a test sets exactly the ones it means."""
    if "pytester" in request.fixturenames:
        for name in [n for n in os.environ if n.startswith("DONKI_")]:
            monkeypatch.delenv(name)
