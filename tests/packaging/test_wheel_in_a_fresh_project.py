"""The built wheel in a fresh project outside the repository, used as the README says."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtualenv with the wheel built from this checkout installed for real (dependencies from this one)."""
    base = tmp_path_factory.mktemp("fresh")
    wheels = base / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(wheels), str(ROOT)],
                   check=True, timeout=300, cwd=base)
    [wheel] = wheels.glob("pytest_donki-*.whl")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    deps = next(p for p in sys.path if p.endswith("site-packages"))
    [site] = list((venv / "lib").glob("python3*/site-packages"))
    (site / "deps.pth").write_text(deps + "\n")  # a directory only: the editable install's .pth does not run
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-deps", str(wheel)],
                   check=True, timeout=300, cwd=base)
    return venv


def pytest_in(project: Path, venv: Path, *args: str, bootstrap: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DONKI_", "PYTEST_"))}
    env["DONKI_BOOTSTRAP"] = bootstrap  # auto picks the existing cluster
    return subprocess.run([str(venv / "bin" / "python"), "-m", "pytest", "-p", "no:cacheprovider", *args],
                          cwd=project, env=env, capture_output=True, text=True, timeout=600)


def test_the_scenario_passes_first_time_with_the_packaged_golden(fresh_venv, tmp_path, donki_kafka):
    project = tmp_path / "project"
    project.mkdir()
    done = pytest_in(project, fresh_venv, "--donki-scenario=e-mixed", bootstrap=donki_kafka.bootstrap_servers)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "1 passed" in done.stdout and "golden recording compared" in done.stdout
    assert str(fresh_venv) in done.stdout  # compared with the golden inside the installed package


def test_a_project_with_its_own_harness_module_still_runs(fresh_venv, tmp_path, donki_kafka):
    project = tmp_path / "project"
    project.mkdir()
    (project / "harness.py").write_text("def helper():\n    return 42\n")
    (project / "test_own.py").write_text("import harness\n\ndef test_own():\n    assert harness.helper() == 42\n")
    done = pytest_in(project, fresh_venv, bootstrap=donki_kafka.bootstrap_servers)
    assert done.returncode == 0 and "1 passed" in done.stdout, done.stdout[-3000:] + done.stderr[-2000:]
    (project / "test_donki.py").write_text("def test_broker(donki_kafka):\n    pass\n")
    done = pytest_in(project, fresh_venv, bootstrap=donki_kafka.bootstrap_servers)
    assert "1 passed, 1 error" in done.stdout
    assert "harness.py shadows pytest-donki's engine package 'harness'" in done.stdout
