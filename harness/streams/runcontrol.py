"""Run control: a pl72 run start before the run's data and a 6s4t run stop after it.

This is what NICOS sends to the ESS file writer on its control topic. The start names
the job, the file and the NeXus structure; the stop carries the same job id and the
stop time (ms), so a file writer writes everything stamped before it.
"""

from __future__ import annotations

from typing import Any

from harness.streams.base import StreamGenerator, StreamMessage, ms_from_ns

__all__ = ["RunControlGenerator"]


class RunControlGenerator(StreamGenerator):
    """Makes the run start and run stop messages; triggers produce nothing."""

    schema = "pl72"

    def __init__(self, *, job_id: str = "", run_name: str = "donki-run", filename: str = "donki.nxs",
                 instrument_name: str = "donki", nexus_structure: str = "{}", service_id: str = "",
                 broker: str = "", metadata: str = "{}", control_topic: str = "", **common: Any) -> None:
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
