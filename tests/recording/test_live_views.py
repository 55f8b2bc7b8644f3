"""NeXus views built while recording: a prompt close, the same views as decoding the raw log, crash-safe."""

from __future__ import annotations

import shutil
import sys
import time

import h5py
import numpy as np
from recording_helpers import (
    T0_MS,
    ev44,
    f144,
    kill_while_streaming,
    produce_records,
    records_left_by_kill,
    wait_for_messages,
)

from harness.procs import spawn
from harness.recording.decode import decode_payload
from harness.recording.reader.reader import open_recording
from harness.recording.writer.copying import recover
from harness.recording.writer.nexus import write_views
from harness.recording.writer.recorder import Recorder
from harness.records import KafkaRecord

EVENTS = 250_000  # per pulse: 40 pulses are 80 MB of ev44, which took seconds to decode at close
PULSES = 40
#: Closing only finalises counts and attributes; decoding 80 MB at close took longer than this.
CLOSE_BOUND_S = 2.0


def pulse_records(topic: str, logs: str, first: int, count: int, sources: int = 2) -> list[KafkaRecord]:
    out = []
    for i in range(first, first + count):
        ns = (T0_MS + 71 * i) * 10**6
        source = f"detector_{i % sources}"
        out.append(KafkaRecord(topic, 0, i, T0_MS + 71 * i, 1, None, ev44(source, i, ns, EVENTS if i % 7 else 0), ()))
        out.append(KafkaRecord(logs, 0, i, T0_MS + 71 * i, 1, None, f144("motor:x", np.float64(i / 4), ns), ()))
    return out


def decoded_views(recording) -> dict[str, dict[str, np.ndarray]]:
    """What the views must hold, decoded from the raw messages: per source, the view columns."""
    views: dict[str, dict[str, list]] = {}
    totals: dict[str, int] = {}
    for record in recording.records():
        data = decode_payload(record.value)
        if record.schema == "ev44":
            view = views.setdefault(data.source_name, {"event_time_offset": [], "event_id": [],
                                                        "event_time_zero": [], "event_index": []})
            view["event_time_offset"].append(data.time_of_flight)
            view["event_id"].append(data.pixel_id)
            if len(data.time_of_flight):
                view["event_time_zero"].append(data.reference_time)
                view["event_index"].append(np.asarray(data.reference_time_index) + totals.get(data.source_name, 0))
                totals[data.source_name] = totals.get(data.source_name, 0) + len(data.time_of_flight)
        elif record.schema == "f144":
            view = views.setdefault(data.source_name, {"time": [], "value": []})
            view["time"].append([data.timestamp_unix_ns])
            view["value"].append([data.value])
    return {source: {name: np.concatenate(parts) if parts else np.array([]) for name, parts in columns.items()}
            for source, columns in views.items()}


def assert_views_hold_the_decoded_messages(path) -> None:
    with open_recording(path) as recording:
        expected = decoded_views(recording)
        instrument = recording.h5["entry/instrument"]
        assert set(instrument) == set(expected)
        for source, columns in expected.items():
            group = instrument[source]
            group = group.get("events", group)
            for name, values in columns.items():
                np.testing.assert_array_equal(group[name][:], values, err_msg=f"{source}/{name}")


def entry_contents(h5) -> dict[str, object]:
    """Every dataset (values, dtype) and attribute under /entry, by path."""
    out: dict[str, object] = {}

    def visit(name, obj):
        for key, value in obj.attrs.items():
            out[f"{name}@{key}"] = value.tolist() if isinstance(value, np.ndarray) else value
        if isinstance(obj, h5py.Dataset):
            out[name] = np.asarray(obj[()]).tolist()
            out[f"{name}:dtype"] = str(obj.dtype)

    h5["entry"].visititems(visit)
    for key, value in h5["entry"].attrs.items():
        out[f"@{key}"] = value
    return out


def events_seen_live(path, expected: int, timeout_s: float = 30.0) -> int:
    """Events in the views of a recording being written, as a SWMR reader sees them (waits for ``expected``)."""
    deadline, seen = time.monotonic() + timeout_s, -1
    while time.monotonic() < deadline and seen < expected:
        try:
            with h5py.File(path, "r", swmr=True) as live:
                instrument = live["entry/instrument"]
                seen = sum(instrument[name]["events/event_time_offset"].shape[0] for name in instrument
                           if "events" in instrument[name])
        except (OSError, KeyError):  # between a flush and the next, or while a new source's groups are made
            pass
        time.sleep(0.1)
    return seen


