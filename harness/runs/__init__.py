"""Running a scenario: one pipeline from sizing to a typed outcome (see :mod:`harness.runs.pipeline`).

>>> from harness.runs import RunRequest, run, size_scenario                # doctest: +SKIP
>>> from harness.scenarios import load_scenario
>>> outcome = run(RunRequest(size_scenario(load_scenario("e-mixed")), broker, workdir=tmp_path))
>>> outcome.assert_ok().summary.stream("e-mixed").messages

Importing this package is cheap (the pytest plugin imports it at start-up): the names
below are loaded from their modules on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.runs.golden import GoldenAction, GoldenOutcome, GoldenRequest
    from harness.runs.live import SourceRun, player_config_for
    from harness.runs.outcome import RunOutcome
    from harness.runs.pipeline import RunRequest, RunSource, compare_golden, record_golden, run
    from harness.runs.sizing import GOLDEN_MAX_TRIGGERS, LENGTHS, SizedScenario, golden_variant, size_scenario
    from harness.runs.summary import RunSummary, StreamSummary
    from harness.runs.topics import RunTopics

__all__ = [
    "GOLDEN_MAX_TRIGGERS",
    "LENGTHS",
    "GoldenAction",
    "GoldenOutcome",
    "GoldenRequest",
    "SourceRun",
    "RunOutcome",
    "RunRequest",
    "RunSource",
    "RunSummary",
    "RunTopics",
    "SizedScenario",
    "StreamSummary",
    "compare_golden",
    "golden_variant",
    "player_config_for",
    "record_golden",
    "run",
    "size_scenario",
]

_HOMES = {
    "GoldenAction": "golden", "GoldenOutcome": "golden", "GoldenRequest": "golden",
    "SourceRun": "live", "player_config_for": "live",
    "RunOutcome": "outcome",
    "RunRequest": "pipeline", "RunSource": "pipeline", "compare_golden": "pipeline", "record_golden": "pipeline",
    "run": "pipeline",
    "GOLDEN_MAX_TRIGGERS": "sizing", "LENGTHS": "sizing", "SizedScenario": "sizing", "golden_variant": "sizing",
    "size_scenario": "sizing",
    "RunSummary": "summary", "StreamSummary": "summary",
    "RunTopics": "topics",
}


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'harness.runs' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"harness.runs.{home}"), name)
    globals()[name] = value
    return value
