"""Replaying a recording into a test's own topics: the record-replay loop, for streams.

The recording's topics (local names, as golden recordings keep them, or a run's full
names whose namespace the file records) are created in the caller's namespace with the
partitions the recording needs, and the replay runs in the background; the session says
which topic each recorded topic and stream went to.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import RecordingError
from harness.recording.names import local_topic
from harness.recording.reader.reader import Recording
from harness.recording.replay.replayer import Replayer, ReplayReport

if TYPE_CHECKING:
    from harness.kafka import TopicNamespace

__all__ = ["ReplaySession", "replay_into", "DEFAULT_WAIT_S"]

DEFAULT_WAIT_S = 120.0


@dataclass
class ReplaySession:
    """A replay running into a namespace's topics.

    ``topics`` maps each recorded (local) topic to the topic it is replayed into;
    ``streams`` each donki stream of the recording to its topic; ``messages`` is how many
    messages one pass sends.
    """

    path: Path
    topics: dict[str, str]
    streams: dict[str, str]
    messages: int
    client_config: dict[str, Any]
    replayer: Replayer = field(repr=False)

    def topic(self, stream_or_topic: str) -> str:
        """The topic a recorded stream (or local topic) is replayed into."""
        found = self.streams.get(stream_or_topic) or self.topics.get(stream_or_topic)
        if found is None:
            raise RecordingError(f"{self.path}: no stream or topic {stream_or_topic!r}; streams: "
                                 f"{', '.join(sorted(self.streams))}; topics: {', '.join(sorted(self.topics))}")
        return found

    def wait(self, timeout_s: float = DEFAULT_WAIT_S) -> ReplayReport:
        """Wait until everything was sent and delivered (a looping replay: until stopped)."""
        return self.replayer.wait(timeout_s)

    def stop(self, timeout_s: float = DEFAULT_WAIT_S) -> ReplayReport:
        """Stop the replay after the current message."""
        return self.replayer.stop(timeout_s)

    def wait_consumed(self, group_id: str, timeout_s: float = DEFAULT_WAIT_S, *,
                      only: Iterable[str] | None = None) -> bool:
        """True once consumer group ``group_id`` has committed offsets at the end of every replayed topic
        (or of the topics of ``only``: streams or recorded topics, for a service that reads some)."""
        from harness.kafka.groups import wait_consumed

        targets = self.topics.values() if only is None else [self.topic(name) for name in only]
        return wait_consumed(self.client_config, group_id, sorted(set(targets)), timeout_s)


def replay_into(path: str | Path, client_config: Mapping[str, Any], namespace: TopicNamespace, *,
                speed: float | None = 1.0, loops: int = 1, retime: bool = True,
                topic_map: Mapping[str, str] | None = None) -> ReplaySession:
    """Create ``path``'s topics in ``namespace`` and start replaying it there in the background.

    ``retime`` moves Kafka and data timestamps so the first message is now (the stream
    looks live); ``speed`` 1 keeps the recorded pace, ``None`` sends as fast as possible;
    ``loops`` 0 repeats until :meth:`ReplaySession.stop`. ``topic_map`` renames recorded
    local topics before they are put in the namespace.
    """
    renames = dict(topic_map or {})
    with Recording(path) as recording:
        prefix = recording.metadata.get("namespace")
        needed: dict[str, int] = {}
        for topic, partition in recording.partitions():
            local = renames.get(local_topic(topic, prefix), local_topic(topic, prefix))
            needed[local] = max(needed.get(local, 0), partition + 1)
        full_of = {topic: namespace.name(renames.get(local_topic(topic, prefix), local_topic(topic, prefix)))
                   for topic in recording.topics}
        streams = _stream_topics(recording, full_of)
        count = len(recording)
    for local, partitions in needed.items():
        namespace.create(local, partitions)
    replayer = Replayer(path, client_config, topic_map=full_of, speed=speed, loops=loops, shift_timestamps=retime)
    topics = {local_topic(t, prefix): full for t, full in full_of.items()}
    return ReplaySession(Path(path), topics, streams, count, dict(client_config), replayer.start())


def _stream_topics(recording: Recording, full_of: Mapping[str, str]) -> dict[str, str]:
    """Each donki stream's target topic, from the headers alone (no payload is read)."""
    streams: dict[str, str] = {}
    for name, topic_id in zip(recording.stream_names(), recording.index["topic"], strict=True):
        if name is not None and name not in streams:
            streams[name] = full_of[recording.topics[int(topic_id)]]
    return streams
