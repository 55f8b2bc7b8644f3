"""Broker faults of a scenario: kill or restart a Kafka node when the run reaches trigger N.

A scenario asks for them in ``[[scenario.broker_faults]]`` tables (``trigger``, ``action``
``kill``/``restart``, ``node``). The injector follows the run's journal: when the
director sends trigger N it carries out the faults due, in a thread of its own (a
restart takes seconds and the run must go on meanwhile), and journals each as a
``broker_fault`` event saying what was done, how long it took and whether it worked.
The run's summary then shows whether anything acked was lost (``in_kafka`` against
the acks' ``delivered``).
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

from harness.errors import DonkiError, ScenarioError
from harness.orchestra.journal import EventKind, Journal, JournalEvent

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["BrokerFaultInjector", "FAULT_ACTIONS", "FaultTarget"]

FAULT_ACTIONS = ("kill", "restart")
#: how long stop() waits for faults in progress (a restart waits for the node to serve)
FINISH_TIMEOUT_S = 120.0


class FaultTarget(Protocol):
    """What a broker must offer for faults: :class:`~harness.kafka.LocalKafka` does."""

    def kill(self, node: int) -> None: ...

    def restart(self, node: int, timeout_s: float | None = None) -> None: ...


class _Fault(Protocol):
    """A scenario's :class:`~harness.scenarios.model.BrokerFault` (frozen: read-only fields)."""

    @property
    def trigger(self) -> int: ...

    @property
    def action(self) -> str: ...

    @property
    def node(self) -> int: ...


class BrokerFaultInjector:
    """Carries out ``faults`` on ``broker`` as the run in a journal reaches their triggers.

    Made before anything starts (a broker that cannot do faults is refused at once);
    :meth:`follow` names the run's journal, then use it as a context manager.
    """

    def __init__(self, broker: Any, faults: Iterable[_Fault]) -> None:
        self.faults = sorted(faults, key=lambda f: f.trigger)
        if self.faults and not (callable(getattr(broker, "kill", None)) and callable(getattr(broker, "restart", None))):
            raise ScenarioError(f"the scenario has broker faults, but the {getattr(broker, 'provider', '?')} broker "
                                "cannot kill or restart nodes: run it on the local provider (--donki-kafka=local)")
        self.broker: FaultTarget = broker
        self.journal = Journal()
        self.problems: list[str] = []
        self._next = 0
        self._due: queue.Queue[_Fault | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._unsubscribe: Callable[[], None] | None = None

    def follow(self, journal: Journal) -> BrokerFaultInjector:
        """The run's journal: faults follow its triggers and are journaled there."""
        self.journal = journal
        return self

    def start(self) -> BrokerFaultInjector:
        if self.faults and self._thread is None:
            self._thread = threading.Thread(target=self._work, name="donki-broker-faults", daemon=True)
            self._thread.start()
            self._unsubscribe = self.journal.subscribe(self._on_event)
        return self

    def stop(self, timeout_s: float = FINISH_TIMEOUT_S) -> None:
        """Stop following the run; faults in progress finish (within ``timeout_s``), the rest are dropped."""
        if self._unsubscribe is not None:
            self._unsubscribe()
        if self._thread is not None:
            self._due.put(None)
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                self.problems.append(f"a broker fault was still in progress {timeout_s:g} s after the run")
        left = self.faults[self._next:]
        if left:
            self.problems.append("broker fault(s) never reached: " + ", ".join(
                f"{f.action} node {f.node} at trigger {f.trigger}" for f in left))

    def __enter__(self) -> BrokerFaultInjector:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _on_event(self, event: JournalEvent) -> None:
        # the director's thread, under the journal's lock: hand on, never block
        if event.kind is not EventKind.TRIGGER_SENT or event.trigger is None:
            return
        while self._next < len(self.faults) and self.faults[self._next].trigger <= event.trigger:
            self._due.put(self.faults[self._next])
            self._next += 1

    def _work(self) -> None:
        while (fault := self._due.get()) is not None:
            started = time.monotonic()
            error = ""
            try:
                if fault.action == "kill":
                    self.broker.kill(fault.node)
                else:
                    self.broker.restart(fault.node)
            except DonkiError as exc:
                error = str(exc)
                self.problems.append(f"broker fault {fault.action} node {fault.node} at trigger {fault.trigger} "
                                     f"failed: {exc}")
            detail = {"action": fault.action, "node": fault.node, "ok": not error, "error": error,
                      "took_s": round(time.monotonic() - started, 3)}
            self.journal.record(EventKind.BROKER_FAULT, trigger=fault.trigger, detail=json.dumps(detail))
