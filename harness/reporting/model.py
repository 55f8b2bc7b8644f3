"""What a report shows about one scenario run, independent of how it is rendered.

A report is written as JSON with a ``schema`` number so that runs of different days and
software versions can be compared (:func:`RunReport.from_dict` reads it back, also the
unversioned reports written before the schema existed).
"""

from __future__ import annotations

import platform
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from importlib import metadata
from typing import Any

from harness.errors import ConfigError

__all__ = ["SCHEMA", "UNRATED_BELOW", "RunReport", "StreamRow", "package_versions"]

#: Version of the report JSON; bumped when a field changes meaning or goes away.
SCHEMA = 2
#: A stream with fewer messages than this has no rate worth drawing (run control: start and stop).
UNRATED_BELOW = 3
#: Packages whose versions a report records (besides Python); missing ones are left out.
VERSIONED = ("pytest-donki", "confluent-kafka", "ess-streaming-data-types", "numpy", "h5py", "pyzmq", "pytest")


def package_versions() -> dict[str, str]:
    """The versions of Python, this package and the libraries that shape a run's figures."""
    versions = {"python": platform.python_version()}
    for name in VERSIONED:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    try:
        import confluent_kafka

        versions["librdkafka"] = confluent_kafka.libversion()[0]
    except ImportError:
        pass
    return versions


@dataclass(frozen=True)
class StreamRow:
    """One line of the per-stream summary table."""

    stream: str
    player: str
    messages: int
    bytes: int
    nominal_hz: float
    achieved_hz: float | None
    ack_p99_s: float | None
    integrity: str  # "ok", or the first problem in a few words

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StreamRow:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class RunReport:
    """A scenario run as reports see it.

    ``trigger_times`` holds, per stream, the time (s) of each trigger's first message (the
    rate series are computed from it); ``ack_latencies_s`` per player. A report read back
    from JSON has no trigger times but its ``rate_series`` (window centres and rates).
    ``levels`` maps a player to its priority level, so latency is shown per level.
    """

    scenario: str
    ok: bool
    rows: list[StreamRow]
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> CheckResult.to_dict()
    trigger_times: dict[str, list[float]] = field(default_factory=dict)
    ack_latencies_s: dict[str, list[float]] = field(default_factory=dict)
    recording: str | None = None
    golden: dict[str, Any] | None = None  # {"path": ..., "action": "compared"|"written"|..., "passed": bool}
    extra: dict[str, Any] = field(default_factory=dict)
    test_id: str | None = None
    started: str | None = None  # ISO 8601, UTC
    versions: dict[str, str] = field(default_factory=dict)
    broker: dict[str, Any] = field(default_factory=dict)  # {"bootstrap": ..., "kind": ..., "kafka": version}
    levels: dict[str, int] = field(default_factory=dict)
    rate_series: dict[str, dict[str, list[float]]] = field(default_factory=dict)  # stream -> {"t": .., "hz": ..}
    reported: str | None = None  # when the report was written (ISO 8601, UTC)

    @property
    def verdicts(self) -> dict[str, bool]:
        """Check name -> passed."""
        return {name: bool(c.get("passed")) for name, c in self.checks.items()}

    @property
    def date(self) -> str:
        """The run's start time, else the report's, as shown in headers."""
        return self.started or self.reported or "-"

    def rate_of(self, stream: str) -> dict[str, Any]:
        """The rates check's figures for ``stream`` (nominal, achieved, tolerance...), or ``{}``."""
        metrics = self.checks.get("rates", {}).get("metrics", {})
        value = metrics.get(stream)
        return value if isinstance(value, dict) else {}

    def failed_streams(self) -> set[str]:
        """Streams named by a finding of the rates check."""
        findings = self.checks.get("rates", {}).get("findings", [])
        return {f["stream"] for f in findings if f.get("stream")}

    def series(self) -> dict[str, dict[str, list[float]]]:
        """Per stream, the rate over time (``t`` from the run's first trigger, ``hz``)."""
        if self.rate_series or not self.trigger_times:
            return self.rate_series
        from harness.reporting.series import rate_series_of

        return rate_series_of(self.trigger_times)

    def stamp(self) -> RunReport:
        """Fill ``versions`` and ``reported`` where the caller gave none; returns self."""
        if not self.versions:
            self.versions = package_versions()
        if self.reported is None:
            self.reported = datetime.now(UTC).isoformat(timespec="seconds")
        return self

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.extra,
            "schema": SCHEMA,
            "test_id": self.test_id,
            "scenario": self.scenario,
            "ok": self.ok,
            "started": self.started,
            "reported": self.reported,
            "versions": self.versions,
            "broker": self.broker,
            "streams": [r.to_dict() for r in self.rows],
            "checks": self.checks,
            "recording": self.recording,
            "golden": self.golden,
            "levels": self.levels,
            "series": {"rates": self.series(), "ack_latency_s": self.ack_latencies_s},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "report") -> RunReport:
        """A report read back from :meth:`to_dict`'s JSON (schema 1, without a number, too)."""
        schema = data.get("schema", 1)
        if not isinstance(schema, int) or schema > SCHEMA:
            raise ConfigError(f"{source}: report schema {schema!r} is newer than this pytest-donki reads "
                              f"({SCHEMA}); upgrade pytest-donki")
        try:
            series = data.get("series") or {}
            own = {"schema", "test_id", "scenario", "ok", "started", "reported", "versions", "broker", "streams",
                   "checks", "recording", "golden", "levels", "series"}
            return cls(
                scenario=data["scenario"], ok=bool(data["ok"]),
                rows=[StreamRow.from_dict(r) for r in data.get("streams", [])], checks=data.get("checks") or {},
                ack_latencies_s=series.get("ack_latency_s") or {}, recording=data.get("recording"),
                golden=data.get("golden"), extra={k: v for k, v in data.items() if k not in own},
                test_id=data.get("test_id"), started=data.get("started"), versions=data.get("versions") or {},
                broker=data.get("broker") or {}, levels=data.get("levels") or {},
                rate_series=series.get("rates") or {}, reported=data.get("reported"))
        except (KeyError, TypeError, AttributeError) as exc:
            raise ConfigError(f"{source}: not a donki run report ({type(exc).__name__}: {exc}); expected the "
                              "JSON that pytest --donki-report DIR writes") from None
