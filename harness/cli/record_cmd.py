"""``donki record``: Kafka topics -> a recording file, until Ctrl-C, a deadline or a count."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from typing import Any

from harness import validate as v
from harness.cli.kafka_args import add_bootstrap, client_config

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "record", help="record Kafka topics to a recording file (HDF5)",
        description="Record any Kafka topics (any bytes, any schema) into a versioned HDF5 recording. "
                    "Stops on Ctrl-C/SIGTERM, --duration, --count or --until-end; the file is flushed every "
                    "--flush-interval seconds, so a killed recorder leaves everything up to its last flush.")
    add_bootstrap(parser)
    parser.add_argument("--topic", "-t", action="append", required=True, metavar="NAME",
                        help="topic to record (repeatable)")
    parser.add_argument("-o", "--output", required=True, type=v.arg_new_file(), metavar="FILE.h5",
                        help="the recording to create")
    parser.add_argument("--start", default="earliest", metavar="earliest|latest|TIME",
                        help="where to start: earliest (default), latest, epoch seconds or ISO 8601 time")
    parser.add_argument("--until-end", action="store_true",
                        help="stop when the end offsets seen at the start are reached (dump the topics)")
    parser.add_argument("--count", type=v.arg_int(1, v.MAX_COUNT), default=None, metavar="N",
                        help="stop after N messages")
    parser.add_argument("--duration", type=v.arg_duration(), default=None, metavar="SECONDS",
                        help="stop after SECONDS (at most a week)")
    parser.add_argument("--flush-interval", type=v.arg_duration(3600.0), default=1.0, metavar="SECONDS",
                        help="flush at least this often (default: %(default)s)")
    parser.add_argument("--force", action="store_true", help="overwrite FILE.h5 if it exists")
    parser.add_argument("--no-views", action="store_true", help="do not write the NeXus views (/entry)")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress lines on stderr")
    parser.add_argument("--json", action="store_true", help="print the final statistics as JSON")
    parser.set_defaults(func=_record)


def _progress(stats: Any) -> None:
    print(f"donki record: {stats.line()}", file=sys.stderr, flush=True)


def _record(args: argparse.Namespace) -> int:
    from harness.recording.writer.positions import StartPosition
    from harness.recording.writer.recorder import Recorder

    StartPosition.parse(args.start)  # a bad --start is refused before the file or a consumer exists
    recorder = Recorder(args.output, args.topic, client_config(args), start=args.start, until_end=args.until_end,
                        max_messages=args.count, duration_s=args.duration, flush_interval_s=args.flush_interval,
                        overwrite=args.force, views=not args.no_views,
                        progress=None if args.quiet else _progress, metadata={"command": " ".join(sys.argv)})
    recorder.open()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: recorder.request_stop())
    if not args.quiet:
        print(f"donki record: recording {', '.join(args.topic)} from {recorder.start_position.describe()} "
              f"to {args.output}; Ctrl-C to stop", file=sys.stderr, flush=True)
    stats = recorder.run()
    if args.json:
        print(json.dumps({**vars(stats), "msg_per_s": stats.msg_per_s, "mb_per_s": stats.mb_per_s}, indent=2))
    else:
        print(f"{args.output}: {stats.line()}; stopped: {stats.stop_reason}")
    return 0
