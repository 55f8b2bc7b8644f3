"""The source of a replayed run: the scenario's golden recording, replayed into the run's topics.

Same bytes every run and no player processes: the recorded journal stands for the
players' (so the checks of acks, levels and integrity verify what the recording holds),
and the replay keeps the recorded pace and timestamps (so rates read as recorded).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.orchestra import Journal
from harness.recording.names import local_topic
from harness.recording.reader.reader import Recording
from harness.recording.replay.replayer import Replayer
from harness.runs.live import SourceRun

__all__ = ["replay_source"]


def replay_source(golden: Path, client_config: Mapping[str, Any], topics: Mapping[str, str], *,
                  speed: float | None = 1.0) -> SourceRun:
    """Replay ``golden`` into ``topics`` (local name -> full name) and wait for delivery."""
    with Recording(golden) as recording:
        journal = recording.journal or Journal()
        prefix = recording.metadata.get("namespace")
        topic_map = {t: topics[local_topic(t, prefix)] for t in recording.topics if local_topic(t, prefix) in topics}
    started = time.monotonic()
    report = Replayer(golden, client_config, topic_map=topic_map, topics=sorted(topic_map), speed=speed).run()
    problems = []
    if report.failed:
        problems.append(f"replay of {golden}: {report.failed} of {report.messages} messages not delivered "
                        f"({report.first_failure})")
    return SourceRun("replayed", time.monotonic() - started, 0.0, journal, problems)
