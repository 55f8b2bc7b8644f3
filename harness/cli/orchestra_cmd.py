"""``donki director``, ``donki player`` and ``donki curve-keys``: the orchestra from a shell.

On one host (or several)::

    donki director --players 2 --count 100 --rate 14 --journal run.json
    donki player --director tcp://127.0.0.1:PORT --name det --priority 0 --stream sleep --param seconds=0.01
    donki player --director tcp://127.0.0.1:PORT --name motion --priority 1 --stream noop --divisor 14
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness import validate as v
from harness.cli.output import log
from harness.errors import ConfigError, DonkiError
from harness.orchestra.ack import AckAfter
from harness.orchestra.plan import MAX_CATCH_UP

if TYPE_CHECKING:
    from harness.orchestra import PlayerConfig

__all__ = ["register", "parse_param", "player_config"]

POLICIES = ("fail", "skip", "resend")
WAIT_STEP_S = 0.2  # how often the director checks for Ctrl-C / SIGTERM
# as harness.orchestra.director.DEFAULT_LIVENESS (not imported: start-up speed); a test holds them equal
DEFAULT_LIVENESS = 6
MAX_PLAYERS = 1000
MAX_PARAMS_BYTES = 1024 * 1024


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    _register_director(subparsers)
    _register_player(subparsers)
    keys = subparsers.add_parser("curve-keys", help="create a CURVE key pair for a director or a player")
    keys.add_argument("name", type=v.arg(v.name, str), help="key name; writes NAME.key (public) and NAME.key_secret")
    keys.add_argument("--dir", type=Path, default=Path("."), help="directory to write to (default: .)")
    keys.set_defaults(func=_curve_keys)


def _register_director(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("director", help="bind a director, wait for players, run a trigger sequence")
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default: loopback)")
    p.add_argument("--port", type=v.arg_port(), default=0, help="port to bind, 1-65535 (default: a free one)")
    p.add_argument("--insecure", action="store_true",
                   help="allow a non-loopback --host without CURVE keys (warned: anyone who reaches it can join)")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--players", type=v.arg_int(1, MAX_PLAYERS), metavar="N", help="wait for this many players")
    who.add_argument("--player", action="append", metavar="NAME", help="wait for this player (repeatable)")
    p.add_argument("--register-timeout", type=v.arg_duration(), default=60.0, metavar="S",
                   help="how long to wait for the players (default: %(default)s)")
    many = p.add_mutually_exclusive_group()
    many.add_argument("--count", type=v.arg_int(1, v.MAX_TRIGGERS), default=10,
                      help="number of triggers (default: %(default)s)")
    many.add_argument("--endless", action="store_true", help="run until Ctrl-C or SIGTERM")
    p.add_argument("--rate", type=v.arg_rate(), default=None, metavar="HZ",
                   help="base rate (default: as fast as acked)")
    p.add_argument("--ack-timeout", type=v.arg_duration(3600.0), default=1.0, metavar="S",
                   help="ack deadline (default: %(default)s)")
    p.add_argument("--policy", choices=POLICIES, default="skip", help="on a missed ack (default: %(default)s)")
    p.add_argument("--resends", type=v.arg_int(0, 100), default=0, metavar="K", help="re-sends with --policy resend")
    p.add_argument("--catch-up", type=v.arg_int(1, MAX_CATCH_UP), default=1, metavar="N",
                   help="periods a stall may last and still be made up by sending the next triggers at once "
                        "(default: %(default)s)")
    p.add_argument("--run-timeout", type=v.arg_duration(), default=None, metavar="S",
                   help="deadline for the whole run")
    p.add_argument("--heartbeat", type=v.arg_duration(60.0), default=0.5, metavar="S",
                   help="heartbeat interval (default: 0.5)")
    p.add_argument("--liveness", type=v.arg_int(1, 1000), default=DEFAULT_LIVENESS,
                   help="heartbeats missed before a player is lost (default: %(default)s)")
    p.add_argument("--journal", type=v.arg_new_file(), default=None, metavar="PATH",
                   help="write the run journal as JSON")
    p.add_argument("--endpoint-file", type=v.arg_new_file(), default=None, metavar="PATH",
                   help="write the bound endpoint to this file (for scripts)")
    p.add_argument("--curve-secret", type=Path, default=None, metavar="FILE", help="director's NAME.key_secret")
    p.add_argument("--curve-allowed", type=Path, default=None, metavar="DIR", help="directory of allowed player keys")
    p.set_defaults(func=_director)


def _register_player(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("player", help="join a director and run an action kind per trigger")
    p.add_argument("--director", required=True, metavar="tcp://HOST:PORT", help="the director's endpoint")
    p.add_argument("--name", required=True, help="unique player name")
    p.add_argument("--priority", type=v.arg_int(-1000, 1000), default=0, help="level (< 0: disabled; default: 0)")
    p.add_argument("--stream", required=True, metavar="SPEC", help="action kind to run per trigger "
                   "(noop, sleep, fail-at, crash-at, hang-at, python, or a stream kind)")
    p.add_argument("--divisor", type=v.arg_int(1, 1_000_000), default=1, metavar="M",
                   help="due on trigger 1 and every M-th after")
    p.add_argument("--stream-name", action="append", default=[], metavar="NAME",
                   help="name of a stream it produces (journaled; repeatable)")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="action parameter; VALUE is read as JSON when it parses, else as text (repeatable)")
    p.add_argument("--params-json", default=None, metavar="JSON", help="all action parameters as a JSON object")
    p.add_argument("--bootstrap", default=None,
                   help="Kafka bootstrap HOST:PORT for stream kinds (default: $DONKI_BOOTSTRAP)")
    p.add_argument("--topic", default=None, help="Kafka topic for stream kinds")
    p.add_argument("--seed", type=v.arg_int(0, 2**63 - 1), default=None, help="random seed for generated data")
    p.add_argument("--ack", choices=AckAfter.choices(), default=AckAfter.SEND.value,
                   help="ack when sent, or after Kafka confirmed delivery (default: %(default)s)")
    p.add_argument("--hello-timeout", type=v.arg_duration(3600.0), default=10.0, metavar="S",
                   help="wait for the welcome")
    p.add_argument("--heartbeat", type=v.arg_duration(60.0), default=0.5, metavar="S",
                   help="the director's --heartbeat (default: 0.5): with --liveness, sizes the connection's "
                        "ZMTP timeout so that a partition the director rides out does not drop it")
    p.add_argument("--liveness", type=v.arg_int(1, 1000), default=DEFAULT_LIVENESS,
                   help="the director's --liveness (default: %(default)s)")
    p.add_argument("--curve-secret", type=Path, default=None, metavar="FILE", help="player's NAME.key_secret")
    p.add_argument("--curve-server-key", type=Path, default=None, metavar="FILE", help="director's NAME.key")
    p.set_defaults(func=_player)


def parse_param(text: str) -> tuple[str, Any]:
    """``KEY=VALUE`` with VALUE as JSON when it parses (numbers, true, lists), else as text."""
    key, sep, raw = text.partition("=")
    if not sep or not key:
        raise ConfigError(f"--param {text!r}: expected KEY=VALUE, e.g. --param seconds=0.01")
    return key, _json_or_text(raw, f"--param {key}")


def _json_or_text(raw: str, what: str) -> Any:
    if len(raw) > MAX_PARAMS_BYTES:
        raise ConfigError(f"{what}: {len(raw)} characters; at most {MAX_PARAMS_BYTES} expected")
    try:
        value = json.loads(raw)
    except ValueError:
        return raw
    except RecursionError:
        raise ConfigError(f"{what}: JSON nested too deeply; expected plain parameter values") from None
    v.finite_json(what, value)
    return value


def _params(args: argparse.Namespace) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if args.params_json is not None:
        params = _json_or_text(args.params_json, "--params-json")
        if isinstance(params, str):
            raise ConfigError("--params-json: not JSON; expected a JSON object like '{\"seconds\": 0.01}'")
        if not isinstance(params, dict):
            raise ConfigError("--params-json: expected a JSON object like '{\"seconds\": 0.01}'")
    params.update(parse_param(p) for p in args.param)
    return params


def _pair(secret: Path | None, other: Path | None, flags: str) -> tuple[Path, Path] | None:
    if (secret is None) != (other is None):
        raise ConfigError(f"CURVE needs both {flags}, or neither")
    return None if secret is None or other is None else (secret, other)


def player_config(args: argparse.Namespace) -> PlayerConfig:
    """The player that ``donki player`` ARGS describe (the Kafka cluster defaults to ``$DONKI_BOOTSTRAP``)."""
    from harness.orchestra import CurveClient, PlayerConfig

    keys = _pair(args.curve_secret, args.curve_server_key, "--curve-secret and --curve-server-key")
    return PlayerConfig(director=args.director, name=args.name, kind=args.stream, params=_params(args),
                        priority=args.priority, divisor=args.divisor, streams=tuple(args.stream_name),
                        ack_mode=args.ack, bootstrap=args.bootstrap or os.environ.get("DONKI_BOOTSTRAP") or None,
                        topic=args.topic, seed=args.seed, hello_timeout_s=args.hello_timeout,
                        curve=CurveClient(*keys) if keys else None, heartbeat_s=args.heartbeat,
                        liveness=args.liveness)


def _player(args: argparse.Namespace) -> int:
    from harness.orchestra.player_process import run_player_process

    return run_player_process(player_config(args))


def _director(args: argparse.Namespace) -> int:
    from harness.orchestra import RunPlan

    keys = _pair(args.curve_secret, args.curve_allowed, "--curve-secret and --curve-allowed")
    from harness.orchestra.director import is_loopback

    if keys is None and not is_loopback(args.host):
        if not args.insecure:
            raise ConfigError(f"--host {args.host}: not loopback and no CURVE keys; anyone who can reach it could "
                              "join as a player: give --curve-secret and --curve-allowed, or --insecure")
        log(f"warning: binding {args.host} without CURVE (--insecure): anyone who can reach it can join")
    plan = RunPlan(count=None if args.endless else args.count, rate_hz=args.rate, ack_timeout_s=args.ack_timeout,
                   policy=args.policy, resends=args.resends, catch_up=args.catch_up)
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        return _serve_director(args, plan, stop, keys)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _serve_director(args: argparse.Namespace, plan: Any, stop: threading.Event, keys: Any) -> int:
    from harness.orchestra import CurveServer, Director

    seats = args.players if args.players is not None else len(set(args.player))
    director = Director(args.host, args.port, heartbeat_s=args.heartbeat, liveness=args.liveness,
                        curve=CurveServer(*keys) if keys else None, max_players=seats, insecure=args.insecure)
    with director:
        print(f"endpoint: {director.endpoint}", flush=True)
        if args.endpoint_file is not None:
            args.endpoint_file.write_text(director.endpoint + "\n")
        try:
            _wait_for_players(director, args.player or args.players, args.register_timeout, stop)
            log(f"players: {', '.join(f'{p.name} (priority {p.priority})' for p in director.players())}")
            result = _run(director, plan, args.run_timeout, stop)
        except KeyboardInterrupt:
            director.abort("interrupted (Ctrl-C)")
            raise
        finally:
            if args.journal is not None:
                args.journal.write_text(director.journal.to_json())
                log(f"journal: {args.journal} ({len(director.journal)} events)")
        _summary(director, result)
        errors = director.take_player_errors()
        for error in errors:
            log(f"player failure: {error}")
    return 0 if result.ok and not errors else 1


def _wait_for_players(director: Any, names: Any, timeout_s: float, stop: threading.Event) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        remaining = deadline - time.monotonic()
        try:
            director.wait_for_players(names, max(0.0, min(WAIT_STEP_S, remaining)))
            return
        except DonkiError:
            if stop.is_set():
                raise KeyboardInterrupt from None  # SIGTERM while waiting: end as Ctrl-C does
            if remaining <= 0:
                raise director.registration_error(names, timeout_s) from None


def _run(director: Any, plan: Any, timeout_s: float | None, stop: threading.Event) -> Any:
    # a counted run too is waited for in steps, so SIGTERM (stop) ends it like Ctrl-C does
    if plan.count is not None and timeout_s is None:
        timeout_s = director._run_deadline(plan)
    handle = director.start_run(plan)
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    while not handle.done():
        if stop.is_set() or (deadline is not None and time.monotonic() >= deadline):
            director.stop_run()
            return handle.wait(plan.ack_timeout_s * (plan.resends + 1) * 4 + 5.0)
        try:
            return handle.wait(WAIT_STEP_S)
        except DonkiError:
            continue
    return handle.wait(0)


def _summary(director: Any, result: Any) -> None:
    from harness.orchestra import EventKind

    per_player: dict[str, dict[str, int]] = {}
    for event in director.journal.of_kind(EventKind.ACK, EventKind.NACK, EventKind.MISSED):
        tally = per_player.setdefault(event.player, {"ack": 0, "nack": 0, "missed": 0})
        tally[event.kind.value] += 1
    print(f"run {result.state.value}: {result.reason}; triggers {result.first_trigger}..{result.last_trigger} "
          f"in {result.elapsed_s:.3f} s", flush=True)
    for name, tally in sorted(per_player.items()):
        print(f"  {name}: acked {tally['ack']}, nacked {tally['nack']}, missed {tally['missed']}", flush=True)


def _curve_keys(args: argparse.Namespace) -> int:
    from harness.orchestra import generate_keypair

    public, secret = generate_keypair(args.dir, args.name)
    print(f"public key: {public}\nsecret key: {secret}")
    log("give the public key (NAME.key) to the other side; keep NAME.key_secret private. A director "
         "accepts a player whose NAME.key is in its --curve-allowed directory.")
    return 0
