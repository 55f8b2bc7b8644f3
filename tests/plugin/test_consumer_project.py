"""The worked example of docs/ (a consumer project using the fixtures) runs as its users would run it."""

from __future__ import annotations

import shutil
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "consumer-project"


def test_the_consumer_project_example_passes(pytester, donki_kafka):
    for path in EXAMPLE.iterdir():
        if path.is_file():
            shutil.copy(path, pytester.path / path.name)
    result = pytester.runpytest_subprocess("--donki-kafka=external",
                                           f"--donki-bootstrap={donki_kafka.bootstrap_servers}",
                                           "-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["*test_live_pulses.py::test_monitor_follows_live_neutron_pulses PASSED*",
                                 "*test_monitor_sees_every_message_of_every_schema PASSED*",
                                 "*test_a_lost_message_is_visible_to_the_service_and_named_by_the_harness PASSED*",
                                 "*test_monitor_consumes_every_message_of_the_replayed_golden_stream PASSED*"])
