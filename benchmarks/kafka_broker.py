"""Broker start-up time and raw confluent-kafka throughput against the local provider.

Prints, over several runs (median, min, max):
  * time from LocalKafka.start() to the first acknowledged produce, for nodes=1 and nodes=3;
  * produce and consume MB/s and msg/s of raw confluent-kafka for 1 kB and 8 MB messages,
    and Kafka's own ProducerPerformance tool against the same broker, as the peer that later
    benchmarks quote ratios against;
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
import statistics
import subprocess
import time

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


def kafka_producer_perf(broker: LocalKafka, topic: str, size: int, count: int) -> float:
    """MB/s reported by Kafka's own ProducerPerformance tool (acks=all)."""
    runtime = broker.runtime
    argv = [
        runtime.java, "-Xmx1g", "-cp", runtime.classpath, "org.apache.kafka.tools.ProducerPerformance",
        "--topic", topic, "--num-records", str(count), "--record-size", str(size), "--throughput", "-1",
        "--producer-props", f"bootstrap.servers={broker.bootstrap_servers}", "acks=all",
        "max.request.size=314572800", "batch.size=1000000", "linger.ms=5", "buffer.memory=1073741824",
    ]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=600).stdout
    summary = [line for line in out.splitlines() if "records sent" in line][-1]
    return float(summary.split("(")[1].split(" MB/sec")[0])


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
    with LocalKafka() as broker:
        admin = TopicAdmin(broker.client_config)
        for size, count in volumes.items():
            label = "1kB" if size == 1024 else "8MB"
            produce_s, consume_s, perf = [], [], []
            for run in range(runs):
                topic = f"bench_raw_{label}_{run}"
                admin.create([TopicSpec(topic, 1)])
                produce_s.append(raw_produce(broker.client_config, topic, size, count))
                consume_s.append(raw_consume(broker.client_config, topic, count))
                admin.delete([topic])
                perf_topic = f"bench_perf_{label}_{run}"
                admin.create([TopicSpec(perf_topic, 1)])
                perf.append(kafka_producer_perf(broker, perf_topic, size, count))
                admin.delete([perf_topic])
            mb = size * count / 1e6
            p_mbs = statistics.median(mb / s for s in produce_s)
            c_mbs = statistics.median(mb / s for s in consume_s)
            k_mbs = statistics.median(perf)
            results[f"raw_{label}"] = {"produce_MBps": p_mbs, "consume_MBps": c_mbs, "kafka_perf_MBps": k_mbs,
                                       "produce_msgps": p_mbs * 1e6 / size, "consume_msgps": c_mbs * 1e6 / size}
            print(f"raw confluent-kafka {label}: produce {p_mbs:8.1f} MB/s ({p_mbs * 1e6 / size:9.0f} msg/s), "
                  f"consume {c_mbs:8.1f} MB/s ({c_mbs * 1e6 / size:9.0f} msg/s); "
                  f"Kafka ProducerPerformance {k_mbs:8.1f} MB/s; confluent-kafka/Kafka-perf produce ratio "
                  f"{p_mbs / k_mbs:.2f}  (median of {runs})")
    results["container_vs_local"] = container_vs_local(runs, volumes)
    print("JSON " + json.dumps(results))


if __name__ == "__main__":
    main()
