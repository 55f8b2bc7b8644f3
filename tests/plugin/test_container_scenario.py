"""The main job on the container provider: `pytest --donki-kafka=container --donki-scenario=e-mixed`."""

from __future__ import annotations

from pathlib import Path

from harness.kafka.container import describe_container_image

GOLDENS = Path(__file__).resolve().parents[2] / "recordings"


def test_e_mixed_passes_end_to_end_in_a_container_compared_with_its_golden(docker_required, pytester):
    image = describe_container_image()
    result = pytester.runpytest_subprocess("--donki-kafka=container", f"--donki-recordings={GOLDENS}",
                                           "--donki-scenario=e-mixed", "-p", "no:cacheprovider", timeout=600)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([
        f"donki: kafka provider container (container), image {image}; record mode none",
        "*donki scenario e-mixed: passed*",
        "*golden recording compared: *e-mixed.h5*",
    ])
