"""Compacting a small finished recording: exact-size datasets instead of recording chunks.

While recording, heaps grow in 1 MiB chunks (fast appends, crash-safe flushes); a
recording of a few messages would still take megabytes. Once a small recording is
closed it is copied object by object into contiguous, exactly sized datasets and
renamed over the original, so golden recordings in a repository stay small.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

__all__ = ["compact", "COMPACT_BELOW_BYTES"]

#: Recordings whose datasets hold less than this are compacted when closed.
COMPACT_BELOW_BYTES = 64 << 20


def _data_bytes(h5: Any) -> int:
    total = 0

    def visit(_name: str, obj: Any) -> None:
        nonlocal total
        if hasattr(obj, "dtype") and hasattr(obj, "size"):
            total += int(obj.size) * int(obj.dtype.itemsize)

    h5.visititems(visit)
    return total


def _copy(source: Any, target: Any) -> None:
    import h5py

    target.attrs.update(dict(source.attrs))
    for name, obj in source.items():
        if isinstance(obj, h5py.Group):
            _copy(obj, target.create_group(name))
        else:
            dataset = target.create_dataset(name, data=obj[()], dtype=obj.dtype)
            dataset.attrs.update(dict(obj.attrs))


def compact(path: str | Path, limit_bytes: int = COMPACT_BELOW_BYTES) -> bool:
    """Rewrite ``path`` compactly if its data are below ``limit_bytes``; true if it did."""
    import h5py

    path = Path(path)
    with h5py.File(path, "r") as source:
        if _data_bytes(source) >= limit_bytes:
            return False
        staged = path.with_name(f".{path.name}.compact")
        try:
            with h5py.File(staged, "w") as target:
                _copy(source, target)
        except BaseException:
            staged.unlink(missing_ok=True)
            raise
    os.replace(staged, path)
    return True
