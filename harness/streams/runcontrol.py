"""Run control: a pl72 run start before the run's data and a 6s4t run stop after it.

This is what NICOS sends to the ESS file writer on its control topic. The start names
the job, the file and the NeXus structure; the stop carries the same job id and the
stop time (ms), so a file writer writes everything stamped before it.
"""

from __future__ import annotations

import json
from typing import Any

from harness.streams.base import StreamGenerator, StreamMessage, ms_from_ns

__all__ = ["RunControlGenerator", "prefix_structure_topics"]


def _prefix_node(node: Any, prefix: str) -> Any:
    if isinstance(node, list):
        return [_prefix_node(item, prefix) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _prefix_node(value, prefix) for key, value in node.items()}
    config = out.get("config")
    if "module" in out and isinstance(config, dict) and isinstance(config.get("topic"), str):
        out["config"] = {**config, "topic": prefix + config["topic"]}
    return out


def prefix_structure_topics(nexus_structure: str, prefix: str) -> str:
    """``nexus_structure`` with ``prefix`` before every stream module's topic.

    A scenario names its topics locally (``donki_detector``); a run puts them in its own
    namespace (``<prefix>.donki_detector``), and the structure a file writer gets must
    name the topics the data really are on.
    """
    if not prefix:
        return nexus_structure
    return json.dumps(_prefix_node(json.loads(nexus_structure), prefix))


class RunControlGenerator(StreamGenerator):
    """Makes the run start and run stop messages; triggers produce nothing."""

    schema = "pl72"

    def __init__(self, *, job_id: str = "", run_name: str = "donki-run", filename: str = "donki.nxs",
                 instrument_name: str = "donki", nexus_structure: str = "{}", service_id: str = "",
                 broker: str = "", metadata: str = "{}", control_topic: str = "", stop_margin_s: float = 1.0,
                 **common: Any) -> None:
        super().__init__(**common)
        self.job_id = job_id or f"donki-{self.seed & 0xFFFFFFFF:08x}"
        self.run_name = run_name
        self.filename = filename
        self.instrument_name = instrument_name
        self.nexus_structure = nexus_structure
        self.service_id = service_id
        self.broker = broker
        self.metadata = metadata
        self.control_topic = control_topic
        self.stop_margin_ns = round(float(stop_margin_s) * 1e9)

    def use_topic_prefix(self, prefix: str) -> None:
        """Name the run's own topics (``prefix`` + local name) in the structure and control topic."""
        if prefix:
            self.nexus_structure = prefix_structure_topics(self.nexus_structure, prefix)
            self.control_topic = prefix + self.control_topic if self.control_topic else ""

    @property
    def key(self) -> bytes:
        return self.job_id.encode()

    def start_message(self, time_ns: int) -> StreamMessage:
        """The pl72 run start for a run beginning at ``time_ns``."""
        from streaming_data_types import serialise_pl72

        payload = serialise_pl72(
            self.job_id, self.filename, start_time=ms_from_ns(time_ns), stop_time=0, run_name=self.run_name,
            nexus_structure=self.nexus_structure, service_id=self.service_id,
            instrument_name=self.instrument_name, broker=self.broker, metadata=self.metadata,
            control_topic=self.control_topic,
        )
        return StreamMessage(payload, int(time_ns), "pl72", self.key)

    def stop_message(self, time_ns: int) -> StreamMessage:
        """The 6s4t run stop for a run ending at ``time_ns``."""
        from streaming_data_types import serialise_6s4t

        payload = serialise_6s4t(self.job_id, run_name=self.run_name, service_id=self.service_id,
                                 command_id=f"{self.job_id}-stop", stop_time=ms_from_ns(time_ns))
        return StreamMessage(payload, int(time_ns), "6s4t", self.key)

    def messages(self, trigger: int, time_ns: int) -> list[StreamMessage]:
        return []
