"""``donki record``: Kafka topics -> a recording file, until Ctrl-C, a deadline or a count."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from typing import Any

from harness import validate as v
from harness.cli.kafka_args import add_bootstrap, client_config, require_reachable
from harness.cli.output import log
from harness.durations import duration_arg

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
    parser.add_argument("--duration", type=v.arg_duration(), default=None, metavar="DURATION",
                        help="stop after this long: seconds or 3s, 500ms, 2m (at most a week)")
    parser.add_argument("--wait-for-topic", nargs="?", const=float("inf"), default=None, type=duration_arg,
                        metavar="DURATION", help="wait for missing topics to be created (by the producer), "
                                                 "until Ctrl-C or DURATION, instead of refusing them")
    parser.add_argument("--flush-interval", type=v.arg_duration(3600.0), default=1.0, metavar="SECONDS",
                        help="flush at least this often (default: %(default)s)")
    parser.add_argument("--force", action="store_true", help="overwrite FILE.h5 if it exists")
    parser.add_argument("--no-views", action="store_true", help="do not write the NeXus views (/entry)")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")
    parser.add_argument("--json", action="store_true", help="print the final statistics as JSON")
    parser.set_defaults(func=_record)


class _Latest:
    """The recorder's newest statistics, for the progress line."""

    def __init__(self) -> None:
        self.stats: Any = None

    def __call__(self, stats: Any) -> None:
        self.stats = stats

    def sample(self) -> dict[str, Any]:
        s = self.stats
        if s is None:
            return {"messages": 0}
        return {"messages": s.messages, "msg/s": round(s.msg_per_s, 1), "MB": round(s.bytes / 1e6, 2),
                "MB/s": round(s.mb_per_s, 2), "lag": "?" if s.lag is None else s.lag}


def wait_for_topics(config: dict[str, Any], topics: list[str], timeout_s: float, poll_s: float = 0.5) -> None:
    """Return once every topic exists; a :class:`TopicError` naming the missing ones after ``timeout_s``."""
    from harness.errors import TopicError
    from harness.kafka import TopicAdmin

    admin = TopicAdmin(config)
    deadline = time.monotonic() + timeout_s
    missing = [t for t in topics if t not in admin.list()]
    if missing:
        log(f"waiting for topic(s) {', '.join(missing)} to be created; Ctrl-C to give up")
    while missing:
        if time.monotonic() >= deadline:
            raise TopicError(f"topic(s) {', '.join(missing)} still missing after {timeout_s:g} s of "
                             "--wait-for-topic; create them (`donki kafka topics create NAME`) or start the producer")
        time.sleep(poll_s)
        missing = [t for t in topics if t not in admin.list()]


def _record(args: argparse.Namespace) -> int:
    from harness.recording.writer.positions import StartPosition
    from harness.recording.writer.recorder import Recorder

    StartPosition.parse(args.start)  # a bad --start is refused before the file or a consumer exists
    config = client_config(args, check=False)
    latest = _Latest()
    recorder = Recorder(args.output, args.topic, config, start=args.start, until_end=args.until_end,
                        max_messages=args.count, duration_s=args.duration, flush_interval_s=args.flush_interval,
                        overwrite=args.force, views=not args.no_views, progress=latest,
                        metadata={"command": " ".join(sys.argv)}, check_broker=False)
    require_reachable(config["bootstrap.servers"], config)  # after the options are known to be good
    if args.wait_for_topic is not None:
        wait_for_topics(config, args.topic, args.wait_for_topic)
    recorder.open()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: recorder.request_stop())
    if args.quiet:
        stats = recorder.run()
    else:
        log(f"recording {', '.join(args.topic)} from {recorder.start_position.describe()} to {args.output}; "
            "Ctrl-C to stop")
        from harness.cli.progress import LiveStatus

        with LiveStatus("record", latest.sample):
            stats = recorder.run()
            latest(stats)  # the last line shows the totals, also of a run shorter than one progress interval
    if args.json:
        print(json.dumps({**vars(stats), "msg_per_s": stats.msg_per_s, "mb_per_s": stats.mb_per_s}, indent=2))
    else:
        print(f"{args.output}: {stats.line()}; stopped: {stats.stop_reason}")
    return 0
