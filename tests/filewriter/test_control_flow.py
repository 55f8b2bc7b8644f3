"""The file-writer double end to end on a real broker: pl72 -> answ -> x5f2 -> data -> 6s4t -> wrdn."""

from __future__ import annotations

import json
import time

import h5py
import numpy as np
import pytest
from fwhelpers import MS, Client, structure
from streaming_data_types.fbschemas.action_response_answ.ActionOutcome import ActionOutcome
from streaming_data_types.fbschemas.action_response_answ.ActionType import ActionType


@pytest.fixture
def setup(donki_kafka, donki_topics, donki_file_writer, tmp_path):
    pool, control = donki_topics("pool"), donki_topics("control")
    events, logs = donki_topics("events"), donki_topics("logs")
    writer = donki_file_writer(pool, tmp_path, status_interval_s=0.3, stop_leeway_s=0.5)
    client = Client(donki_kafka, pool, control)
    yield client, writer, events, logs, tmp_path
    client.close()


def test_start_status_data_stop_finished_and_the_file_value_by_value(setup):
    client, writer, events, logs, out = setup
    t0 = (time.time_ns() // MS - 5_000) * MS  # the run began 5 s ago: data already on Kafka are kept
    client.log(logs, 280.0, t0 - 2_000 * MS)  # older than the newest one before the start
    client.log(logs, 290.0, t0 - 1_000 * MS)  # the newest value before the start: written too
    client.event(events, 0, t0 - 1 * MS, [9, 9])  # before the start: dropped
    sent = [client.event(events, i, t0 + i * 100 * MS, [1, 2, 3, 4][: i % 4 + 1]) for i in range(1, 6)]
    client.event(events, 6, t0 + 600 * MS, [])  # no events: no pulse
    client.log(logs, 300.0, t0 + 100 * MS)
    client.log(logs, 301.0, t0 + 100 * MS)  # repeated timestamp: dropped
    client.log(logs, 302.0, t0 + 200 * MS)
    client.start("job-1", "run1.nxs", t0, structure(events, logs), metadata='{"proposal": 42}')

    _, _, answer = client.answer("job-1")
    assert (answer.outcome, answer.action, answer.job_id) == (ActionOutcome.Success, ActionType.StartJob, "job-1")
    topic, _, status = client.wait_for(lambda i: i[1] == "x5f2" and json.loads(i[2].status_json).get("job_id"))
    state = json.loads(status.status_json)
    assert topic == client.control and state["state"] == "writing" and state["file_being_written"] == "run1.nxs"

    stop_ns = t0 + 700 * MS
    client.event(events, 7, stop_ns + 1 * MS, [4])  # after the stop: dropped, and shows the partition passed it
    client.log(logs, 303.0, stop_ns + 1 * MS)
    client.stop("job-1", "stop-cmd-1", stop_ns)
    _, _, stopped = client.answer("stop-cmd-1")
    assert (stopped.outcome, stopped.action, stopped.job_id) == (ActionOutcome.Success, ActionType.SetStopTime,
                                                                 "job-1")
    _, _, done = client.finished("job-1")
    assert not done.error_encountered and done.file_name == "run1.nxs" and json.loads(done.metadata) == {
        "proposal": 42}

    with h5py.File(out / "run1.nxs", "r") as f:
        assert f["entry"].attrs["NX_class"] == "NXentry" and f["entry/title"][()] == b"donki test"
        det = f["entry/instrument/detector"]
        assert list(det["detector_number"][()]) == [1, 2, 3, 4]
        ev = det["events"]
        assert ev.attrs["NX_class"] == "NXevent_data"
        assert list(ev["event_time_zero"][()]) == [t0 + i * 100 * MS for i in range(1, 6)]
        assert ev["event_time_zero"].attrs["units"] == "ns" and ev["event_time_offset"].dtype == np.int32
        assert list(ev["event_index"][()]) == [0, 2, 5, 9, 10]
        assert np.array_equal(ev["event_time_offset"][()], np.concatenate([tof for tof, _ in sent]))
        assert np.array_equal(ev["event_id"][()], np.concatenate([pixels for _, pixels in sent]))
        log = f["entry/instrument/temperature"]
        assert list(log["value"][()]) == [290.0, 300.0, 302.0] and log["value"].attrs["units"] == "K"
        assert list(log["time"][()]) == [t0 - 1_000 * MS, t0 + 100 * MS, t0 + 200 * MS]


def test_a_start_in_the_future_stops_by_its_own_stop_time(setup):
    client, writer, events, logs, out = setup
    t0 = (time.time_ns() // MS + 1_500) * MS
    client.event(events, 0, t0 - 100 * MS, [1])  # before the (future) start
    client.start("job-f", "future.nxs", t0, structure(events, logs), stop_ns=t0 + 500 * MS)
    assert client.answer("job-f")[2].outcome == ActionOutcome.Success
    client.event(events, 1, t0 + 100 * MS, [2, 3])
    client.event(events, 2, t0 + 500 * MS + 999_999, [4])  # the stop's millisecond is inside
    client.event(events, 3, t0 + 501 * MS, [1])
    _, _, done = client.finished("job-f", timeout_s=30)
    assert not done.error_encountered, done.message
    with h5py.File(out / "future.nxs", "r") as f:
        ev = f["entry/instrument/detector/events"]
        assert list(ev["event_id"][()]) == [2, 3, 4]
        assert "value" not in f["entry/instrument/temperature"]  # no log message at all: nothing invented


def test_stop_time_zero_means_now(setup):
    client, writer, events, logs, out = setup
    client.start("job-now", "now.nxs", time.time_ns(), structure(events, logs))
    assert client.answer("job-now")[2].outcome == ActionOutcome.Success
    before = time.time_ns() // MS
    client.stop("job-now", "stop-now", 0)
    answer = client.answer("stop-now")[2]
    assert answer.outcome == ActionOutcome.Success
    assert before <= round(answer.stop_time.timestamp() * 1000) <= time.time_ns() // MS  # answ carries ms
    assert not client.finished("job-now")[2].error_encountered


def test_two_jobs_at_once_write_their_own_windows(setup):
    client, writer, events, logs, out = setup
    t0 = (time.time_ns() // MS - 3_000) * MS
    for i in range(10):
        client.event(events, i, t0 + i * 100 * MS, [i])
    client.start("job-a", "a.nxs", t0, structure(events, logs), stop_ns=t0 + 400 * MS)
    client.start("job-b", "b.nxs", t0 + 300 * MS, structure(events, logs), stop_ns=t0 + 900 * MS)
    client.event(events, 10, t0 + 2_000 * MS, [99])
    for job in ("job-a", "job-b"):
        assert client.answer(job)[2].outcome == ActionOutcome.Success
        assert not client.finished(job)[2].error_encountered
    with h5py.File(out / "a.nxs", "r") as a, h5py.File(out / "b.nxs", "r") as b:
        assert list(a["entry/instrument/detector/events/event_id"][()]) == [0, 1, 2, 3, 4]
        assert list(b["entry/instrument/detector/events/event_id"][()]) == [3, 4, 5, 6, 7, 8, 9]


def test_ad00_images_and_da00_variables_with_their_units(setup):
    from streaming_data_types import serialise_ad00, serialise_da00
    from streaming_data_types.dataarray_da00 import Variable

    client, writer, events, logs, out = setup
    t0 = (time.time_ns() // MS - 2_000) * MS
    for i in range(3):
        image = np.full((2, 3), i, dtype=np.uint16)
        client.send(events, serialise_ad00("cam", i, t0 + i * MS, image), t0 + i * MS)
        spectrum = [Variable(name="signal", data=np.arange(4.0) * i, axes=["tof"], unit="counts"),
                    Variable(name="tof", data=np.arange(5.0), axes=["tof"], unit="ns")]
        client.send(logs, serialise_da00("mon", t0 + i * MS, spectrum), t0 + i * MS)
    nx = lambda cls: [{"name": "NX_class", "dtype": "string", "values": cls}]  # noqa: E731 - a one-line table
    layout = json.dumps({"children": [{"type": "group", "name": "entry", "attributes": nx("NXentry"), "children": [
        {"type": "group", "name": "camera", "attributes": nx("NXdetector"), "children": [
            {"module": "ad00", "config": {"source": "cam", "topic": events}}]},
        {"type": "group", "name": "monitor", "attributes": nx("NXmonitor"), "children": [
            {"module": "da00", "config": {"source": "mon", "topic": logs}}]}]}]})
    client.start("job-arrays", "arrays.nxs", t0 + 1 * MS, layout, stop_ns=t0 + 2 * MS)
    assert client.answer("job-arrays")[2].outcome == ActionOutcome.Success
    assert not client.finished("job-arrays")[2].error_encountered
    with h5py.File(out / "arrays.nxs", "r") as f:
        camera, monitor = f["entry/camera"], f["entry/monitor"]
        assert camera["value"].shape == (2, 2, 3) and camera["value"][1, 0, 0] == 2
        assert list(camera["time"][()]) == [t0 + MS, t0 + 2 * MS]
        assert monitor["signal"].attrs["units"] == "counts" and monitor["tof"].attrs["units"] == "ns"
        assert np.array_equal(monitor["signal"][()], [np.arange(4.0), np.arange(4.0) * 2])
