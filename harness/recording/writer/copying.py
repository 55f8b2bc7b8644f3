"""Writing selected messages of recordings into a new one: golden files, merges, recovery."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from harness.errors import RecordingError
from harness.recording.names import local_topic
from harness.recording.writer.writer import RecordingWriter
from harness.records import KafkaRecord

__all__ = ["local_topic", "write_records", "recover"]

#: Metadata of the run that a copy must not take over as its own.
_RUN_STATS = ("messages", "bytes", "flushes", "complete", "started", "started_iso", "stopped", "stopped_iso",
              "stop_reason", "software", "host", "platform")


def inherited(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """The run-describing part of a recording's metadata (not its counters and times)."""
    return {k: v for k, v in metadata.items() if k not in _RUN_STATS}


def write_records(path: str | Path, records: Iterable[KafkaRecord], *, rename: Callable[[str], str] | None = None,
                  journal: Any = None, scenario: Any = None, metadata: Mapping[str, Any] | None = None,
                  overwrite: bool = False, stop_reason: str = "copied", views: bool = True) -> Path:
    """A new complete recording holding ``records`` (topics renamed by ``rename``)."""
    with RecordingWriter(path, metadata=metadata, overwrite=overwrite, views=views) as writer:
        for record in records:
            topic = rename(record.topic) if rename else record.topic
            writer.append_fields(topic, record.partition, record.offset, record.timestamp_type, record.timestamp_ms,
                                 record.key, record.value, record.headers, record.received)
        writer.close(journal=journal, scenario=scenario, stop_reason=stop_reason, views=views)
    return Path(path)


def recover(path: str | Path, output: str | Path | None = None) -> Path:
    """Finish a recording whose recorder died: everything it flushed, in a complete file.

    The damaged-by-crash original is left as it is; the result (default
    ``<name>.recovered.h5``) has the journal-less raw log, metadata and NeXus views.
    """
    from harness.recording.reader.reader import Recording

    source = Path(path)
    target = Path(output) if output is not None else source.with_name(source.stem + ".recovered.h5")
    with Recording(source) as recording:
        if recording.complete:
            raise RecordingError(f"{source} is complete (its recorder closed it); there is nothing to recover")
        meta = {**inherited(recording.metadata), "recovered_from": str(source)}
        write_records(target, recording.records(), journal=recording.journal, scenario=recording.scenario,
                      metadata=meta, stop_reason="recovered: the recorder stopped without closing the file")
    return target
