"""Entry point of a player process: ``python -m harness.orchestra.player_process CONFIG.json``.

The config is a :class:`~harness.orchestra.player_config.PlayerConfig` as JSON (never
pickled). SIGTERM and SIGINT make the player tear down, say bye and exit 0. Exit codes:
0 normal end, 2 bad config or rejected by the director, 3 the director vanished.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from harness.errors import DonkiError
from harness.orchestra.player import EXIT_DIRECTOR_LOST, EXIT_ERROR, EXIT_OK, Player, PlayerExit
from harness.orchestra.player_config import PlayerConfig

__all__ = ["main", "run_player_process", "EXIT_OK", "EXIT_ERROR", "EXIT_DIRECTOR_LOST"]


def run_player_process(config: PlayerConfig) -> int:
    """Run one player in this process until it ends; returns the exit code."""
    handler = logging.StreamHandler(sys.stderr)  # removed again below: in-process runs leave no trace
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("harness")
    logger.addHandler(handler)
    try:
        return _run_with_signals(config)
    finally:
        logger.removeHandler(handler)


def _run_with_signals(config: PlayerConfig) -> int:
    stop = threading.Event()
    previous = {signum: signal.signal(signum, lambda *_: stop.set()) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        outcome = Player(config, stop_event=stop, mode="process").run()
    except DonkiError as exc:
        print(f"donki player {config.name}: error: {exc}", file=sys.stderr, flush=True)
        return EXIT_ERROR
    finally:
        for signum, handler in previous.items():  # run in-process (tests, embedding): leave no trace
            signal.signal(signum, handler)
    return EXIT_DIRECTOR_LOST if outcome == PlayerExit.DIRECTOR_LOST else EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python -m harness.orchestra.player_process CONFIG.json", file=sys.stderr)
        return EXIT_ERROR
    try:
        config = PlayerConfig.from_file(Path(args[0]))
    except DonkiError as exc:
        print(f"donki player: error: {exc}", file=sys.stderr, flush=True)
        return EXIT_ERROR
    return run_player_process(config)


if __name__ == "__main__":
    sys.exit(main())
