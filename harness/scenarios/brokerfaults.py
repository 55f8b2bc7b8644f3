"""Broker faults of a scenario: ``[[scenario.broker_faults]]`` tables (trigger, action, node).

The run pipeline hands them to :class:`~harness.streams.brokerfaults.BrokerFaultInjector`,
which kills or restarts the node when the director sends the trigger.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.errors import ScenarioError
from harness.scenarios.tables import check_keys, require_table, take

__all__ = ["BrokerFault", "BROKER_FAULT_ACTIONS", "BROKER_FAULT_KEYS", "broker_faults_from"]

BROKER_FAULT_ACTIONS = ("kill", "restart")
BROKER_FAULT_KEYS = ("trigger", "action", "node")
MAX_BROKER_FAULTS = 100


@dataclass(frozen=True)
class BrokerFault:
    """Kill (SIGKILL) or restart Kafka node ``node`` when the run reaches trigger ``trigger``."""

    trigger: int
    action: str
    node: int

    def to_dict(self) -> dict[str, Any]:
        return {"trigger": self.trigger, "action": self.action, "node": self.node}


def broker_faults_from(raw: Any, where: str) -> tuple[BrokerFault, ...]:
    """The validated faults of a ``broker_faults`` list; errors name the entry and key."""
    if not isinstance(raw, list) or len(raw) > MAX_BROKER_FAULTS:
        raise ScenarioError(f"{where}: expected a list of at most {MAX_BROKER_FAULTS} tables "
                            "([[scenario.broker_faults]] with trigger, action, node)")
    faults = []
    for i, table in enumerate(raw):
        at = f"{where}[{i}]"
        check_keys(require_table(table, at), BROKER_FAULT_KEYS, at)
        action = take(table, "action", str, at)
        if action not in BROKER_FAULT_ACTIONS:
            raise ScenarioError(f"{at}.action: {action!r}; expected one of: {', '.join(BROKER_FAULT_ACTIONS)}")
        faults.append(BrokerFault(take(table, "trigger", int, at, minimum=1), action,
                                  take(table, "node", int, at, minimum=1, maximum=1000)))
    return tuple(faults)
