"""The NeXus-views check against real recording files."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from streaming_data_types import serialise_ev44, serialise_f144

from harness.checks.views import check_views
from harness.recording import Recording
from harness.recording.writer.writer import RecordingWriter
from harness.records import KafkaRecord

T0 = 1_700_000_000_000_000_000


def ev44(message_id: int, events: int) -> bytes:
    rng = np.random.default_rng(message_id)
    return serialise_ev44("loki_detector", message_id, [T0 + message_id * 71_428_571], [0],
                          rng.integers(0, 71_000_000, events), rng.integers(1, 4096, events))


def f144(i: int) -> bytes:
    return serialise_f144("sample:temperature", 295.0 + 0.01 * i, T0 + i * 1_000_000_000)


@pytest.fixture()
def recording_path(tmp_path):
    path = tmp_path / "run.h5"
    writer = RecordingWriter(path, topics=["loki_detector", "loki_env"])
    for i in range(6):
        events = 0 if i == 3 else 500 + i  # a pulse without events adds no event_time_zero entry
        writer.append(KafkaRecord("loki_detector", 0, i, T0 // 1_000_000, 1, None, ev44(i, events), (), 1.0))
        writer.append(KafkaRecord("loki_env", 0, i, T0 // 1_000_000, 1, None, f144(i), (), 1.0))
    writer.close(views=True)
    return path


def test_views_written_from_the_raw_log_pass(recording_path):
    with Recording(recording_path) as recording:
        result = check_views(recording)
    assert result.passed, result.report()
    assert result.checked == 2 and result.metrics["views"] == 2


def test_a_changed_event_in_a_view_is_named_with_its_message(recording_path):
    with h5py.File(recording_path, "r+") as h5:
        [events] = [g for g in _groups(h5) if g.attrs["NX_class"] == "NXevent_data"]
        events["event_id"][700] += 1  # an event of the second message (501 + 502 events before)
    with Recording(recording_path) as recording:
        [finding] = check_views(recording).findings
    assert finding.message.startswith("ev44 source 'loki_detector' on topic loki_detector: ")
    assert "/event_id differs from the raw log at topic loki_detector partition 0 offset 1" in finding.message


def test_a_log_value_changed_in_a_view_is_named(recording_path):
    with h5py.File(recording_path, "r+") as h5:
        [log] = [g for g in _groups(h5) if g.attrs["NX_class"] == "NXlog"]
        log["value"][4] = -1.0
    with Recording(recording_path) as recording:
        [finding] = check_views(recording).findings
    assert "f144 source 'sample:temperature'" in finding.message and "offset 4" in finding.message


def test_a_recording_without_views_says_so(tmp_path):
    path = tmp_path / "bare.h5"
    writer = RecordingWriter(path, topics=["loki_env"])
    writer.append(KafkaRecord("loki_env", 0, 0, 1, 1, None, f144(0), (), 1.0))
    writer.close(views=False)
    with Recording(path) as recording:
        [finding] = check_views(recording).findings
    assert finding.message == f"f144 source 'sample:temperature' on topic loki_env: no NeXus view in {path}"


def _groups(h5):
    found = []
    h5["entry"].visititems(lambda _n, obj: found.append(obj) if "NX_class" in getattr(obj, "attrs", {}) and
                           obj.attrs["NX_class"] in ("NXevent_data", "NXlog") else None)
    return found
