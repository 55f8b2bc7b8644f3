"""Timing invariants on literal message lists: data times per source, Kafka timestamps, run windows."""

import numpy as np
from literal_streams import record
from streaming_data_types import serialise_6s4t, serialise_ev44, serialise_f144, serialise_pl72

from harness.checks import check_ordering
from harness.checks.timing import check_run_window, in_window

T0 = 1_700_000_000_000_000_000  # ns


def f144(seq, time_ns, *, ts_ms=None, source="temp"):
    payload = serialise_f144(source, float(seq), time_ns)
    return record("a-scalar", seq, seq, payload, ts_ms=time_ns // 1_000_000 if ts_ms is None else ts_ms)


def test_monotone_times_with_matching_kafka_timestamps_pass():
    result = check_ordering([f144(i, T0 + i * 1_000_000) for i in range(5)])
    assert result.passed, result.report()
    assert result.metrics["timed_messages"] == 5


def test_a_step_back_names_source_offset_and_both_times():
    times = [T0, T0 + 2_000_000, T0 + 1_000_000, T0 + 3_000_000]
    result = check_ordering([f144(i, t) for i, t in enumerate(times)])
    [finding] = result.findings
    assert finding.offset == 2
    assert "'temp'" in finding.message and str(T0 + 1_000_000) in finding.message
    assert "1.000 ms before" in finding.message and "offset 1" in finding.message


def test_equal_times_are_allowed_and_sources_are_apart():
    records = [f144(0, T0), f144(1, T0), f144(2, T0 - 5_000_000, source="other")]
    assert check_ordering(records).passed


def test_kafka_timestamp_differing_from_the_data_time_fails():
    result = check_ordering([f144(0, T0 + 999_999, ts_ms=T0 // 1_000_000 + 1)])
    [finding] = result.findings
    assert "Kafka timestamp" in finding.message and "by 1 ms" in finding.message


def _control(seq, payload, time_ms):
    return record("run-control", seq, seq, payload, topic="control", ts_ms=time_ms)


def _run(start_ns, stop_ns):
    start = _control(0, serialise_pl72("job", "f.nxs", start_time=start_ns // 1_000_000), start_ns // 1_000_000)
    stop = _control(1, serialise_6s4t("job", stop_time=stop_ns // 1_000_000, command_id="c"), stop_ns // 1_000_000)
    return [start, stop]


def test_data_inside_the_run_pass_inclusive_of_the_stop_millisecond():
    data = [f144(0, T0), f144(1, T0 + 10_000_000 + 999_999)]
    result = check_run_window(_run(T0, T0 + 10_000_000) + data)
    assert result.passed, result.report()
    assert result.checked == 2


def test_data_after_the_stop_fail_naming_source_and_run():
    data = [f144(0, T0 + 5_000_000), f144(1, T0 + 11_000_000)]
    result = check_run_window(_run(T0, T0 + 10_000_000) + data)
    [finding] = result.findings
    assert finding.offset == 1 and "'temp'" in finding.message and "run 'job'" in finding.message


def test_data_before_the_start_fail_and_ev44_counts_by_its_pulse_time():
    early = serialise_ev44("det", 0, [T0 - 1_000_000], [0], np.array([1]), np.array([1]))
    result = check_run_window(_run(T0, T0 + 10_000_000) + [record("ev", 0, 0, early, topic="ev",
                                                                   ts_ms=(T0 - 1_000_000) // 1_000_000)])
    assert not result.passed and "ev44 source 'det'" in result.findings[0].message


def test_without_run_control_there_is_no_window_to_check():
    result = check_run_window([f144(0, T0)])
    assert result.passed and result.checked == 0


def test_in_window_compares_milliseconds():
    assert in_window(T0 + 999_999, T0, T0) and not in_window(T0 - 1, T0, None) and in_window(T0 + 10**12, T0, None)
