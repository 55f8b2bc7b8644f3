"""Broker start-up time and raw confluent-kafka throughput against the local provider.

Prints, over several runs (median, min, max):
  * time from LocalKafka.start() to the first acknowledged produce, for nodes=1 and nodes=3;
  * produce and consume MB/s (MB = 1e6 bytes throughout) and msg/s of raw confluent-kafka
    for 1 KiB and 8 MiB messages, next to Kafka's own ProducerPerformance (with prebuilt
    payloads from --payload-file, not --record-size, which builds one per record in its timed
    loop), ConsumerPerformance and kcat against the same broker, the order rotated between
    runs and printed, with the spread (min-max) and the load average;
  * where a Docker daemon answers, the container provider against the local one in the same
    run: start to first acknowledged produce and raw produce/consume through the mapped port,
    as container/local ratios, the A/B order alternated between runs (and printed).

    python benchmarks/kafka_broker.py            # full size
    python benchmarks/kafka_broker.py --quick    # CI size
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from _rounds import load_text, rotated

from harness.kafka import (
    Broker,
    ContainerKafka,
    LocalKafka,
    TopicAdmin,
    TopicSpec,
    docker_available,
    make_consumer,
    make_producer,
)
from harness.kafka.container import describe_container_image

TARGET_READY_S = 5.0


def started_to_first_produce(broker: Broker) -> tuple[float, float]:
    """Start ``broker``; seconds until it serves and until a first produce is acknowledged."""
    t0 = time.monotonic()
    broker.start()
    ready = time.monotonic() - t0
    TopicAdmin(broker.client_config).create([TopicSpec("bench_first", 1)])
    producer = make_producer(broker.client_config)
    producer.produce("bench_first", b"x")
    if producer.flush(60) != 0:
        raise RuntimeError("first produce not acknowledged within 60 s")
    return ready, time.monotonic() - t0


def time_to_first_produce(nodes: int) -> tuple[float, float]:
    broker = LocalKafka(nodes)
    try:
        return started_to_first_produce(broker)
    finally:
        broker.stop()


def raw_produce(config: dict, topic: str, size: int, count: int) -> float:
    """Seconds to produce ``count`` messages of ``size`` bytes, all acknowledged."""
    producer = make_producer(config)
    payload = os.urandom(size)
    t0 = time.perf_counter()
    for _ in range(count):
        while True:
            try:
                producer.produce(topic, payload)
                break
            except BufferError:
                producer.poll(0.01)
        producer.poll(0)
    if producer.flush(300) != 0:
        raise RuntimeError("raw produce did not complete")
    return time.perf_counter() - t0


def raw_consume(config: dict, topic: str, count: int) -> float:
    """Seconds to consume ``count`` messages from the start of ``topic``, counting bytes only."""
    from confluent_kafka import OFFSET_BEGINNING, TopicPartition

    consumer = make_consumer(config)
    got = 0
    deadline = time.monotonic() + 300
    t0 = time.perf_counter()
    consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])  # no group join in the timing
    while got < count and time.monotonic() < deadline:
        for message in consumer.consume(1000, 0.5):
            if message.error() is None:
                got += 1
    elapsed = time.perf_counter() - t0
    consumer.close()
    if got < count:
        raise RuntimeError(f"consumed only {got} of {count}")
    return elapsed


def payload_file(directory: Path, size: int, count: int = 4) -> Path:
    """``count`` prebuilt payloads of exactly ``size`` bytes for ProducerPerformance's --payload-file.

    The tool reads the file as UTF-8 text and splits it on a newline, so the payloads are
    random printable ASCII (one byte per character, never the delimiter).
    """
    path = directory / f"payloads-{size}.txt"
    if not path.exists():
        rng = random.Random(size)
        alphabet = bytes(range(0x21, 0x7F))
        with path.open("wb") as out:
            for i in range(count):
                out.write(bytes(rng.choices(alphabet, k=size)) + (b"\n" if i < count - 1 else b""))
    return path


def kafka_tool(broker: LocalKafka, tool: str) -> list[str]:
    """The java command line of one of Kafka's own tools, from the jars the broker runs on."""
    runtime = broker.runtime
    if runtime is None:
        raise RuntimeError("the local broker has no Kafka runtime before it starts")
    return [runtime.java, "-Xmx1g", "-cp", runtime.classpath, f"org.apache.kafka.tools.{tool}"]


