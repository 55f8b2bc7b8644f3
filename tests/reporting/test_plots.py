"""The run figure, asserted from its matplotlib objects (not pixels)."""

import pytest

from harness.reporting import RunReport, StreamRow
from harness.reporting.plots import FAIL, PASS, build_figure, rated_streams, unrated_streams

pytest.importorskip("matplotlib")


def pulse(ok: bool) -> RunReport:
    """ess-pulse-like: two 14 Hz streams (f144 halves its rate midway when failing) and a 2-message run control."""
    rows = [StreamRow("ev44", "ev44", 140, 2_500_000, 14, 14.0, 0.002, "ok"),
            StreamRow("f144", "f144", 140, 400, 14, 14.0 if ok else 9.3, 0.004, "ok"),
            StreamRow("run-control", "run-control", 2, 300, 14, None, None, "ok")]
    f144 = [i / 14 for i in range(140)] if ok else [i / 14 + max(0, i - 70) / 14 for i in range(140)]
    rates = {"ev44": {"nominal_hz": 14, "achieved_hz": 14.0, "tolerance": 0.2},
             "f144": {"nominal_hz": 14, "achieved_hz": 14.0 if ok else 9.3, "tolerance": 0.2},
             "unrated": ["run-control"]}
    findings = [] if ok else [{"message": "stream 'f144': achieved 9.3 Hz", "stream": "f144"}]
    checks = {"acks": {"passed": True, "findings": []},
              "rates": {"passed": ok, "findings": findings, "metrics": rates}}
    return RunReport("ess-pulse", ok, rows, checks, {"ev44": [i / 14 for i in range(140)], "f144": f144,
                                                     "run-control": [0.0, 10.0]},
                     {"ev44": [0.001 * (1 + i % 10) for i in range(140)], "f144": [0.003] * 140},
                     test_id="tests/test_pulse.py::test_pulse", started="2026-11-29T16:00:00+00:00",
                     versions={"pytest-donki": "0.1.0", "python": "3.11.7"},
                     broker={"bootstrap": "127.0.0.1:9092", "kind": "local", "kafka": "3.9.0"}, levels={"ev44": 1,
                                                                                                          "f144": 2})


def axes(fig):
    return {ax.get_label(): ax for ax in fig.axes}


def texts(ax):
    return [t.get_text() for t in ax.texts]


def test_header_names_test_scenario_checks_date_broker_and_versions():
    fig = build_figure(pulse(ok=False))
    header = texts(axes(fig)["header"])
    assert "FAILED" in header and "scenario ess-pulse" in header
    assert "test: tests/test_pulse.py::test_pulse" in header
    assert any("2026-11-29T16:00:00" in t and "127.0.0.1:9092 (local, 3.9.0)" in t for t in header)
    assert any("pytest-donki 0.1.0" in t and "python 3.11.7" in t for t in header)
    chips = {t.get_gid(): t.get_bbox_patch().get_facecolor() for t in axes(fig)["header"].texts if t.get_gid()}
    assert set(chips) == {"check:acks", "check:rates"}
    from matplotlib.colors import to_rgba

    assert chips["check:rates"] == to_rgba(FAIL) and chips["check:acks"] == to_rgba(PASS)


def test_a_failed_run_is_framed_red_and_a_passed_one_green():
    from matplotlib.colors import to_rgba

    assert build_figure(pulse(ok=False)).get_edgecolor() == to_rgba(FAIL)
    assert build_figure(pulse(ok=True)).get_edgecolor() == to_rgba(PASS)


def test_rates_are_linear_per_stream_with_nominal_band_and_failed_windows():
    report = pulse(ok=False)
    assert rated_streams(report) == ["ev44", "f144"]
    assert unrated_streams(report) == {"run-control": "2 message(s)"}
    fig = build_figure(report)
    by = axes(fig)
    assert "rate:run-control" not in by
    for stream in ("ev44", "f144"):
        ax = by[f"rate:{stream}"]
        assert ax.get_yscale() == "linear" and ax.get_ylim()[0] == 0
        labels = [line.get_label() for line in ax.get_lines()]
        assert "nominal 14 Hz" in labels and "achieved" in labels
        band = [p for p in ax.patches if p.get_label() == "nominal ±20%"]
        assert len(band) == 1
        ys = sorted({round(y, 6) for y in band[0].get_path().transformed(band[0].get_patch_transform()).vertices[:, 1]})
        assert ys == [pytest.approx(11.2), pytest.approx(16.8)]
    assert not [p for p in by["rate:ev44"].patches if p.get_gid() == "failed-window"]
    failed = [p for p in by["rate:f144"].patches if p.get_gid() == "failed-window"]
    assert failed, "the halved second half is shaded"
    assert "[FAIL]" in by["rate:f144"].get_title(loc="left") and "[ok]" in by["rate:ev44"].get_title(loc="left")
    x0, x1 = by["rate:ev44"].get_xlim()
    assert x0 == 0 and x1 > 9  # the whole run, not one dot on an auto-scaled 0.475-0.525 s axis
    notes = [t.get_text() for t in by["rate:f144"].texts if t.get_gid() == "unrated"]
    assert notes == ["not rated: run-control (2 message(s))"]


def test_latency_is_a_cdf_per_level_with_p50_and_p99_marked():
    by = axes(build_figure(pulse(ok=True)))
    ax = by["latency"]
    labels = [line.get_label() for line in ax.get_lines() if not line.get_label().startswith("_")]
    assert labels[0].startswith("level 1 · ev44: p50 5 ms, p99 10 ms")
    assert labels[1].startswith("level 2 · f144: p50 3 ms, p99 3 ms")
    marks = {line.get_gid(): (line.get_xdata()[0], line.get_ydata()[0]) for line in ax.get_lines() if line.get_gid()}
    assert marks["p50:ev44"] == (pytest.approx(5.0), 0.5) and marks["p99:ev44"] == (pytest.approx(10.0), 0.99)
    assert ax.get_xlabel() == "ack latency (ms)" and ax.get_ylim() == (0, 1.05)


def test_a_run_without_rated_streams_lists_them_instead_of_plotting():
    report = RunReport("rc", True, [StreamRow("run-control", "rc", 2, 10, 1, None, None, "ok")], {},
                       {"run-control": [0.0, 1.0]})
    by = axes(build_figure(report))
    assert [k for k in by if k.startswith("rate:")] == ["rate:none"]
    assert "not rated: run-control (2 message(s))" in texts(by["rate:none"])[0]
    assert "no acks recorded" in texts(by["latency"])


def test_the_band_is_the_one_the_verdict_used_tolerance_plus_jitter():
    report = pulse(ok=True)
    report.checks["rates"]["metrics"]["ev44"]["bound_hz"] = 3.5  # 14 Hz +- (20 % + a jitter allowance)
    ax = {a.get_label(): a for a in build_figure(report).axes}["rate:ev44"]
    band = [p for p in ax.patches if p.get_label().startswith("verdict band")]
    assert [p.get_label() for p in band] == ["verdict band ±25% = 20% + jitter"]
    ys = sorted({round(y, 6) for y in band[0].get_path().transformed(band[0].get_patch_transform()).vertices[:, 1]})
    assert ys == [pytest.approx(10.5), pytest.approx(17.5)]
