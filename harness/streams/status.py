"""x5f2 status messages, the heartbeat ESS services publish on their status topics."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from harness.streams.base import FrameGenerator, StreamMessage

__all__ = ["StatusGenerator", "SOFTWARE_NAME"]

SOFTWARE_NAME = "pytest-donki"


class StatusGenerator(FrameGenerator):
    """x5f2 status of a simulated service: ``status_json`` carries its state and frame count.

    ``process_id`` is a parameter, not ``os.getpid()``, so that payloads reproduce.
    """

    schema = "x5f2"

    def __init__(self, *, source_name: str = "donki:status", host_name: str = "donki-sim", process_id: int = 0,
                 **common: Any) -> None:
        super().__init__(**common)
        from harness import __version__

        self.source_name = source_name
        self.host_name = host_name
        self.process_id = int(process_id)
        self.version = __version__

    def make(self, rng: np.random.Generator, index: int, time_ns: int) -> StreamMessage:
        from streaming_data_types import serialise_x5f2

        status = json.dumps({"state": "running", "frame": index + 1, "time_ns": int(time_ns)}, sort_keys=True)
        interval_ms = max(1, round(1000 / self.message_rate_hz))
        payload = serialise_x5f2(SOFTWARE_NAME, self.version, self.source_name, self.host_name, self.process_id,
                                 interval_ms, status)
        return StreamMessage(payload, int(time_ns), self.schema, self.source_name.encode())
