"""Fixtures: an Ensemble (director + players) on a random loopback port, reaped after each test."""

import pytest

from harness.orchestra import Ensemble

# Short enough that lost players are found quickly, long enough for a loaded 2-core CI machine.
TEST_HEARTBEAT_S = 0.2
TEST_LIVENESS = 5


@pytest.fixture
def ensemble(tmp_path):
    ens = Ensemble(heartbeat_s=TEST_HEARTBEAT_S, liveness=TEST_LIVENESS, log_dir=tmp_path / "players").start()
    try:
        yield ens
    finally:
        ens.close()


@pytest.fixture
def rogues(ensemble):
    """Make hand-driven peers of ``ensemble``'s director; closed after the test."""
    from tests.orchestra.helpers import Rogue

    made = []

    def make(name="rogue", priority=0):
        rogue = Rogue(ensemble.endpoint, name, priority)
        made.append(rogue)
        return rogue

    yield make
    for rogue in made:
        rogue.close()
