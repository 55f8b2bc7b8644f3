"""Noticing, within a bounded time, that a Kafka cluster stopped answering.

librdkafka retries a dead broker for ever (a produce waits ``message.timeout.ms``, 5 min
by default), so a run whose broker died would sit until its ack deadlines add up. A
:class:`BrokerWatch` turns "no broker answered for ``grace_s``" into one
:class:`~harness.errors.BrokerLostError` that names the brokers. It is fed two ways:

- passively, as a client's ``error_cb``: librdkafka's ``_ALL_BROKERS_DOWN`` starts the
  clock and ``_TRANSPORT`` errors give the reason; the client calls :meth:`saw_broker`
  whenever a broker answered (a delivery, metadata), which stops the clock;
- actively, after :meth:`start`: a thread asks the cluster for metadata every
  ``interval_s`` and calls ``on_lost`` once, when the grace has passed.

Example (what a run pipeline does around the director's run)::

    with BrokerWatch(bootstrap, client_config).start(on_lost=lambda e: director.abort(str(e))) as watch:
        result = director.run(plan, check=False)
    watch.check()  # raises BrokerLostError when the run ended because the broker died
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from harness.errors import BrokerLostError
from harness.kafka.readiness import probe

if TYPE_CHECKING:
    from confluent_kafka import KafkaError

__all__ = ["BrokerWatch", "DEFAULT_GRACE_S", "PROBE_INTERVAL_S"]

#: how long no broker may answer before the run is ended
DEFAULT_GRACE_S = 10.0
#: how often the active watch asks for metadata
PROBE_INTERVAL_S = 1.0
_PROBE_TIMEOUT_S = 2.0
_DOWN_CODES = frozenset({"_ALL_BROKERS_DOWN"})
_REASON_CODES = frozenset({"_ALL_BROKERS_DOWN", "_TRANSPORT", "_RESOLVE", "_AUTHENTICATION", "_SSL"})
_LOG = logging.getLogger(__name__)


def _code_name(error: KafkaError | Any) -> str:
    name = getattr(error, "name", None)
    try:
        return str(name()) if callable(name) else ""
    except Exception:  # noqa: BLE001 - an error object from another client library: no code
        return ""


class BrokerWatch:
    """Whether the cluster at ``bootstrap`` still answers; see the module docstring.

    Thread-safe: librdkafka's callbacks, a player's delivery wait and the probing thread
    may all use one watch. Once lost, a watch stays lost (the run it guards has ended).
    """

    def __init__(self, bootstrap: str, client_config: Mapping[str, Any] | None = None, *,
                 grace_s: float = DEFAULT_GRACE_S, interval_s: float = PROBE_INTERVAL_S) -> None:
        self.bootstrap = bootstrap
        self.grace_s = grace_s
        self.interval_s = interval_s
        self._client = {k: v for k, v in (client_config or {}).items() if k != "bootstrap.servers"}
        self._lock = threading.Lock()
        self._down_since: float | None = None
        self._reason = ""
        self._lost: BrokerLostError | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._on_lost: Callable[[BrokerLostError], None] | None = None

    # -- passive feed --------------------------------------------------------------------

    def error_cb(self, error: KafkaError) -> None:
        """librdkafka's ``error_cb``: all brokers down starts the clock."""
        name = _code_name(error)
        if name in _REASON_CODES:
            with self._lock:
                self._reason = str(error) or name
        if name in _DOWN_CODES:
            self.saw_down(str(error) or name)

    def saw_down(self, reason: str) -> None:
        """No broker answered just now (the clock starts unless it runs already)."""
        with self._lock:
            if self._down_since is None:
                self._down_since = time.monotonic()
            self._reason = reason or self._reason

    def saw_broker(self) -> None:
        """A broker answered: the cluster is not lost (unless it was declared lost already)."""
        with self._lock:
            self._down_since = None

    @property
    def down_s(self) -> float | None:
        """Seconds since no broker answered, ``None`` while one does."""
        since = self._down_since
        return None if since is None else time.monotonic() - since

    @property
    def suspect(self) -> bool:
        """No broker answers now, but the grace has not passed yet."""
        return self._down_since is not None

    def lost(self) -> BrokerLostError | None:
        """The error once no broker answered for ``grace_s``, else ``None``."""
        with self._lock:
            if self._lost is None and self._down_since is not None:
                down_s = time.monotonic() - self._down_since
                if down_s >= self.grace_s:
                    self._lost = BrokerLostError(self.bootstrap, self._reason or "all brokers down", down_s)
            return self._lost

    def check(self, *, final: bool = False) -> None:
        """Raise :class:`~harness.errors.BrokerLostError` when the cluster is lost.

        ``final``: the guarded work has ended (perhaps because a player noticed the loss
        first), so a cluster that does not answer now counts as lost without more grace.
        """
        error = self.lost()
        if error is None and final and self.suspect:
            with self._lock:
                self._lost = BrokerLostError(self.bootstrap, self._reason or "all brokers down", self.down_s)
            error = self._lost
        if error is not None:
            raise error

    # -- active watch --------------------------------------------------------------------

    def start(self, on_lost: Callable[[BrokerLostError], None] | None = None) -> BrokerWatch:
        """Probe the cluster from a thread; ``on_lost(error)`` is called once, from it."""
        if self._thread is None:
            self._on_lost = on_lost
            self._stop.clear()
            self._thread = threading.Thread(target=self._watch, name="donki-broker-watch", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """End the probing thread (within one probe's timeout)."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(self.interval_s + _PROBE_TIMEOUT_S + 1.0)

    def __enter__(self) -> BrokerWatch:
        return self.start(self._on_lost)

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _watch(self) -> None:
        while True:
            health = probe(self.bootstrap, self._client, min(self.interval_s * 2, _PROBE_TIMEOUT_S))
            if health.ok:
                self.saw_broker()
            else:
                self.saw_down(health.detail)
            error = self.lost()
            if error is not None:
                self._report(error)
                return
            if self._stop.wait(self.interval_s):
                return

    def _report(self, error: BrokerLostError) -> None:
        _LOG.debug("%s", error)  # reported once, by whoever ends the run: not twice on stderr
        if self._on_lost is not None:
            try:
                self._on_lost(error)
            except Exception:  # noqa: BLE001 - a thread must not die silently: the error is logged
                _LOG.exception("on_lost of the broker watch failed")
