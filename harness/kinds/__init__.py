"""Stream kinds and their parameter tables: the registry every layer above registers into.

The bottom of the house: importing it loads nothing else of pytest-donki. Streams,
recording and third-party plugins register their kinds here; scenarios validate against
them; the orchestra builds player actions from them.
"""

from harness.kinds.params import REQUIRED, Param, resolve_params, type_name
from harness.kinds.registry import (
    ENTRY_POINT_GROUP,
    StreamKind,
    find_stream_kind,
    get_stream_kind,
    register_stream_kind,
    stream_kinds,
    unregister_stream_kind,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "REQUIRED",
    "Param",
    "StreamKind",
    "find_stream_kind",
    "get_stream_kind",
    "register_stream_kind",
    "resolve_params",
    "stream_kinds",
    "type_name",
    "unregister_stream_kind",
]