def kafka_producer_perf(broker: LocalKafka, topic: str, payloads: Path, count: int, size: int) -> float:
    """Seconds Kafka's own ProducerPerformance tool (acks=all, prebuilt payloads) reports for ``count`` records.

    Its ``MB/sec`` is MiB/s; the records/sec it prints is turned into seconds here so that
    both sides are converted to MB (1e6 bytes) the same way.
    """
    argv = [
        *kafka_tool(broker, "ProducerPerformance"), "--topic", topic, "--num-records", str(count),
        "--payload-file", str(payloads), "--throughput", "-1",
        "--producer-props", f"bootstrap.servers={broker.bootstrap_servers}", "acks=all",
        "max.request.size=314572800", "batch.size=1000000", "linger.ms=5", "buffer.memory=1073741824",
    ]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=600).stdout
    summary = [line for line in out.splitlines() if "records sent" in line][-1]
    records_per_s = float(summary.split(",")[1].split("records/sec")[0])
    return count / records_per_s


def kafka_consumer_perf(broker: LocalKafka, topic: str, count: int) -> float:
    """Fetch seconds that Kafka's ConsumerPerformance tool reports for ``count`` records (group join excluded)."""
    argv = [*kafka_tool(broker, "ConsumerPerformance"), "--bootstrap-server", broker.bootstrap_servers,
            "--topic", topic, "--num-records", str(count),
            "--timeout", "300000", "--command-property", "max.partition.fetch.bytes=314572800",
            "--command-property", "fetch.max.bytes=314572800"]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=600).stdout.strip().splitlines()
    header, row = [h.strip() for h in out[-2].split(",")], [v.strip() for v in out[-1].split(",")]
    figures = dict(zip(header, row, strict=True))
    if int(figures["data.consumed.in.nMsg"]) < count:
        raise RuntimeError(f"ConsumerPerformance consumed only {figures['data.consumed.in.nMsg']} of {count}")
    return float(figures["fetch.time.ms"]) / 1e3


def kcat_consume(broker: LocalKafka, topic: str, count: int) -> float:
    """Wall seconds of ``kcat -C`` reading ``count`` messages to /dev/null, process start included."""
    argv = ["kcat", "-C", "-q", "-b", broker.bootstrap_servers, "-t", topic, "-p", "0", "-o", "beginning",
            "-c", str(count), "-e", "-X", "fetch.message.max.bytes=314572800",
            "-X", "receive.message.max.bytes=400000000"]
    t0 = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=600, check=True)
    return time.perf_counter() - t0


def provider_pass(provider: str, volumes: dict[int, int]) -> dict[str, float]:
    """One provider: start to first acked produce, then raw produce/consume seconds per size."""
    broker: Broker = LocalKafka() if provider == "local" else ContainerKafka()
    try:
        figures = {"first_produce_s": started_to_first_produce(broker)[1]}
        admin = TopicAdmin(broker.client_config)
        for size, count in volumes.items():
            topic = f"bench_ab_{size}"
            admin.create([TopicSpec(topic, 1)])
            figures[f"produce_{size}"] = raw_produce(broker.client_config, topic, size, count)
            figures[f"consume_{size}"] = raw_consume(broker.client_config, topic, count)
            admin.delete([topic])
        return figures
    finally:
        broker.stop()


def container_vs_local(runs: int, volumes: dict[int, int]) -> dict[str, object]:
    """Both providers in the same run, A/B order alternated; container/local ratios of medians."""
    if not docker_available():
        print("container vs local: skipped, no Docker daemon answers (as root: .ci/docker-up)")
        return {"skipped": "no Docker daemon"}
    samples: dict[str, list[dict[str, float]]] = {"local": [], "container": []}
    orders = []
    for run in range(runs):
        order = ("local", "container") if run % 2 == 0 else ("container", "local")
        orders.append("/".join(order))
        for provider in order:
            samples[provider].append(provider_pass(provider, volumes))
    medians = {p: {k: statistics.median(s[k] for s in samples[p]) for k in samples[p][0]} for p in samples}
    # first produce: a time, so container/local > 1 is slower; throughput: MB/s, so < 1 is slower
    ratios = {"first_produce": medians["container"]["first_produce_s"] / medians["local"]["first_produce_s"]}
    for size in volumes:
        for what in ("produce", "consume"):
            ratios[f"{what}_{size}"] = medians["local"][f"{what}_{size}"] / medians["container"][f"{what}_{size}"]
    print(f"container vs local: image {describe_container_image()}, A/B order per run {', '.join(orders)}")
    print(f"  start to first acked produce: container {medians['container']['first_produce_s']:.2f} s, "
          f"local {medians['local']['first_produce_s']:.2f} s, ratio container/local {ratios['first_produce']:.2f}")
    for size, count in volumes.items():
        mb = size * count / 1e6
        label = "1kB" if size == 1024 else "8MB"
        print(f"  raw {label} through the mapped port: produce {mb / medians['container'][f'produce_{size}']:.1f} MB/s"
              f" ({ratios[f'produce_{size}']:.2f} x local), consume {mb / medians['container'][f'consume_{size}']:.1f}"
              f" MB/s ({ratios[f'consume_{size}']:.2f} x local)  (median of {runs})")
    return {"order": orders, "medians": medians, "ratios": ratios}


