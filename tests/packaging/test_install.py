"""`pip install .` in a fresh virtualenv exposes the `donki` command and the pytest plugin."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_fresh_virtualenv_install_exposes_command_plugin_and_package_data(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    # the running interpreter's packages provide the dependencies (a .pth adds the directory but
    # does not run its .pth files, so an editable install of this project there stays invisible);
    # the project itself is built from source as a wheel and installed for real
    deps = next(p for p in sys.path if p.endswith("site-packages"))
    [site] = list((venv / "lib").glob("python3*/site-packages"))
    (site / "deps.pth").write_text(deps + "\n")
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-deps", "--no-warn-script-location"]
    subprocess.run([*pip, str(ROOT)], check=True, timeout=300, cwd=tmp_path)
    bin_dir = venv / "bin"
    version = subprocess.run([str(bin_dir / "donki"), "--version"], capture_output=True, text=True, timeout=60,
                             cwd=tmp_path)
    assert version.returncode == 0 and "pytest-donki" in version.stdout
    where = subprocess.run(
        [str(bin_dir / "python"), "-c",
         "import harness, importlib.resources as r; print(harness.__file__); "
         "print(r.files('harness.kafka').joinpath('data/pom.xml').is_file()); "
         "from harness.recording import GoldenStore; print(GoldenStore('recordings').plan('e-mixed').golden_path)"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )
    lines = where.stdout.split()
    assert str(venv) in lines[0], f"harness imported from {lines[0]}, not the fresh install"
    assert lines[1] == "True"
    # a project without recordings/ compares the built-ins with the goldens the wheel carries
    assert lines[2].startswith(str(venv)) and lines[2].endswith("harness/scenarios/goldens/e-mixed.h5"), lines
    plugin = subprocess.run([str(bin_dir / "python"), "-m", "pytest", "--help"], capture_output=True, text=True,
                            timeout=120, cwd=tmp_path)
    assert "--donki-kafka" in plugin.stdout
