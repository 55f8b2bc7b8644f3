"""What the NeXus views take from the scenario that produced a recording: units and detector numbers.

An f144 payload has no unit and an ev44 payload no detector geometry; the scenario has
both, as stream parameters: a ``units`` beside a ``source_name`` is that source's value
unit, and ``detector_shape`` with ``pixel_offset`` gives the ``detector_number`` array
(pixel ids numbered row by row from ``pixel_offset``) that lets scippnexus group the
events by pixel.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["view_hints"]

MAX_PIXELS = 1 << 24  # a detector_number array stays a few tens of MB at most


def _players(scenario_data: Mapping[str, Any]) -> list[dict[str, Any]]:
    players = scenario_data.get("players") if isinstance(scenario_data, Mapping) else None
    return [p for p in players or [] if isinstance(p, dict) and isinstance(p.get("params"), dict)]


def view_hints(scenario_data: Mapping[str, Any] | None) -> tuple[dict[str, str], dict[str, np.ndarray]]:
    """(units by source name, detector_number by source name) from a scenario's data (``{}`` if none)."""
    units: dict[str, str] = {}
    detectors: dict[str, np.ndarray] = {}
    for player in _players(scenario_data or {}):
        params = player["params"]
        source = params.get("source_name")
        if not isinstance(source, str):
            continue
        if isinstance(params.get("units"), str) and params["units"]:
            units[source] = params["units"]
        shape, offset = params.get("detector_shape"), params.get("pixel_offset")
        if isinstance(shape, list) and len(shape) == 2 and isinstance(offset, int):
            rows, cols = (int(n) for n in shape)
            if 0 < rows * cols <= MAX_PIXELS:
                detectors[source] = (offset + np.arange(rows * cols, dtype=np.int32)).reshape(rows, cols)
    return units, detectors
