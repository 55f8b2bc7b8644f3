"""Create a job's NeXus file from its structure: static groups, datasets, attributes and module groups."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from harness.errors import FileWriterError
from harness.filewriter.modules import ModuleWriter, make_module
from harness.filewriter.structure import Attribute, GroupNode, StaticDataset

if TYPE_CHECKING:
    import h5py

__all__ = ["create_file", "build_tree"]


def _value(value: Any, dtype: str | None) -> Any:
    if dtype is None:
        if isinstance(value, str):
            return value
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return np.array(value, dtype=object)
        return np.asarray(value)
    return np.asarray(value, dtype=dtype)


def _set_attributes(target: Any, attributes: list[Attribute] | tuple[Attribute, ...], where: str) -> None:
    for attr in attributes:
        try:
            target.attrs[attr.name] = _value(attr.value, attr.dtype)
        except (TypeError, ValueError) as exc:
            raise FileWriterError(f"nexus_structure {where}: attribute {attr.name!r} = {attr.value!r:.80} cannot be "
                                  f"written: {exc}") from None


def _dataset(group: h5py.Group, spec: StaticDataset, where: str) -> None:
    import h5py

    value = _value(spec.value, spec.dtype)
    try:
        if isinstance(value, np.ndarray) and value.dtype == object:
            ds = group.create_dataset(spec.name, data=value, dtype=h5py.string_dtype())
        else:
            ds = group.create_dataset(spec.name, data=value)
    except (TypeError, ValueError) as exc:
        raise FileWriterError(f"nexus_structure {where}: dataset {spec.name!r} cannot be written: {exc}") from None
    _set_attributes(ds, spec.attributes, f"{where}/{spec.name}")


def build_tree(group: h5py.Group, node: GroupNode, modules: list[ModuleWriter]) -> None:
    """Write ``node`` into ``group``: attributes, static datasets, child groups; collect module writers."""
    where = node.path or "/"
    _set_attributes(group, node.attributes, where)
    for spec in node.datasets:
        _dataset(group, spec, where)
    for child in node.groups:
        if child.name in group:
            raise FileWriterError(f"nexus_structure {child.path}: the name is used twice in {where}")
        build_tree(group.create_group(child.name), child, modules)
    for module in node.modules:
        modules.append(make_module(group, module))


def create_file(path: Path, root: GroupNode) -> tuple[h5py.File, list[ModuleWriter]]:
    """Create ``path`` (never overwriting) with the static tree; returns the file and its module writers."""
    import h5py

    if path.exists():
        raise FileWriterError(f"file {str(path)!r} exists already; the file writer never overwrites a file")
    if not path.parent.is_dir():
        raise FileWriterError(f"file {str(path)!r}: directory {str(path.parent)!r} does not exist")
    try:
        # the default (earliest) format: no open-for-write flag, so a file whose writer was
        # killed opens as it was at its last flush (SWMR would forbid the groups that the
        # log and image modules create on their first message)
        h5 = h5py.File(path, "w-")
    except OSError as exc:
        raise FileWriterError(f"file {str(path)!r} cannot be created: {exc}") from None
    modules: list[ModuleWriter] = []
    try:
        build_tree(h5, root, modules)
        h5.flush()
    except BaseException:
        h5.close()
        path.unlink(missing_ok=True)
        raise
    return h5, modules
