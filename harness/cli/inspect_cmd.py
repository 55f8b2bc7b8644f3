"""``donki inspect``: what a recording holds (topics, counts, bytes, rates, schemas, span)."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.recording import Recording

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("inspect", help="summarise a recording file",
                                   description="Summarise a recording: per topic partitions, message counts, bytes, "
                                               "rates, schemas and time span; journal, scenario and NeXus views.")
    parser.add_argument("file", metavar="FILE.h5")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--messages", type=int, default=0, metavar="N",
                        help="also list the first N messages (topic, partition, offset, time, schema, size, headers)")
    parser.set_defaults(func=_inspect)


def _message_rows(recording: Recording, count: int) -> list[dict[str, Any]]:
    rows = []
    for record in recording.records(list(range(min(count, len(recording))))):
        rows.append({"topic": record.topic, "partition": record.partition, "offset": record.offset,
                     "timestamp_ms": record.timestamp_ms, "schema": record.schema, "bytes": len(record.value),
                     "key": None if record.key is None else record.key.decode(errors="replace"),
                     "headers": {k: None if v is None else v.decode(errors="replace") for k, v in record.headers}})
    return rows


def _inspect(args: argparse.Namespace) -> int:
    from harness.recording.reader.reader import open_recording
    from harness.recording.reader.summary import summarize

    with open_recording(args.file) as recording:
        summary = summarize(recording)
        messages = _message_rows(recording, args.messages) if args.messages > 0 else []
    if args.json:
        data = summary.to_dict()
        if messages:
            data["first_messages"] = messages
        print(json.dumps(data, indent=2))
        return 0
    print(summary.table())
    for row in messages:
        print(json.dumps(row))
    return 0
