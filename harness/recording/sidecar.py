"""The run journal and the scenario, stored beside the raw log.

The journal is one JSON object per event (``Journal.to_rows``), the scenario its source
text with its format (``toml`` or ``json``) and name. Both are plain strings in HDF5,
readable by any tool.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from harness.errors import RecordingError
from harness.recording.format import JOURNAL, JOURNAL_EVENTS, SCENARIO, SCENARIO_TEXT

__all__ = ["ScenarioText", "scenario_text", "write_journal", "read_journal", "write_scenario", "read_scenario"]


@dataclass(frozen=True)
class ScenarioText:
    """A scenario as stored: its name, its format (``toml``/``json``) and its source text."""

    name: str
    format: str
    text: str

    def data(self) -> dict[str, Any]:
        """The scenario parsed into plain data (TOML or JSON)."""
        if self.format == "json":
            try:
                data = json.loads(self.text)
            except (ValueError, RecursionError) as exc:
                raise RecordingError(f"scenario {self.name!r}: the stored JSON is damaged "
                                     f"({type(exc).__name__})") from None
            if not isinstance(data, dict):
                raise RecordingError(f"scenario {self.name!r}: its JSON is a {type(data).__name__}, not an object")
            return data
        import tomllib

        return tomllib.loads(self.text)


def scenario_text(scenario: Any, name: str | None = None) -> ScenarioText | None:
    """Normalise what a caller passes as "the scenario" into :class:`ScenarioText`.

    Accepted: ``None``, a :class:`ScenarioText`, TOML or JSON source text, a mapping, or
    an object with ``to_dict()`` (and optionally ``name``).
    """
    if scenario is None or isinstance(scenario, ScenarioText):
        return scenario
    if isinstance(scenario, str):
        fmt = "json" if scenario.lstrip().startswith("{") else "toml"
        return ScenarioText(name or "", fmt, scenario)
    if hasattr(scenario, "to_dict"):
        name = name or str(getattr(scenario, "name", "") or "")
        scenario = scenario.to_dict()
    if isinstance(scenario, Mapping):
        head = scenario.get("scenario")
        if not isinstance(head, Mapping):
            head = scenario
        name = name or str(head.get("name", "") or "")
        return ScenarioText(name, "json", json.dumps(scenario, sort_keys=True, default=str))
    raise RecordingError(
        f"cannot store scenario of type {type(scenario).__name__}: pass TOML/JSON text, a mapping or an "
        f"object with to_dict()"
    )


def write_journal(h5: Any, journal: Any) -> None:
    """Store ``journal`` (a ``Journal``, or its rows) in ``/journal/events``."""
    import h5py

    group = h5.require_group(JOURNAL)
    if JOURNAL_EVENTS in h5:
        del h5[JOURNAL_EVENTS]
    group.attrs["present"] = journal is not None
    rows = journal.to_rows() if hasattr(journal, "to_rows") else list(journal or ())
    text = [json.dumps(row, sort_keys=True, default=str) for row in rows]
    h5.create_dataset(JOURNAL_EVENTS, data=text, dtype=h5py.string_dtype(), maxshape=(None,),
                      chunks=(max(1, min(len(text), 1024)),))
    group.attrs["events"] = len(text)


def read_journal(h5: Any, path: str) -> Any:
    """The stored journal as a ``Journal``, ``None`` if the file has no journal group."""
    from harness.orchestra.journal import Journal

    if JOURNAL not in h5 or not bool(h5[JOURNAL].attrs.get("present", True)):
        return None
    if JOURNAL_EVENTS not in h5:
        raise RecordingError(f"{path}: group /{JOURNAL} has no dataset 'events'; the file is damaged")
    try:
        rows = [json.loads(line) for line in h5[JOURNAL_EVENTS].asstr()[:]]
        return Journal.from_rows(rows)
    except (ValueError, KeyError, TypeError, OSError, RecursionError) as exc:
        raise RecordingError(f"{path}: the stored journal /{JOURNAL_EVENTS} is damaged ({exc})") from None


def write_scenario(h5: Any, scenario: ScenarioText | None) -> None:
    """Store the scenario in ``/scenario`` (an empty group when there is none)."""
    import h5py

    group = h5.require_group(SCENARIO)
    if SCENARIO_TEXT in h5:
        del h5[SCENARIO_TEXT]
    if scenario is None:
        group.attrs["present"] = False
        return
    group.attrs["present"] = True
    group.attrs["name"] = scenario.name
    group.attrs["format"] = scenario.format
    h5.create_dataset(SCENARIO_TEXT, data=scenario.text, dtype=h5py.string_dtype())


def read_scenario(h5: Any, path: str) -> ScenarioText | None:
    """The stored scenario, ``None`` if the recording has none."""
    if SCENARIO not in h5:
        return None
    group = h5[SCENARIO]
    if not bool(group.attrs.get("present", False)):
        return None
    if SCENARIO_TEXT not in h5:
        raise RecordingError(f"{path}: /{SCENARIO} says a scenario is present but has no 'text'; the file is damaged")
    text = h5[SCENARIO_TEXT].asstr()[()]
    return ScenarioText(str(group.attrs.get("name", "")), str(group.attrs.get("format", "toml")), text)
