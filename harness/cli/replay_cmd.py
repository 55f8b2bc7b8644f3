"""``donki replay``: a recording -> Kafka with its recorded timing (or scaled, or flat out)."""

from __future__ import annotations

import argparse
import json
import signal
import sys

from harness import validate as v
from harness.cli.kafka_args import add_bootstrap, client_config

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from harness.recording.replay.replayer import CLOCKS, MAX_SPEED, MIN_SPEED

    parser = subparsers.add_parser(
        "replay", help="publish a recording into Kafka",
        description="Publish a recording into Kafka: same payload bytes, keys, headers and partitions, in recorded "
                    "order, with the recorded timing (drift-free), scaled by --speed, or --fast.")
    parser.add_argument("file", metavar="FILE.h5")
    add_bootstrap(parser)
    pace = parser.add_mutually_exclusive_group()
    pace.add_argument("--speed", type=v.arg_number(MIN_SPEED, MAX_SPEED), default=1.0,
                      help=f"timing factor, 2 = twice as fast, {MIN_SPEED:g} to {MAX_SPEED:g} (default: 1)")
    pace.add_argument("--fast", action="store_true", help="as fast as possible, no timing")
    parser.add_argument("--clock", choices=CLOCKS, default="timestamp",
                        help="recorded time base to pace by (default: %(default)s)")
    parser.add_argument("--map", action="append", default=[], metavar="RECORDED=TARGET",
                        help="send a recorded topic to another topic (repeatable)")
    parser.add_argument("--topic", "-t", action="append", default=None, metavar="NAME",
                        help="replay only this recorded topic (repeatable)")
    loops = parser.add_mutually_exclusive_group()
    loops.add_argument("--loop", type=v.arg_int(1, v.MAX_COUNT), default=1, metavar="N",
                       help="send the recording N times")
    loops.add_argument("--forever", action="store_true", help="loop until Ctrl-C")
    parser.add_argument("--live", action="store_true",
                        help="shift Kafka and ESS timestamps so the data look live (first message = now)")
    parser.add_argument("--allow-damaged", action="store_true",
                        help="replay even messages whose payload fails its donki.crc32 (default: refuse the file)")
    parser.add_argument("--max-gap", type=v.arg_duration(), default=None, metavar="SECONDS",
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
    from harness.recording.replay.replayer import Replayer

    replayer = Replayer(args.file, client_config(args), topic_map=_topic_map(args.map), topics=args.topic,
                        speed=None if args.fast else args.speed, clock=args.clock,
                        loops=0 if args.forever else args.loop, shift_timestamps=args.live, max_gap_s=args.max_gap,
                        verify=not args.allow_damaged)
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