def test_the_close_is_prompt_and_the_views_equal_the_close_time_decoder(donki_kafka, donki_topics, tmp_path):
    events, logs = donki_topics.create("loki_detector"), donki_topics.create("loki_motion")
    path = tmp_path / "live.h5"
    recorder = Recorder(path, [events, logs], donki_kafka.client_config, flush_interval_s=0.2).start()
    try:
        first = pulse_records(events, logs, 0, PULSES // 2)
        produce_records(donki_kafka.client_config, first)
        assert recorder.wait_for(len(first), 60)
        # a SWMR reader sees the views grow while the recorder runs: they are not left to the close
        assert events_seen_live(path, EVENTS * 17) == EVENTS * 17  # 3 of the 20 pulses are empty
        produce_records(donki_kafka.client_config, pulse_records(events, logs, PULSES // 2, PULSES // 2, sources=3))
        assert recorder.wait_for(2 * PULSES, 60)
        assert events_seen_live(path, EVENTS * 34) == EVENTS * 34
    finally:
        t0 = time.perf_counter()
        stats = recorder.stop()
        closed_after = time.perf_counter() - t0
    assert stats.messages == 2 * PULSES
    assert closed_after < CLOSE_BOUND_S, f"closing took {closed_after:.2f} s"
    assert_views_hold_the_decoded_messages(path)
    rebuilt = tmp_path / "rebuilt.h5"
    shutil.copy(path, rebuilt)
    with h5py.File(rebuilt, "r+") as h5:
        write_views(h5, str(rebuilt))  # the close-time decoder, from the raw log
    with h5py.File(path, "r") as live, h5py.File(rebuilt, "r") as again:
        assert entry_contents(live) == entry_contents(again)
        assert int(live["entry/instrument/detector_0/events"].attrs["events"]) > 0


def test_a_killed_recorder_leaves_raw_messages_that_recover_into_full_views(donki_kafka, donki_topics, tmp_path):
    events, logs = donki_topics.create("loki_detector"), donki_topics.create("loki_motion")
    path = tmp_path / "killed.h5"
    child = spawn("recorder", [sys.executable, "-m", "harness", "record", "-b", donki_kafka.bootstrap_servers,
                               "-t", events, "-t", logs, "-o", str(path), "--flush-interval", "0.2", "--quiet"],
                  tmp_path / "recorder.log")
    sent = pulse_records(events, logs, 0, 10)
    try:
        produce_records(donki_kafka.client_config, sent)
        flushed = wait_for_messages(path, len(sent), timeout_s=30)
        # new sources keep appearing: the views' groups are created while it is killed
        kill_while_streaming(child, path, donki_kafka.client_config,
                             lambda at: pulse_records(events, logs, at, 5, sources=at), first=10, step=5,
                             until=flushed + 20)
    finally:
        child.stop()
    got = records_left_by_kill(path)
    assert len(got) >= flushed + 20
    by_topic = {topic: [r for r in got if r.topic == topic] for topic in (events, logs)}
    for records in by_topic.values():
        assert [r.offset for r in records] == list(range(len(records)))
    assert [r.value for r in by_topic[events][:10]] == [r.value for r in sent if r.topic == events]
    recovered = recover(path)
    assert_views_hold_the_decoded_messages(recovered)


def test_small_messages_are_decoded_in_the_recorders_spare_time_and_all_by_the_close(tmp_path):
    from harness.recording.writer.liveviews import ViewBuilder, make_entry

    payloads = [f144("motor:y", np.int32(i), T0_MS * 10**6 + i) for i in range(20_000)]
    with h5py.File(tmp_path / "v.h5", "w") as h5:
        make_entry(h5)
        builder = ViewBuilder(h5)
        builder.add(["f144"] * len(payloads), ["loki_motion"] * len(payloads), payloads)
        builder.catch_up()  # had hardly any time: a step, not a flood's worth of decoding (about 0.5 s)
        assert 0 < builder.pending < len(payloads)
        builder.drain()
        assert builder.pending == 0
        counts = builder.finish(h5, {"started": 1.7e9}, {"motor:y": "mm"}, {})
        log = h5["entry/instrument/motor:y"]
        assert counts == {log.name: len(payloads)}
        np.testing.assert_array_equal(log["value"][:], np.arange(len(payloads), dtype=np.int32))
        np.testing.assert_array_equal(log["time"][:], T0_MS * 10**6 + np.arange(len(payloads)))
        assert log["value"].attrs["units"] == "mm" and float(log["maximum_value"][()]) == len(payloads) - 1


HOLD = """
import sys, time, h5py
with h5py.File(sys.argv[1], "r+", libver="latest"):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def _held(path, seconds):
    """A process holding ``path`` open for writing out of SWMR mode, as a live recorder does while it adds a
    new source's view groups; returned once it holds the file."""
    import subprocess

    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(path), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_file_held_for_writing_an_instant_opens_once_released_and_is_never_called_damaged(tmp_path, monkeypatch):
    from harness.errors import RecordingError
    from harness.recording.reader import reader
    from harness.recording.writer.writer import RecordingWriter

    path = tmp_path / "live.h5"
    with RecordingWriter(path) as writer:
        writer.append(KafkaRecord("t", 0, 0, T0_MS, 1, None, b"x", ()))
    holder = _held(path, 0.7)
    try:
        started = time.monotonic()
        with open_recording(path) as recording:  # waits for the lock the writer holds, then reads
            assert len(recording) == 1
        assert time.monotonic() - started > 0.3
    finally:
        holder.wait(10)
    monkeypatch.setattr(reader, "LOCKED_WAIT_S", 0.3)
    holder = _held(path, 5)
    try:
        try:
            open_recording(path)
        except RecordingError as exc:
            message = str(exc)
        else:
            raise AssertionError("a file held for writing opened")
        assert "held open for writing (not in SWMR mode)" in message and "damaged" not in message
    finally:
        holder.kill()
        holder.wait(10)
