"""Scenarios: the model, the TOML loader, the registry of stream kinds, the built-ins and the runner.

Importing this package is cheap (no Kafka or ZeroMQ); the built-in stream kinds are
loaded on first lookup.
"""

from harness.scenarios.kinds import ENTRY_POINT_GROUP, StreamKind, get_stream_kind, register_stream_kind, stream_kinds
from harness.scenarios.loader import builtin_names, builtin_scenarios, load_scenario, loads_scenario
from harness.scenarios.model import AckSettings, Expectations, PlayerSpec, Scenario
from harness.scenarios.params import REQUIRED, Param
from harness.scenarios.result import RunResult, StreamSummary
from harness.scenarios.runner import run_scenario

__all__ = [
    "AckSettings",
    "ENTRY_POINT_GROUP",
    "Expectations",
    "Param",
    "PlayerSpec",
    "REQUIRED",
    "RunResult",
    "Scenario",
    "StreamSummary",
    "StreamKind",
    "builtin_names",
    "builtin_scenarios",
    "get_stream_kind",
    "load_scenario",
    "loads_scenario",
    "register_stream_kind",
    "run_scenario",
    "stream_kinds",
]
