"""The double's stream modules on a real HDF5 file: windows, empty pulses, repeated log times, trimming."""

from __future__ import annotations

import h5py
import numpy as np
from streaming_data_types import deserialise_ev44, deserialise_f144, serialise_ev44, serialise_f144

from harness.filewriter.modules import EventModule, LogModule
from harness.filewriter.structure import StreamModule

MS = 1_000_000
T0 = 1_700_000_000_000 * MS


def pulse(i, ids):
    ids = np.asarray(ids, dtype=np.int32)
    return deserialise_ev44(serialise_ev44("det", i, [T0 + i * 10 * MS], [0], ids * 100, ids))


def test_events_written_before_the_stop_was_known_are_trimmed_to_it(tmp_path):
    with h5py.File(tmp_path / "f.nxs", "w") as f:
        module = EventModule(f.create_group("events"), StreamModule("ev44", "t", "det", "/events"))
        for i, ids in enumerate([[1, 2], [], [3], [4, 5, 6], [7]]):
            module.write(pulse(i, ids), T0, None)  # the stop is not known yet
        module.trim(T0 + 30 * MS)  # then the 6s4t said: stop at pulse 3, inclusive
        module.flush()
        group = f["events"]
        assert list(group["event_time_zero"][()]) == [T0, T0 + 20 * MS, T0 + 30 * MS]  # pulse 1 had no events
        assert list(group["event_index"][()]) == [0, 2, 3]
        assert list(group["event_id"][()]) == [1, 2, 3, 4, 5, 6]
        assert list(group["event_time_offset"][()]) == [100, 200, 300, 400, 500, 600]


def test_logs_keep_the_newest_value_before_the_start_drop_repeats_and_trim(tmp_path):
    with h5py.File(tmp_path / "f.nxs", "w") as f:
        spec = StreamModule("f144", "t", "temp", "/log", {"value_units": "K"})
        module = LogModule(f.create_group("log"), spec)
        start, stop = T0 + 10 * MS, T0 + 30 * MS
        for value, time_ns in [(1.0, T0), (2.0, T0 + 5 * MS), (3.0, start), (4.0, start), (5.0, T0 + 40 * MS)]:
            module.write(deserialise_f144(serialise_f144("temp", value, time_ns)), start, None)
        module.finish()
        module.trim(stop)
        module.flush()
        assert list(f["log/value"][()]) == [2.0, 3.0] and f["log/value"].attrs["units"] == "K"
        assert list(f["log/time"][()]) == [T0 + 5 * MS, start]


def test_answ_carries_the_stop_time_to_the_millisecond():
    from streaming_data_types.fbschemas.action_response_answ.ActionResponse import ActionResponse

    from harness.filewriter.messages import answ

    for ms in (1_795_971_234_567, 1_700_000_000_001, 0):  # the first came out 1 ms early through a float
        payload = answ("s", "job", "cmd", start=False, ok=True, message="m", stop_time_ms=ms)
        assert ActionResponse.GetRootAsActionResponse(payload, 0).StopTime() == ms
