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


@pytest.fixture(scope="session")
def docker_required() -> None:
    """Skip where no Docker daemon can be had; fail instead where CI promised one.

    ``.ci/with-docker`` sets ``DONKI_REQUIRE_DOCKER=1`` once its daemon answers, so on a
    machine that can run Docker the container tests never skip silently.
    """
    from harness.kafka import docker_available

    if docker_available():
        return
    reason = "needs a running Docker daemon; none answers (start Docker, or as root run .ci/docker-up)"
    if os.environ.get("DONKI_REQUIRE_DOCKER") == "1":
        pytest.fail(f"{reason}, yet DONKI_REQUIRE_DOCKER=1 says this machine has one")
    pytest.skip(reason)
