"""The ``nexus_structure`` of a run start: static groups, datasets and attributes, and stream modules.

The layout follows kafka-to-nexus's JSON: a node is a group (``"type": "group"``, a
``name``, ``attributes`` and ``children``), a static dataset (``"module": "dataset"`` with
``config.name``, ``config.values`` and optional ``config.dtype``) or a stream module
(``{"module": "ev44", "config": {"source": S, "topic": T}}``) that fills the group it
sits in. Attributes are ``[{"name": ..., "values": ..., "dtype": ...}]`` or a plain
``{"name": value}`` mapping. Everything is validated before a file is created, so a bad
structure is a rejected start, never a half-written file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from harness.errors import FileWriterError

__all__ = ["STREAM_MODULES", "Attribute", "StaticDataset", "GroupNode", "StreamModule", "parse_structure"]

#: Stream modules the double writes (kafka-to-nexus has more; a start naming another is rejected).
STREAM_MODULES = ("ev44", "f144", "ad00", "da00")
_DTYPES = {"string": None, "str": None, "int8": "i1", "int16": "i2", "int32": "i4", "int64": "i8", "int": "i8",
           "uint8": "u1", "uint16": "u2", "uint32": "u4", "uint64": "u8", "float": "f4", "float32": "f4",
           "double": "f8", "float64": "f8"}
_MAX_DEPTH = 32


@dataclass(frozen=True)
class Attribute:
    name: str
    value: Any
    dtype: str | None = None  # numpy dtype code, None for a string


@dataclass(frozen=True)
class StaticDataset:
    name: str
    value: Any
    dtype: str | None
    attributes: tuple[Attribute, ...] = ()


@dataclass(frozen=True)
class StreamModule:
    """A stream module: which (topic, source) fills the group at ``path``, and its config."""

    module: str
    topic: str
    source: str
    path: str
    config: dict[str, Any] = field(default_factory=dict)


@dataclass
class GroupNode:
    name: str
    path: str
    attributes: list[Attribute] = field(default_factory=list)
    datasets: list[StaticDataset] = field(default_factory=list)
    groups: list[GroupNode] = field(default_factory=list)
    modules: list[StreamModule] = field(default_factory=list)


def _dtype(raw: Any, where: str) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or raw not in _DTYPES:
        raise FileWriterError(f"nexus_structure {where}: dtype {raw!r} unknown; expected one of {sorted(_DTYPES)}")
    return _DTYPES[raw]


def _attributes(raw: Any, where: str) -> list[Attribute]:
    if raw is None:
        return []
    if isinstance(raw, dict):
        return [Attribute(str(k), v) for k, v in raw.items()]
    if not isinstance(raw, list):
        raise FileWriterError(f"nexus_structure {where}: attributes must be a list or an object, "
                              f"got {type(raw).__name__}")
    out = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or "values" not in item:
            raise FileWriterError(f"nexus_structure {where}: an attribute needs a string 'name' and 'values', "
                                  f"got {item!r:.120}")
        out.append(Attribute(item["name"], item["values"], _dtype(item.get("dtype"), f"{where} attribute")))
    return out


def _module(node: dict[str, Any], parent: GroupNode, where: str) -> None:
    module, config = node["module"], node.get("config")
    if not isinstance(config, dict):
        raise FileWriterError(f"nexus_structure {where}: module {module!r} needs a 'config' object")
    if module == "dataset":
        name = config.get("name")
        if not isinstance(name, str) or not name or "values" not in config:
            raise FileWriterError(f"nexus_structure {where}: a dataset needs config 'name' and 'values'")
        parent.datasets.append(StaticDataset(name, config["values"], _dtype(config.get("dtype", config.get("type")),
                                                                            f"{where} dataset {name!r}"),
                                             tuple(_attributes(node.get("attributes"), f"{where} dataset {name!r}"))))
        return
    if module not in STREAM_MODULES:
        raise FileWriterError(f"nexus_structure {where}: module {module!r} is not supported; the double writes "
                              f"{', '.join(STREAM_MODULES)} and static datasets")
    source, topic = config.get("source"), config.get("topic")
    if not isinstance(source, str) or not source or not isinstance(topic, str) or not topic:
        raise FileWriterError(f"nexus_structure {where}: module {module!r} needs string config 'source' and 'topic', "
                              f"got {config!r:.160}")
    parent.modules.append(StreamModule(module, topic, source, parent.path, dict(config)))


def _children(raw: Any, parent: GroupNode, depth: int) -> None:
    if depth > _MAX_DEPTH:
        raise FileWriterError(f"nexus_structure: nested deeper than {_MAX_DEPTH} groups at {parent.path}")
    if not isinstance(raw, list):
        raise FileWriterError(f"nexus_structure {parent.path or '/'}: 'children' must be a list")
    for index, node in enumerate(raw):
        where = f"{parent.path or ''}/children[{index}]"
        if not isinstance(node, dict):
            raise FileWriterError(f"nexus_structure {where}: expected an object, got {type(node).__name__}")
        if "module" in node:
            _module(node, parent, where)
        elif node.get("type") == "group":
            name = node.get("name")
            if not isinstance(name, str) or not name or "/" in name:
                raise FileWriterError(f"nexus_structure {where}: a group needs a 'name' without '/', got {name!r}")
            group = GroupNode(name, f"{parent.path}/{name}", _attributes(node.get("attributes"), where))
            _children(node.get("children", []), group, depth + 1)
            parent.groups.append(group)
        else:
            raise FileWriterError(f"nexus_structure {where}: a node is a group (\"type\": \"group\") or has a "
                                  f"'module'; got keys {sorted(node)}")


def parse_structure(text: str) -> GroupNode:
    """The root group of ``text``; raises :class:`FileWriterError` naming the bad node."""
    try:
        raw = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise FileWriterError(f"nexus_structure is not valid JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise FileWriterError("nexus_structure must be a JSON object with 'children'")
    root = GroupNode("", "", _attributes(raw.get("attributes"), "/"))
    _children(raw.get("children", []), root, 0)
    seen: set[tuple[str, str, str]] = set()
    for module in modules_of(root):
        key = (module.path, module.module, module.source)
        if key in seen:
            raise FileWriterError(f"nexus_structure {module.path}: module {module.module!r} for source "
                                  f"{module.source!r} given twice in one group")
        seen.add(key)
    return root


def modules_of(group: GroupNode) -> list[StreamModule]:
    """Every stream module under ``group``, depth first."""
    found = list(group.modules)
    for child in group.groups:
        found.extend(modules_of(child))
    return found


__all__ += ["modules_of"]
