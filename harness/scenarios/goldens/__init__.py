"""The golden recordings of the built-in scenarios, shipped as package data.

One ``<scenario>.h5`` per built-in scenario: its golden variant (CI-sized, at most
``harness.runs.GOLDEN_MAX_TRIGGERS`` triggers). :class:`harness.recording.GoldenStore`
falls back to these when a project's own recordings directory lacks the file, so
``pytest --donki-scenario=e-mixed`` compares with something from the first run. A
project's own file of the same name always wins; nothing is ever written here.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["GOLDENS_PACKAGE", "packaged_goldens_dir"]

GOLDENS_PACKAGE = "harness.scenarios.goldens"


def packaged_goldens_dir() -> Path:
    """The directory of the packaged golden recordings.

    A wheel installs them as plain files (HDF5 needs a real path), so the package's
    directory is used as it is.
    """
    return Path(str(resources.files(GOLDENS_PACKAGE)))
