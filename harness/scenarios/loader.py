"""Reading scenario files (TOML) and the built-in scenarios shipped with the package."""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Any

from harness.errors import ScenarioError
from harness.scenarios.model import Scenario

__all__ = ["load_scenario", "loads_scenario", "builtin_names", "builtin_scenarios", "BUILTIN_PACKAGE"]

BUILTIN_PACKAGE = "harness.scenarios.builtin"
#: Player parameters that name a file: resolved against the scenario file's folder, checked on load
FILE_PARAMS = ("recording",)


def loads_scenario(text: str, source: str = "<string>") -> Scenario:
    """A scenario from TOML text; ``source`` names it in errors."""
    return Scenario.from_dict(_toml(text, source), source)


def _toml(text: str, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{source}: not valid TOML: {exc}") from None
    except RecursionError:  # tomllib recurses per nesting level: 5,000 nested arrays are bad input too
        raise ScenarioError(f"{source}: not valid TOML: nested too deeply") from None


def _builtin_files() -> dict[str, resources.abc.Traversable]:
    folder = resources.files(BUILTIN_PACKAGE)
    return {entry.name[:-5]: entry for entry in folder.iterdir() if entry.name.endswith(".toml")}


def builtin_names() -> list[str]:
    """Names of the built-in scenarios, sorted."""
    return sorted(_builtin_files())


def builtin_scenarios() -> dict[str, Scenario]:
    """Every built-in scenario by name."""
    return {name: load_scenario(name) for name in builtin_names()}


def load_scenario(ref: str | Path) -> Scenario:
    """A built-in scenario by name (``"e-mixed"``) or a scenario file by path."""
    path = Path(ref)
    files = _builtin_files()
    if isinstance(ref, str) and ref in files and not path.exists():
        return loads_scenario(files[ref].read_text(encoding="utf-8"), f"built-in scenario {ref!r}")
    if path.is_file():
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ScenarioError(f"{path}: cannot read the scenario file: {exc}") from None
        return _scenario_file(text, path)
    raise ScenarioError(f"no scenario {str(ref)!r}: it is neither a file nor a built-in scenario;"
                        f"{_did_you_mean(str(ref), files)} built-ins: {', '.join(sorted(files))}")


def _did_you_mean(ref: str, names: Iterable[str]) -> str:
    close = difflib.get_close_matches(ref, list(names), n=1, cutoff=0.6)
    return f" did you mean {close[0]!r}?" if close else ""


def _scenario_file(text: str, path: Path) -> Scenario:
    """A scenario file, its players' file parameters taken relative to the file and checked to exist."""
    data = _toml(text, str(path))
    players = data.get("players")
    for i, player in enumerate(players if isinstance(players, list) else []):
        _resolve_files(path, player.get("params") if isinstance(player, dict) else None, f"players[{i}].params")
    head = data.get("scenario")
    ci = head.get("ci") if isinstance(head, dict) else None
    overrides = ci.get("params") if isinstance(ci, dict) else None
    for name, params in (overrides.items() if isinstance(overrides, dict) else ()):
        _resolve_files(path, params, f"scenario.ci.params.{name}")
    return Scenario.from_dict(data, str(path))


def _resolve_files(path: Path, params: object, where: str) -> None:
    """Replace the file parameters of ``params`` (a TOML table) by existing absolute paths."""
    for key in FILE_PARAMS:
        if isinstance(params, dict) and isinstance(params.get(key), str) and params[key].strip():
            params[key] = str(_existing(path, params[key], f"{path}: {where}.{key}"))


def _existing(scenario_file: Path, value: str, where: str) -> Path:
    target = Path(value).expanduser()
    resolved = target if target.is_absolute() else scenario_file.resolve().parent / target
    if not resolved.is_file():
        raise ScenarioError(f"{where} = {value!r}: no such file {resolved} (paths in a scenario file are relative "
                            "to the file)")
    return resolved
