"""The file writer's replies, as kafka-to-nexus sends them: answ, x5f2 and wrdn payloads."""

from __future__ import annotations

import json
import os
import socket
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = ["answ", "status", "finished", "SOFTWARE_NAME", "SOFTWARE_VERSION", "ACCEPTED", "REJECTED"]

SOFTWARE_NAME = "donki-filewriter"
SOFTWARE_VERSION = "1.0.0"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ACCEPTED = 201  # kafka-to-nexus answers with HTTP-like status codes
REJECTED = 400


def answ(service_id: str, job_id: str, command_id: str, *, start: bool, ok: bool, message: str,
         stop_time_ms: int = 0) -> bytes:
    """An action response: to a start (``start=True``) or a set-stop-time command."""
    from streaming_data_types import serialise_answ
    from streaming_data_types.fbschemas.action_response_answ.ActionOutcome import ActionOutcome
    from streaming_data_types.fbschemas.action_response_answ.ActionType import ActionType

    action = ActionType.StartJob if start else ActionType.SetStopTime
    outcome = ActionOutcome.Success if ok else ActionOutcome.Failure
    # serialise_answ truncates timestamp() * 1000, a float: half a millisecond more keeps the
    # ms exact (1795971234.567 * 1000 is 1795971234566.9998 and came out 1 ms early)
    stop = EPOCH + timedelta(milliseconds=max(0, int(stop_time_ms)), microseconds=500)
    data: bytes = serialise_answ(service_id, job_id, command_id, action, outcome, message,
                                 ACCEPTED if ok else REJECTED, stop)
    return data


def status(service_id: str, interval_ms: int, state: dict[str, Any]) -> bytes:
    """An x5f2 status whose ``status_json`` holds ``state`` (``state``, ``job_id``, ``file_being_written``)."""
    from streaming_data_types import serialise_x5f2

    data: bytes = serialise_x5f2(SOFTWARE_NAME, SOFTWARE_VERSION, service_id, socket.gethostname(), os.getpid(),
                                 int(interval_ms), json.dumps(state, sort_keys=True))
    return data


def finished(service_id: str, job_id: str, file_name: str, metadata: str, error: str | None) -> bytes:
    """A wrdn: the job is done, with the file's name, the start's metadata and the error if any."""
    from streaming_data_types import serialise_wrdn

    data: bytes = serialise_wrdn(service_id, job_id, error is not None, file_name, metadata=metadata or None,
                                 message=error)
    return data
