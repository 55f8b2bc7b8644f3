"""``donki kafka topics create|list|delete|describe``: a cluster's topics, for recording and replaying."""

from __future__ import annotations

import argparse
from typing import Any

from harness.cli.kafka_args import add_bootstrap, client_config
from harness.cli.output import console, log, print_table

__all__ = ["register"]


def register(kafka_sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    topics = kafka_sub.add_parser("topics", help="create, list, delete or describe a cluster's topics",
                                  description="Manage topics on the cluster at --bootstrap (default: "
                                              "$DONKI_BOOTSTRAP), e.g. before `donki record` or `donki replay --map`.")
    sub = topics.add_subparsers(dest="topics_command", metavar="ACTION", required=True)
    create = sub.add_parser("create", help="create topics (unlimited retention, as donki's brokers)")
    create.add_argument("names", nargs="+", metavar="NAME")
    create.add_argument("--partitions", "-p", type=int, default=1, help="partitions per topic (default: 1)")
    create.add_argument("--replication", "-r", type=int, default=None,
                        help="replication factor (default: the cluster's)")
    create.add_argument("--exist-ok", action="store_true", help="an existing topic is not an error")
    create.set_defaults(func=_create)
    listing = sub.add_parser("list", help="list the topics with their partition counts")
    listing.set_defaults(func=_list)
    delete = sub.add_parser("delete", help="delete topics")
    delete.add_argument("names", nargs="+", metavar="NAME")
    delete.add_argument("--missing-ok", action="store_true", help="a missing topic is not an error")
    delete.set_defaults(func=_delete)
    describe = sub.add_parser("describe", help="partitions, leaders and message offsets of topics")
    describe.add_argument("names", nargs="+", metavar="NAME")
    describe.set_defaults(func=_describe)
    for parser in (create, listing, delete, describe):
        add_bootstrap(parser)


def _admin(args: argparse.Namespace) -> tuple[Any, dict[str, Any]]:
    from harness.kafka import TopicAdmin

    config = client_config(args)
    return TopicAdmin(config), config


def _create(args: argparse.Namespace) -> int:
    from harness.errors import ConfigError
    from harness.kafka import TopicSpec

    if args.partitions < 1 or (args.replication is not None and args.replication < 1):
        raise ConfigError(f"--partitions {args.partitions} / --replication {args.replication}: expected 1 or more")
    admin, _ = _admin(args)
    specs = [TopicSpec(name, args.partitions, args.replication, {"retention.ms": "-1"}) for name in args.names]
    admin.create(specs, exist_ok=args.exist_ok)
    for name in args.names:
        print(name)
    log(f"{len(specs)} topic(s) ready with {args.partitions} partition(s)")
    return 0


def _list(args: argparse.Namespace) -> int:
    admin, _ = _admin(args)
    topics = admin.list()
    out = console()
    if not out.is_terminal:
        for name, partitions in sorted(topics.items()):
            print(f"{name}\t{partitions}")
        return 0
    from rich import box
    from rich.table import Table

    table = Table("topic", "partitions", box=box.SIMPLE_HEAD, pad_edge=False)
    for name, partitions in sorted(topics.items()):
        table.add_row(name, str(partitions))
    out.print(table if topics else "no topics")
    return 0


def _delete(args: argparse.Namespace) -> int:
    from harness.errors import TopicError

    admin, _ = _admin(args)
    existing = admin.list()
    missing = [n for n in args.names if n not in existing]
    if missing and not args.missing_ok:
        raise TopicError(f"no topic(s) {', '.join(missing)} on the cluster; `donki kafka topics list` shows what "
                         "there is (--missing-ok to ignore)")
    admin.delete([n for n in args.names if n in existing])
    log(f"deleted {len(args.names) - len(missing)} topic(s)")
    return 0


def _describe(args: argparse.Namespace) -> int:
    from confluent_kafka import TopicPartition
    from rich import box
    from rich.table import Table

    from harness.errors import TopicError
    from harness.kafka import make_consumer

    admin, config = _admin(args)
    existing = admin.list()
    missing = [n for n in args.names if n not in existing]
    if missing:
        raise TopicError(f"no topic(s) {', '.join(missing)} on the cluster; create with "
                         f"`donki kafka topics create {' '.join(missing)}`")
    consumer = make_consumer(config)
    table = Table("topic", "partition", "leader", "replicas", "first offset", "end offset", "messages",
                  box=box.SIMPLE_HEAD, pad_edge=False)
    try:
        metadata = consumer.list_topics(timeout=10.0).topics
        for name in args.names:
            for p, info in sorted(metadata[name].partitions.items()):
                low, high = consumer.get_watermark_offsets(TopicPartition(name, p), timeout=10.0)
                table.add_row(name, str(p), str(info.leader), ",".join(map(str, info.replicas)), str(low), str(high),
                              str(high - low))
    finally:
        consumer.close()
    print_table(table)
    return 0
