"""Scenario runs in pytest-html (opened in a real headless Chromium) and in JUnit XML."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET

import pytest

from harness.scenarios.goldens import packaged_goldens_dir

GOLDENS = packaged_goldens_dir()
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--virtual-time-budget=10000", "--window-size=1400,2400"]

pytest.importorskip("pytest_html")
pytest.importorskip("matplotlib")

#: a player that works 0.15 s per trigger: nothing lost, but its rates check fails, so its row shows a failure
TOO_SLOW = """
[scenario]
name = "too-slow"
rate = 20.0
triggers = 10

[[players]]
name = "a"
stream = "a-scalar"
topic = "t_exact"

[players.faults]
delay_s = 0.15  # each trigger takes 0.15 s: at most 6.7 of the 20 Hz asked for
"""

#: appended to a copy of the page: after load, how each image of the report fared, into the DOM
PROBE = """<script>
window.addEventListener("load", () => setTimeout(() => {
  const imgs = [...document.querySelectorAll("img")].filter(i => i.getAttribute("src"));
  const out = document.createElement("pre");
  out.id = "donki-probe";
  out.textContent = JSON.stringify({
    images: imgs.map(i => ({src: i.getAttribute("src"), complete: i.complete, width: i.naturalWidth})),
    runs: [...document.querySelectorAll(".donki-run h4")].map(h => h.textContent),
    tables: document.querySelectorAll(".donki-run pre.donki-table").length,
  });
  document.body.appendChild(out);
}, 500));
</script>"""


def chromium(*args: str, timeout: float = 90) -> str:
    profile = tempfile.mkdtemp(prefix="donki-chromium-")
    try:
        done = subprocess.run([CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args], check=False,
                              capture_output=True, text=True, timeout=timeout)
        return done.stdout
    finally:
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture()
def session_report(pytester, donki_kafka):
    """One pytest session with a passing (e-mixed) and a failing scenario test, with --html and --junitxml."""
    (pytester.path / "too_slow.toml").write_text(TOO_SLOW)
    (pytester.path / "recordings").mkdir()
    shutil.copyfile(GOLDENS / "e-mixed.h5", pytester.path / "recordings" / "e-mixed.h5")
    result = pytester.runpytest_subprocess(
        "--donki-kafka=external", f"--donki-bootstrap={donki_kafka.bootstrap_servers}", "-p", "no:cacheprovider",
        "--donki-recordings=recordings", "--donki-scenario=e-mixed,too_slow.toml", "--donki-record-mode=once",
        "--html=out/report.html", "--junitxml=out/junit.xml", "-p", "no:xdist")
    result.assert_outcomes(passed=1, failed=1)
    return pytester.path / "out"


def test_junit_xml_carries_the_verdicts_as_properties(session_report):
    cases = {case.get("name"): case for case in ET.parse(session_report / "junit.xml").iter("testcase")}
    props = {name: {p.get("name"): p.get("value") for p in case.iter("property")} for name, case in cases.items()}
    passed = props["test_scenario[e-mixed]"]
    assert passed["donki_verdict"] == "passed" and passed["donki_scenario"] == "e-mixed"
    assert passed["donki_check_rates"] == passed["donki_check_acks"] == "passed"
    failed = next(p for name, p in props.items() if "too_slow" in name)
    assert failed["donki_verdict"] == "failed"
    assert failed["donki_check_rates"].startswith("failed: 1 problem(s); stream 'a': achieved")


# in CI (make test installs Chromium) a missing browser fails the test instead of skipping it
@pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"), reason="needs Chromium (apt-get install chromium)")
def test_html_rows_show_the_table_and_the_figure_in_chromium(session_report, tmp_path):
    assert CHROMIUM is not None, "CI must have Chromium: make test installs it (apt-get install chromium)"
    page = session_report / "report.html"
    probed = page.with_name("probed.html")
    probed.write_text(page.read_text().replace("</body>", PROBE + "</body>"))
    dom = chromium("--dump-dom", probed.as_uri())
    assert '<pre id="donki-probe">' in dom, dom[-2000:]
    found = json.loads(dom.split('<pre id="donki-probe">', 1)[1].split("</pre>", 1)[0].replace("&quot;", '"'))
    assert sorted(found["runs"]) == ["donki scenario e-mixed: passed", "donki scenario too-slow: FAILED"]
    assert found["tables"] == 2
    figures = [i for i in found["images"] if i["src"].endswith(".png")]
    assert len(figures) == 2 and all(i["complete"] and i["width"] > 0 for i in figures), found["images"]
    shot = tmp_path / "report.png"
    chromium(f"--screenshot={shot}", page.as_uri())
    assert shot.stat().st_size > 10_000
