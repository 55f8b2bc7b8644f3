"""Data-save integrity (file writer): what was on Kafka inside the run is in the written file, exactly once.

The run's start (pl72, with its ``nexus_structure``) and stop (6s4t) come from the
recording of its control topic; the structure says which group holds which (topic,
source). Every ev44 pulse with events and every f144 value between start and stop
(inclusive, in ms) must be in its group once with the same values, plus for f144 the
newest value from before the start; nothing else may be there.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from harness.checks.result import CheckResult, Finding
from harness.records import KafkaRecord

__all__ = ["check_file_writer", "structure_modules", "RunStart"]

NS_PER_MS = 1_000_000
SHOWN = 5


@dataclass(frozen=True)
class RunStart:
    job_id: str
    start_ns: int
    stop_ns: int | None
    structure: str

    def inside(self, time_ns: int) -> bool:
        ms = int(time_ns) // NS_PER_MS
        return ms >= self.start_ns // NS_PER_MS and (self.stop_ns is None or ms <= self.stop_ns // NS_PER_MS)


def structure_modules(structure: str) -> Iterator[tuple[str, str, str, str]]:
    """(module, topic, source, group path) of every stream module of a kafka-to-nexus structure."""

    def walk(node: Any, path: str) -> Iterator[tuple[str, str, str, str]]:
        for child in node.get("children", []) if isinstance(node, dict) else []:
            if not isinstance(child, dict):
                continue
            raw = child.get("config")
            config: dict[str, Any] = raw if isinstance(raw, dict) else {}
            if "module" in child and "topic" in config and "source" in config:
                yield child["module"], str(config["topic"]), str(config["source"]), path or "/"
            elif child.get("type") == "group":
                yield from walk(child, f"{path}/{child.get('name')}")

    yield from walk(json.loads(structure), "")


def _run_start(records: list[KafkaRecord], job_id: str | None) -> RunStart | None:
    from streaming_data_types import deserialise_6s4t, deserialise_pl72

    start: RunStart | None = None
    stop_ns = None
    for r in records:
        if r.schema == "pl72":
            info = deserialise_pl72(r.value)
            if start is None and (job_id is None or info.job_id == job_id):
                start = RunStart(info.job_id, info.start_time * NS_PER_MS,
                                 info.stop_time * NS_PER_MS if info.stop_time else None, info.nexus_structure)
        elif r.schema == "6s4t":
            info = deserialise_6s4t(r.value)
            if start is not None and info.job_id == start.job_id and info.stop_time:
                stop_ns = info.stop_time * NS_PER_MS
    if start is not None and stop_ns is not None:
        start = RunStart(start.job_id, start.start_ns, stop_ns, start.structure)
    return start


def _expected_pulses(records: Iterable[KafkaRecord], topic: str, source: str, run: RunStart) -> Counter[Any]:
    from streaming_data_types import deserialise_ev44

    found: Counter[Any] = Counter()
    for r in records:
        if r.topic != topic or r.schema != "ev44":
            continue
        event = deserialise_ev44(r.value)
        if event.source_name != source:
            continue
        bounds = list(event.reference_time_index[1:]) + [len(event.time_of_flight)]
        for t0, first, last in zip(event.reference_time, event.reference_time_index, bounds, strict=True):
            if last > first and run.inside(int(t0)):
                found[(int(t0), event.pixel_id[first:last].tobytes(), event.time_of_flight[first:last].tobytes())] += 1
    return found


def _written_pulses(group: Any) -> Counter[Any]:
    found: Counter[Any] = Counter()
    if "event_time_zero" not in group:
        return found
    t0 = group["event_time_zero"][()]
    index = list(group["event_index"][()]) + [len(group["event_id"])]
    ids = group["event_id"][()].astype(np.int32)
    tofs = group["event_time_offset"][()].astype(np.int32)
    for i, t in enumerate(t0):
        found[(int(t), ids[index[i]:index[i + 1]].tobytes(), tofs[index[i]:index[i + 1]].tobytes())] += 1
    return found


def _expected_values(records: Iterable[KafkaRecord], topic: str, source: str, run: RunStart) -> Counter[Any]:
    from streaming_data_types import deserialise_f144

    inside: list[tuple[int, Any]] = []
    before: tuple[int, Any] | None = None
    for r in records:
        if r.topic != topic or r.schema != "f144":
            continue
        log = deserialise_f144(r.value)
        if log.source_name != source:
            continue
        t = int(log.timestamp_unix_ns)
        if t // NS_PER_MS < run.start_ns // NS_PER_MS:
            before = (t, log.value) if before is None or t >= before[0] else before
        elif run.inside(t) and (not inside or inside[-1][0] != t):
            inside.append((t, log.value))
    values = ([before] if before is not None else []) + inside
    return Counter((t, np.asarray(v).tobytes()) for t, v in values)


def _written_values(group: Any) -> Counter[Any]:
    if "time" not in group:
        return Counter()
    times, values = group["time"][()], group["value"][()]
    return Counter((int(t), np.asarray(v).tobytes()) for t, v in zip(times, values, strict=False))


def _compare(what: str, expected: Counter[Any], written: Counter[Any], findings: list[Finding], topic: str) -> None:
    missing, extra = expected - written, written - expected
    for label, items in (("on Kafka inside the run but not in the file", missing),
                         ("in the file but not on Kafka inside the run", extra)):
        for key in sorted(items)[:SHOWN]:
            findings.append(Finding(f"{what}: entry at {key[0]} ns ({key[0] // NS_PER_MS} ms) is {label}"
                                    f"{'' if items[key] == 1 else f' ({items[key]} times)'}", topic=topic))
        if len(items) > SHOWN:
            findings.append(Finding(f"{what}: {len(items) - SHOWN} more entries {label}", topic=topic))


def check_file_writer(records: Iterable[KafkaRecord], path: str | Path, *, job_id: str | None = None,
                      run: RunStart | None = None) -> CheckResult:
    """Compare a file written for a run with the run's messages (full records, payloads included).

    The run (window and structure) is the first pl72 among ``records`` (of ``job_id`` if
    given) with its 6s4t's stop, unless ``run`` gives it.
    """
    import h5py

    ordered = sorted(records, key=lambda r: (r.topic, r.partition, r.offset))
    run = run or _run_start(ordered, job_id)
    if run is None:
        return CheckResult("file-writer", (Finding("no run start (pl72) among the messages: nothing says what "
                                                   "the file should hold"),), {}, checked=0)
    findings: list[Finding] = []
    counts: dict[str, int] = {}
    with h5py.File(path, "r") as h5:
        for module, topic, source, group_path in structure_modules(run.structure):
            what = f"{module} source {source!r} (topic {topic}) in {path}:{group_path}"
            if group_path not in h5:
                findings.append(Finding(f"{what}: the group is missing", topic=topic))
                continue
            if module == "ev44":
                expected, written = _expected_pulses(ordered, topic, source, run), _written_pulses(h5[group_path])
            elif module == "f144":
                expected, written = _expected_values(ordered, topic, source, run), _written_values(h5[group_path])
            else:
                continue
            counts[f"{module}:{source}"] = sum(expected.values())
            _compare(what, expected, written, findings, topic)
    metrics = {"file": str(path), "job_id": run.job_id, "start_ms": run.start_ns // NS_PER_MS,
               "stop_ms": None if run.stop_ns is None else run.stop_ns // NS_PER_MS, "entries": counts}
    return CheckResult("file-writer", tuple(findings), metrics, checked=sum(counts.values()))
