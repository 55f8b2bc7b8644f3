"""``donki replay``: a recording -> Kafka with its recorded timing (or scaled, or flat out)."""

from __future__ import annotations

import argparse
import json
import signal
import sys

from harness.cli.kafka_args import add_bootstrap, client_config

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    from harness.recording.replay.replayer import CLOCKS

    parser = subparsers.add_parser(
        "replay", help="publish a recording into Kafka",
        description="Publish a recording into Kafka: same payload bytes, keys, headers and partitions, in recorded "
                    "order, with the recorded timing (drift-free), scaled by --speed, or --fast.")
    parser.add_argument("file", metavar="FILE.h5")
    add_bootstrap(parser)
    pace = parser.add_mutually_exclusive_group()
    pace.add_argument("--speed", type=float, default=1.0, help="timing factor, 2 = twice as fast (default: 1)")
    pace.add_argument("--fast", action="store_true", help="as fast as possible, no timing")
    parser.add_argument("--clock", choices=CLOCKS, default="timestamp",
                        help="recorded time base to pace by (default: %(default)s)")
    parser.add_argument("--map", action="append", default=[], metavar="RECORDED=TARGET",
                        help="send a recorded topic to another topic (repeatable)")
    parser.add_argument("--topic", "-t", action="append", default=None, metavar="NAME",
                        help="replay only this recorded topic (repeatable)")
    loops = parser.add_mutually_exclusive_group()
    loops.add_argument("--loop", type=int, default=1, metavar="N", help="send the recording N times")
    loops.add_argument("--forever", action="store_true", help="loop until Ctrl-C")
    parser.add_argument("--live", action="store_true",
                        help="shift Kafka and ESS timestamps so the data look live (first message = now)")
    parser.add_argument("--max-gap", type=float, default=None, metavar="SECONDS",
                        help="shorten recorded pauses longer than SECONDS")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(func=_replay)


def _topic_map(pairs: list[str]) -> dict[str, str]:
    from harness.errors import ConfigError

    mapping = {}
    for pair in pairs:
        source, sep, target = pair.partition("=")
        if not sep or not source or not target:
            raise ConfigError(f"--map {pair!r}: expected RECORDED=TARGET, e.g. --map loki_events=test_events")
        mapping[source] = target
    return mapping


def _replay(args: argparse.Namespace) -> int:
    from harness.errors import ConfigError
    from harness.recording.replay.replayer import Replayer

    if args.speed <= 0 or args.loop < 1:
        raise ConfigError(f"--speed {args.speed} / --loop {args.loop}: expected positive values (--fast, --forever)")
    replayer = Replayer(args.file, client_config(args), topic_map=_topic_map(args.map), topics=args.topic,
                        speed=None if args.fast else args.speed, clock=args.clock,
                        loops=0 if args.forever else args.loop, shift_timestamps=args.live, max_gap_s=args.max_gap)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: replayer.request_stop())
    print(f"donki replay: {len(replayer.rows)} messages of {args.file}; Ctrl-C to stop", file=sys.stderr, flush=True)
    report = replayer.run()
    if args.json:
        data = {k: v for k, v in vars(report).items() if k != "timing"}
        data["timing"] = None if report.timing is None else vars(report.timing)
        data.update(msg_per_s=report.msg_per_s, mb_per_s=report.mb_per_s)
        print(json.dumps(data, indent=2))
    else:
        print(f"{args.file}: {report.line()}")
        if report.failed:
            print(f"first failure: {report.first_failure}", file=sys.stderr)
    return 1 if report.failed else 0
