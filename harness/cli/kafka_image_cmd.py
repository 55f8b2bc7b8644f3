"""``donki kafka image build``: the Kafka image for the container provider, built here."""

from __future__ import annotations

import argparse
import re

from harness.cli.output import log

__all__ = ["register_image"]

_TAG_RE = re.compile(r"^[a-z0-9]+(?:[._/-][a-z0-9]+)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?$")


def _tag(text: str) -> str:
    if not _TAG_RE.match(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not an image name like pytest-donki/kafka:4.3.1")
    return text


def register_image(kafka_actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``image build`` under ``donki kafka``."""
    image = kafka_actions.add_parser("image", help="build the Kafka Docker image for the container provider")
    sub = image.add_subparsers(dest="image_command", metavar="ACTION", required=True)
    build = sub.add_parser(
        "build", help="build a Kafka image from Debian packages and the Maven-resolved jars (no registry needed)"
    )
    build.add_argument("--tag", type=_tag, default=None,
                       help="image name (default: pytest-donki/kafka:<Kafka version>)")
    build.add_argument("--kafka-version", default=None, help="Apache Kafka version (default: the built-in one)")
    build.add_argument("--force", action="store_true", help="build even when an image with the same inputs exists")
    build.set_defaults(func=_build)


def _build(args: argparse.Namespace) -> int:
    from harness.kafka.imagebuild import build_image

    built = build_image(args.tag, args.kafka_version, force=args.force, log=log)
    state = "cached" if built.cached else f"built in {built.seconds:.0f} s"
    print(f"{built.tag} (Apache Kafka {built.kafka_version}, inputs {built.inputs}): {state}")
    return 0
