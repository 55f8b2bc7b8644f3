"""``donki writer``: run the file-writer double until interrupted."""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path

__all__ = ["register"]


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value <= 60:
        raise argparse.ArgumentTypeError(f"{text!r}: expected seconds in (0, 60]")
    return value


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from harness.cli.kafka_args import add_bootstrap

    parser = subparsers.add_parser(
        "writer", help="run a file-writer double (kafka-to-nexus's command protocol)",
        description="Listen for pl72 run starts on JOB_POOL_TOPIC and write NeXus files into --output; answ, x5f2 "
                    "and wrdn go to each start's control_topic. Runs until SIGINT/SIGTERM.")
    parser.add_argument("job_pool_topic", metavar="JOB_POOL_TOPIC", help="topic the run starts arrive on")
    parser.add_argument("--output", "-o", type=Path, default=Path("."), help="directory of relative file names")
    parser.add_argument("--service-id", default="donki-filewriter", help="answer commands for this service id")
    parser.add_argument("--status-topic", default=None, help="also publish the service's x5f2 status here")
    parser.add_argument("--status-interval", type=_seconds, default=1.0, help="seconds between x5f2 (default 1)")
    parser.add_argument("--flush-interval", type=_seconds, default=0.5,
                        help="seconds between file flushes; a crash loses at most this much (default 0.5)")
    parser.add_argument("--stop-leeway", type=_seconds, default=1.0,
                        help="seconds after the stop time to wait for late data (default 1)")
    add_bootstrap(parser)
    parser.set_defaults(func=_writer)


def _writer(args: argparse.Namespace) -> int:
    from harness.cli.kafka_args import client_config
    from harness.cli.output import log
    from harness.errors import ConfigError
    from harness.filewriter import FileWriterService, WriterSettings

    if not args.output.is_dir():
        raise ConfigError(f"--output {str(args.output)!r} is not a directory; create it first")
    settings = WriterSettings(args.job_pool_topic, args.output.resolve(), args.service_id, args.status_topic,
                              args.status_interval, args.stop_leeway, args.flush_interval)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with FileWriterService(client_config(args), settings):
        log(f"file writer {args.service_id!r} listening on {args.job_pool_topic!r}, writing into {settings.output_dir}")
        stop.wait()
    log("file writer stopped")
    return 0
