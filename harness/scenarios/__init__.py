"""Scenarios: the model, the TOML loader, the registry of stream kinds and the built-ins.

Importing this package is cheap; the built-in stream kinds are loaded on first lookup.
"""

from harness.scenarios.kinds import ENTRY_POINT_GROUP, StreamKind, get_stream_kind, register_stream_kind, stream_kinds
from harness.scenarios.loader import builtin_names, builtin_scenarios, load_scenario, loads_scenario
from harness.scenarios.model import AckSettings, Expectations, PlayerSpec, Scenario
from harness.scenarios.params import REQUIRED, Param

__all__ = [
    "AckSettings",
    "ENTRY_POINT_GROUP",
    "Expectations",
    "Param",
    "PlayerSpec",
    "REQUIRED",
    "Scenario",
    "StreamKind",
    "builtin_names",
    "builtin_scenarios",
    "get_stream_kind",
    "load_scenario",
    "loads_scenario",
    "register_stream_kind",
    "stream_kinds",
]