def summarize(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def size_label(size: int) -> str:
    return "1kB" if size == 1024 else "8MB"


def rate_text(name: str, size: int, count: int, seconds: list[float]) -> str:
    """``name`` MB/s median (min-max) and msg/s median, from per-run seconds."""
    mbps = [size * count / 1e6 / s for s in seconds]
    med = statistics.median(mbps)
    return f"{name} {med:8.1f} MB/s ({min(mbps):.1f}-{max(mbps):.1f}; {med * 1e6 / size:9.0f} msg/s)"


def throughput_pass(broker: LocalKafka, tmp: Path, size: int, count: int, runs: int) -> dict[str, object]:
    """Produce: ours vs ProducerPerformance; consume: ours vs ConsumerPerformance and kcat; orders rotated."""
    admin = TopicAdmin(broker.client_config)
    payloads = payload_file(tmp, size)
    label = size_label(size)
    topics = [f"bench_raw_{label}_{run}" for run in range(runs)]
    admin.create([TopicSpec(t, 1) for t in topics] + [TopicSpec(f"bench_perf_{label}_{r}", 1) for r in range(runs)])
    produce, p_orders = rotated(runs, {
        "confluent-kafka": lambda run: raw_produce(broker.client_config, topics[run], size, count),
        "ProducerPerformance": lambda run: kafka_producer_perf(broker, f"bench_perf_{label}_{run}", payloads, count,
                                                               size)})
    consumers: dict[str, Callable[[int], float]] = {
        "confluent-kafka": lambda run: raw_consume(broker.client_config, topics[run], count),
        "ConsumerPerformance": lambda run: kafka_consumer_perf(broker, topics[run], count)}
    if shutil.which("kcat"):
        consumers["kcat"] = lambda run: kcat_consume(broker, topics[run], count)
    consume, c_orders = rotated(runs, consumers)
    admin.delete(topics + [f"bench_perf_{label}_{r}" for r in range(runs)])
    ratio = statistics.median(produce["ProducerPerformance"]) / statistics.median(produce["confluent-kafka"])
    print(f"raw confluent-kafka {label} ({size} B x {count}, median of {runs}, min-max in brackets):\n"
          f"  produce: {rate_text('confluent-kafka', size, count, produce['confluent-kafka'])} | Kafka "
          f"{rate_text('ProducerPerformance', size, count, produce['ProducerPerformance'])} (prebuilt payloads); "
          f"confluent-kafka/Kafka-perf produce ratio {ratio:.2f}; A/B order per run {', '.join(p_orders)}\n"
          f"  consume: " + " | ".join(rate_text(n, size, count, consume[n]) for n in consume)
          + f"; order per run {', '.join(c_orders)}"
          + ("" if "kcat" in consume else "; kcat: not installed (apt-get install -y kcat)"))
    return {"produce_s": produce, "consume_s": consume, "produce_order": p_orders, "consume_order": c_orders,
            "confluent_over_kafka_perf_produce": ratio, "size": size, "count": count}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer runs and smaller volumes (CI)")
    parser.add_argument("--runs", type=int, default=None)
    args = parser.parse_args()
    runs = args.runs or (2 if args.quick else 5)
    results: dict[str, object] = {"runs": runs}

    for nodes in (1, 3):
        samples = [time_to_first_produce(nodes) for _ in range(runs if nodes == 1 else max(1, runs // 2))]
        ready, produced = summarize([s[0] for s in samples]), summarize([s[1] for s in samples])
        results[f"start_nodes{nodes}"] = {"ready_s": ready, "first_produce_s": produced}
        verdict = "meets" if nodes == 1 and produced["median"] < TARGET_READY_S else ""
        print(f"start nodes={nodes}: ready {ready['median']:.2f} s, first produce acked {produced['median']:.2f} s "
              f"(median of {len(samples)}, min {produced['min']:.2f}, max {produced['max']:.2f})"
              + (f"  [{verdict} target < {TARGET_READY_S:.0f} s]" if verdict else ""))

    volumes = {1024: 20_000 if args.quick else 200_000, 8 * 1024 * 1024: 12 if args.quick else 60}
    print(f"throughput unit: MB = 1e6 bytes everywhere (Kafka's tools print MiB as 'MB'; converted here from "
          f"their records/s); load average before {load_text()}")
    broker = LocalKafka()
    with broker, tempfile.TemporaryDirectory(prefix="donki-bench-") as tmp:
        for size, count in volumes.items():
            results[f"raw_{size_label(size)}"] = throughput_pass(broker, Path(tmp), size, count, runs)
    print(f"load average after {load_text()}")
    results["container_vs_local"] = container_vs_local(runs, volumes)
    print("JSON " + json.dumps(results))


if __name__ == "__main__":
    main()
