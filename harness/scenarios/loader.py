"""Reading scenario files (TOML) and the built-in scenarios shipped with the package."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

from harness.errors import ScenarioError
from harness.scenarios.model import Scenario

__all__ = ["load_scenario", "loads_scenario", "builtin_names", "builtin_scenarios", "BUILTIN_PACKAGE"]

BUILTIN_PACKAGE = "harness.scenarios.builtin"


def loads_scenario(text: str, source: str = "<string>") -> Scenario:
    """A scenario from TOML text; ``source`` names it in errors."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{source}: not valid TOML: {exc}") from None
    except RecursionError:  # tomllib recurses per nesting level: 5,000 nested arrays are bad input too
        raise ScenarioError(f"{source}: not valid TOML: nested too deeply") from None
    return Scenario.from_dict(data, source)


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
        return loads_scenario(text, str(path))
    raise ScenarioError(f"no scenario {str(ref)!r}: it is neither a file nor a built-in scenario; "
                        f"built-ins: {', '.join(sorted(files))}")
