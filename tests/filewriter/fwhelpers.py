"""Helpers of the file-writer tests: a client that sends commands and reads the writer's replies."""

from __future__ import annotations

import json
import time

import numpy as np
from streaming_data_types import (
    deserialise_answ,
    deserialise_wrdn,
    deserialise_x5f2,
    serialise_6s4t,
    serialise_ev44,
    serialise_f144,
    serialise_pl72,
)

from harness.kafka.clients import make_consumer, make_producer
from harness.records import schema_id

MS = 1_000_000


def structure(events_topic, logs_topic, *, units="K", detector_number=(1, 2, 3, 4)):
    """A kafka-to-nexus style structure: one NXdetector with ev44, one NXlog with f144."""
    nx = lambda cls: [{"name": "NX_class", "dtype": "string", "values": cls}]  # noqa: E731 - a one-line table
    return json.dumps({"children": [{"type": "group", "name": "entry", "attributes": nx("NXentry"), "children": [
        {"module": "dataset", "config": {"name": "title", "values": "donki test", "dtype": "string"}},
        {"type": "group", "name": "instrument", "attributes": nx("NXinstrument"), "children": [
            {"type": "group", "name": "detector", "attributes": nx("NXdetector"), "children": [
                {"module": "dataset", "config": {"name": "detector_number", "values": list(detector_number),
                                                 "dtype": "int32"}},
                {"type": "group", "name": "events", "attributes": nx("NXevent_data"), "children": [
                    {"module": "ev44", "config": {"source": "det", "topic": events_topic}}]}]},
            {"type": "group", "name": "temperature", "attributes": nx("NXlog"), "children": [
                {"module": "f144", "config": {"source": "temp", "topic": logs_topic, "value_units": units}}]},
        ]}]}]})


class Client:
    """Experiment control in miniature: sends data and commands, reads the writer's messages."""

    def __init__(self, kafka, pool, control):
        self.kafka, self.pool, self.control = kafka, pool, control
        self.producer = make_producer(kafka.client_config, **{"linger.ms": 0})
        self.reader = make_consumer(kafka.client_config)
        self.reader.subscribe([pool, control])
        self.seen = []

    def send(self, topic, payload, time_ns=None):
        stamp = (time.time_ns() if time_ns is None else time_ns) // MS
        self.producer.produce(topic, payload, timestamp=stamp)
        self.producer.flush(10)

    def event(self, topic, message_id, time_ns, pixels):
        pixels = np.asarray(pixels, dtype=np.int32)
        tof = (np.arange(len(pixels), dtype=np.int32) + 1) * 1000 + message_id
        self.send(topic, serialise_ev44("det", message_id, [time_ns], [0], tof, pixels), time_ns)
        return tof, pixels

    def log(self, topic, value, time_ns):
        self.send(topic, serialise_f144("temp", value, time_ns), time_ns)

    def start(self, job_id, filename, start_ns, nexus_structure, *, stop_ns=0, control_topic=None, metadata="{}"):
        payload = serialise_pl72(job_id, filename, start_time=start_ns // MS, stop_time=stop_ns // MS,
                                 nexus_structure=nexus_structure, metadata=metadata,
                                 control_topic=self.control if control_topic is None else control_topic)
        self.send(self.pool, payload)

    def stop(self, job_id, command_id, stop_ns=0):
        self.send(self.control, serialise_6s4t(job_id, command_id=command_id, stop_time=stop_ns // MS))

    def wait_for(self, predicate, timeout_s=30.0):
        """The first message (topic, schema, decoded) satisfying ``predicate`` (seen ones first)."""
        for item in self.seen:
            if predicate(item):
                return item
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            message = self.reader.poll(0.2)
            if message is None or message.error() is not None:
                continue
            payload = message.value()
            decoder = {"answ": deserialise_answ, "wrdn": deserialise_wrdn, "x5f2": deserialise_x5f2}.get(
                schema_id(payload))
            if decoder is None:
                continue
            item = (message.topic(), schema_id(payload), decoder(payload))
            self.seen.append(item)
            if predicate(item):
                return item
        raise AssertionError(f"no matching message within {timeout_s} s; seen: {self.seen}")

    def answer(self, command_id, timeout_s=30.0):
        return self.wait_for(lambda i: i[1] == "answ" and i[2].command_id == command_id, timeout_s)

    def finished(self, job_id, timeout_s=30.0):
        return self.wait_for(lambda i: i[1] == "wrdn" and i[2].job_id == job_id, timeout_s)

    def close(self):
        self.reader.close()
