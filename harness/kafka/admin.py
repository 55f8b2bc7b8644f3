"""Topic administration and per-test topic namespaces."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from harness.errors import TopicError
from harness.kafka.readiness import quiet_logger

if TYPE_CHECKING:
    # the admin package uses it without re-exporting it
    from confluent_kafka.admin._metadata import TopicMetadata

__all__ = ["TopicSpec", "TopicAdmin", "TopicNamespace", "sanitize_topic_part"]

ADMIN_TIMEOUT_S = 30.0
MAX_TOPIC_LENGTH = 249
_TOPIC_RE = re.compile(r"^[A-Za-z0-9._-]+$")


@dataclass(frozen=True)
class TopicSpec:
    """A topic to create: name, partitions, replication and configs."""

    name: str
    partitions: int = 1
    replication: int | None = None  # None: the cluster's default.replication.factor
    config: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not _TOPIC_RE.match(self.name) or len(self.name) > MAX_TOPIC_LENGTH or self.name in (".", ".."):
            raise TopicError(
                f"topic name {self.name!r} is not valid: use 1-{MAX_TOPIC_LENGTH} characters of A-Z a-z 0-9 . _ -"
            )
        if self.partitions < 1:
            raise TopicError(f"topic {self.name!r}: partitions={self.partitions}, expected 1 or more")


class TopicAdmin:
    """Create, delete and list topics; every call has a deadline."""

    def __init__(self, client_config: Mapping[str, Any], timeout_s: float = ADMIN_TIMEOUT_S) -> None:
        from confluent_kafka.admin import AdminClient

        self._timeout_s = timeout_s
        self._bootstrap = client_config.get("bootstrap.servers", "?")
        # Any-valued: librdkafka settings also take objects (the logger), which AdminClient's annotation leaves out
        config: dict[str, Any] = {"logger": quiet_logger(), **client_config}
        self._admin = AdminClient(config)

    def create(self, specs: Iterable[TopicSpec], *, exist_ok: bool = False) -> list[str]:
        """Create topics and wait until their leaders are known."""
        from confluent_kafka import KafkaError
        from confluent_kafka.cimpl import NewTopic  # its typed home; confluent_kafka.admin re-exports it untyped

        specs = list(specs)
        if not specs:
            return []
        new = [
            NewTopic(s.name, s.partitions, -1 if s.replication is None else s.replication, config=dict(s.config))
            for s in specs
        ]
        futures = self._admin.create_topics(new, operation_timeout=self._timeout_s, request_timeout=self._timeout_s)
        for name, future in futures.items():
            try:
                future.result(timeout=self._timeout_s)
            except Exception as exc:  # noqa: BLE001 - KafkaException or timeout, re-raised with context
                error = _error_of(exc)
                if exist_ok and getattr(error, "code", lambda: None)() == KafkaError.TOPIC_ALREADY_EXISTS:
                    continue
                raise TopicError(f"could not create topic {name!r} on {self._bootstrap}: "
                                 f"{_reason(error, self._timeout_s)}") from None
        self._wait_for_leaders([s.name for s in specs])
        return [s.name for s in specs]

    def delete(self, names: Iterable[str], *, missing_ok: bool = True) -> None:
        from confluent_kafka import KafkaError

        names = list(names)
        if not names:
            return
        futures = self._admin.delete_topics(names, operation_timeout=self._timeout_s, request_timeout=self._timeout_s)
        for name, future in futures.items():
            try:
                future.result(timeout=self._timeout_s)
            except Exception as exc:  # noqa: BLE001
                error = _error_of(exc)
                if missing_ok and getattr(error, "code", lambda: None)() == KafkaError.UNKNOWN_TOPIC_OR_PART:
                    continue
                raise TopicError(f"could not delete topic {name!r} on {self._bootstrap}: "
                                 f"{_reason(error, self._timeout_s)}") from None
        self._wait_until(lambda topics: not set(names) & set(topics), f"topics {names} still listed")

    def list(self) -> dict[str, int]:
        """Topic name -> partition count (internal topics left out)."""
        metadata = self._admin.list_topics(timeout=self._timeout_s)
        return {n: len(t.partitions) for n, t in metadata.topics.items() if not n.startswith("__")}

    def partitions(self, name: str) -> int:
        """Partition count of ``name``; a :class:`TopicError` if it does not exist."""
        metadata = self._admin.list_topics(topic=name, timeout=self._timeout_s)
        topic = metadata.topics.get(name)
        if topic is None or topic.error is not None:
            raise TopicError(f"topic {name!r} does not exist on {self._bootstrap}")
        return len(topic.partitions)

    def _wait_for_leaders(self, names: Sequence[str]) -> None:
        def led(topics: Mapping[str, TopicMetadata]) -> bool:
            return all(
                (t := topics.get(n)) is not None and t.error is None and t.partitions
                and all(p.leader >= 0 for p in t.partitions.values())
                for n in names
            )

        self._wait_until(led, f"topics {names} have no leader")

    def _wait_until(self, done: Callable[[Mapping[str, TopicMetadata]], bool], what: str) -> None:
        """Topic changes are asynchronous in Kafka: poll metadata until ``done`` or the deadline."""
        import time

        deadline = time.monotonic() + self._timeout_s
        while not done(self._admin.list_topics(timeout=self._timeout_s).topics):
            if time.monotonic() > deadline:
                raise TopicError(f"{what} after {self._timeout_s:.0f} s on {self._bootstrap}")
            time.sleep(0.05)


def _error_of(exc: BaseException) -> object:
    """The KafkaError inside a KafkaException, else the exception itself."""
    return exc.args[0] if isinstance(exc.args, tuple) and len(exc.args) == 1 else exc


def _reason(error: object, timeout_s: float) -> str:
    """Never an empty reason: a bare timeout (``concurrent.futures.TimeoutError()``) says so."""
    text = str(error).strip()
    if text:
        return text
    if isinstance(error, TimeoutError):
        return f"no answer within {timeout_s:g} s (is the broker running and reachable?)"
    return type(error).__name__


def sanitize_topic_part(text: str, limit: int = 60) -> str:
    """Make any text (a test id) usable inside a topic name."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.") or "t"
    return cleaned[:limit]


class TopicNamespace:
    """Topics private to one test (or one xdist worker): ``<prefix>.<instrument>_<purpose>``.

    Every topic made through the namespace is deleted by :meth:`cleanup`.
    """

    def __init__(self, admin: TopicAdmin, label: str = "", *, prefix: str | None = None) -> None:
        self.admin = admin
        unique = uuid.uuid4().hex[:8]
        if prefix is None:
            prefix = f"donki-{sanitize_topic_part(label, 40)}-{unique}" if label else f"donki-{unique}"
        self.prefix = prefix
        self.created: list[str] = []

    def name(self, local: str) -> str:
        """The full topic name for ``local`` (e.g. ``loki_detector``) in this namespace."""
        return f"{self.prefix}.{local}"

    def create(self, local: str, partitions: int = 1, replication: int | None = None,
               config: Mapping[str, str] | None = None) -> str:
        """Create ``local`` in this namespace and return its full name."""
        spec = TopicSpec(self.name(local), partitions, replication, dict(config or {}))
        self.admin.create([spec])
        self.created.append(spec.name)
        return spec.name

    def __call__(self, local: str, partitions: int = 1, **kwargs: Any) -> str:
        return self.create(local, partitions, **kwargs)

    def cleanup(self) -> None:
        """Delete every topic this namespace created."""
        created, self.created = self.created, []
        self.admin.delete(created)
