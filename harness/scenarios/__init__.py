"""Scenarios: the model, the TOML loader and the built-in scenarios.

Importing this package is cheap (no Kafka or ZeroMQ). It imports the built-in stream
kinds (:mod:`harness.streams.catalog`), so they are registered wherever scenarios are.
"""

import harness.streams.catalog  # noqa: F401 - registers the built-in stream kinds
from harness.kinds import (
    ENTRY_POINT_GROUP,
    REQUIRED,
    Param,
    StreamKind,
    get_stream_kind,
    register_stream_kind,
    stream_kinds,
)
from harness.scenarios.goldens import packaged_goldens_dir
from harness.scenarios.instrument import detector_banks, events_per_pulse, with_events_per_pulse
from harness.scenarios.loader import builtin_names, builtin_scenarios, load_scenario, loads_scenario
from harness.scenarios.model import Scenario
from harness.scenarios.players import ACK_AFTER, ACK_POLICIES, CLOCKS, AckSettings, Expectations, PlayerSpec

__all__ = [
    "ACK_AFTER",
    "ACK_POLICIES",
    "CLOCKS",
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
    "detector_banks",
    "events_per_pulse",
    "get_stream_kind",
    "load_scenario",
    "loads_scenario",
    "packaged_goldens_dir",
    "register_stream_kind",
    "stream_kinds",
    "with_events_per_pulse",
]
