# -*- test-case-name: tests.e2e.test_harness -*-
"""Produce benchmark: confluent-kafka against our broker and against librdkafka's mock.

Run from the repository root::

    python benchmarks/produce_bench.py [--quick] [--profile NAME ...]

Profiles (one partition, fsync on: the broker's default):

- C{100B-acks1}: 200,000 x 100 B, linger.ms 5, batch.size 16384, acks=1;
- C{100B-acksall}: the same with acks=all;
- C{10KB}: 20,000 x 10,000 B with the client's defaults (acks=all);
- C{single}: 20,000 x 100 B with linger.ms 0 and batch.num.messages 1, so one
  record per Produce request (client defaults otherwise: acks=all and many
  requests in flight): the per-request cost;
- C{rate-acksall} and C{rate-acks1}: 50,000 x 100 B sent evenly at 10,000 a
  second (not saturating), idempotent with acks=all, and acks=1: the latency
  users see, p50 / p99 / p99.9, next to the disk's own fdatasync latency.

Each profile runs against our broker, then against the mock broker in a
fresh helper process and against each peer broker (noida-db, Tansu) started
fresh, and prints msgs/s, MB/s, p50/p99 delivery latency,
broker CPU µs per message and per Produce request, and the client's own CPU
per message, each with the ratio ours / mock. Durable (acks=all) profiles
also print the disk's limit: the batches our broker stored, rewritten with a
plain write + fdatasync each. C{--quick} runs a tenth of the counts.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from confluent_kafka import KafkaError, Message, Producer  # noqa: E402

from common import (  # noqa: E402
    CLIENT_BASE,
    BenchmarkError,
    DiskLimit,
    Meter,
    MockBroker,
    OurBroker,
    Profile,
    Run,
    Statistics,
    PEER_NOTE,
    Table,
    add_cost_rows,
    figures,
    peer_failures,
    run_peers,
    choose_profiles,
    disk_limit,
    log_batch_sizes,
    machine_note,
    percentile,
    send,
)


@dataclass(frozen=True)
class ProduceProfile(Profile):
    """One produce workload.

    @ivar durable: answered only after fsync (acks=all): print the disk limit.
    @ivar rate: messages per second to send at, evenly paced (a latency
        profile); 0 sends as fast as the client takes them.
    """

    durable: bool = False
    rate: int = 0


PROFILES = [
    ProduceProfile("100B-acks1", "100 B, linger 5 ms, batch 16 KiB, acks=1", 200_000, 100,
                   {"linger.ms": 5, "batch.size": 16384, "acks": 1}, False),
    ProduceProfile("100B-acksall", "100 B, linger 5 ms, batch 16 KiB, acks=all", 200_000, 100,
                   {"linger.ms": 5, "batch.size": 16384, "acks": "all"}, True),
    ProduceProfile("10KB", "10,000 B, client defaults (acks=all)", 20_000, 10_000, {}, True),
    ProduceProfile("single", "100 B, one record per request (acks=all)", 20_000, 100,
                   {"linger.ms": 0, "batch.num.messages": 1}, True),
    ProduceProfile("rate-acksall", "100 B at 10k msg/s, idempotent, acks=all", 50_000, 100,
                   {"enable.idempotence": True}, True, 10_000),
    ProduceProfile("rate-acks1", "100 B at 10k msg/s, acks=1", 50_000, 100,
                   {"acks": 1}, False, 10_000),
]

#: Messages produced before timing starts: creates the topic, opens connections.
WARM_UP = 1


def send_at_rate(producer: Producer, topic: str, value: bytes, count: int, rate: int) -> None:
    """Queue C{count} copies of C{value} for partition 0, paced at C{rate} per second."""
    started = time.perf_counter()
    for i in range(count):
        due = started + i / rate
        while True:
            wait = due - time.perf_counter()
            if wait <= 0:
                break
            producer.poll(min(wait, 0.001))
        producer.produce(topic, value, partition=0)


def produce(bootstrap: str, broker_pid: int, topic: str, count: int, size: int,
            config: dict[str, Any], rate: int = 0) -> Run:
    """Produce C{count} values of C{size} bytes to partition 0 of C{topic}; time it.

    One warm-up message goes first, outside the measurement.

    @raise BenchmarkError: a message was not delivered.
    """
    latencies: list[float] = []
    errors: list[KafkaError] = []

    def delivered(error: KafkaError | None, message: Message) -> None:
        latency = message.latency()
        if error is not None:
            errors.append(error)
        elif latency is None:
            errors.append(KafkaError(KafkaError._FAIL, "delivered without a latency"))
        else:
            latencies.append(latency)

    statistics = Statistics()
    producer = Producer({**CLIENT_BASE, "bootstrap.servers": bootstrap, **config,
                         "on_delivery": delivered, "stats_cb": statistics.record})
    for _ in range(WARM_UP):
        producer.produce(topic, b"warm-up", partition=0)
    if producer.flush(30) or errors:
        raise BenchmarkError(f"warm-up to {bootstrap} failed: {errors or 'timed out'}")
    latencies.clear()
    statistics.wait_fresh(producer.poll)
    requests_before = statistics.requests("Produce")

    meter = Meter(broker_pid)
    meter.start()
    if rate:
        send_at_rate(producer, topic, bytes(size), count, rate)
    else:
        send(producer, topic, bytes(size), count)
    left = producer.flush(120)
    meter.stop()
    statistics.wait_fresh(producer.poll)
    if left or errors or len(latencies) != count:
        raise BenchmarkError(f"{bootstrap}: {len(latencies)} of {count} delivered, "
                             f"{left} still queued, errors {errors[:3]}")
    return Run(messages=count, value_bytes=count * size, seconds=meter.seconds,
               broker_cpu=meter.broker_cpu, client_cpu=meter.client_cpu,
               requests=statistics.requests("Produce") - requests_before,
               latencies=latencies)


def add_rows(table: Table, profile: ProduceProfile, ours: Run, others: list[Run | None],
             disk: DiskLimit | None) -> None:
    """Add a profile's rows to C{table}; C{others} are the mock's and the peers' runs."""
    label = f"{profile.name}: {profile.count:,} x {profile.size:,} B"
    disk_rate = disk_mb = disk_p50 = disk_p99 = None
    if disk is not None:
        disk_rate = profile.count / disk.seconds
        disk_mb = profile.count * profile.size / disk.seconds / 1e6
        disk_p50 = percentile(disk.syncs, 0.5) * 1e3
        disk_p99 = percentile(disk.syncs, 0.99) * 1e3
    table.add(label, "msgs/s", ours.messages_per_second,
              figures(others, lambda r: r.messages_per_second), disk_rate, digits=0)
    table.add(profile.title, "MB/s", ours.megabytes_per_second,
              figures(others, lambda r: r.megabytes_per_second), disk_mb)
    table.add("", "p50 latency ms", percentile(ours.latencies, 0.5) * 1e3,
              figures(others, lambda r: percentile(r.latencies, 0.5) * 1e3), disk_p50, digits=2)
    table.add("", "p99 latency ms", percentile(ours.latencies, 0.99) * 1e3,
              figures(others, lambda r: percentile(r.latencies, 0.99) * 1e3), disk_p99, digits=2)
    if profile.rate:
        disk_p999 = None if disk is None else percentile(disk.syncs, 0.999) * 1e3
        table.add("", "p99.9 latency ms", percentile(ours.latencies, 0.999) * 1e3,
                  figures(others, lambda r: percentile(r.latencies, 0.999) * 1e3), disk_p999,
                  digits=2)
    add_cost_rows(table, ours, others, "Produce")


def main(argv: list[str] | None = None) -> int:
    """Run the chosen profiles and print the table; return the exit status."""
    chosen = choose_profiles(__doc__, PROFILES, argv)

    table = Table(f"produce, confluent-kafka, one partition, fsync on ({machine_note()})")
    try:
        with OurBroker() as broker:
            for profile in chosen:
                topic = f"bench-produce-{profile.name}"
                ours = produce(broker.bootstrap, broker.pid, topic, profile.count,
                               profile.size, profile.config, profile.rate)
                disk = None
                if profile.durable:
                    directory = broker.partition_directory(topic)
                    disk = disk_limit(directory, log_batch_sizes(directory, WARM_UP))

                def against(bootstrap: str, pid: int, profile: ProduceProfile = profile,
                            topic: str = topic) -> Run:
                    return produce(bootstrap, pid, topic, profile.count, profile.size,
                                   profile.config, profile.rate)

                with MockBroker() as mock_broker:
                    mock = against(mock_broker.bootstrap, mock_broker.pid)
                if table.rows:
                    table.add_separator()
                add_rows(table, profile, ours, [mock, *run_peers(against, profile.name)], disk)
    except BenchmarkError as e:
        print(f"produce benchmark failed: {e}", file=sys.stderr)
        return 1
    print(table.render())
    print("\nratios: ours / mock broker (librdkafka's in-process mock: the client's ceiling),"
          " ours / each peer,\nand ours / disk limit (the stored batches rewritten with write"
          " + fdatasync each; its latency\nis one write + fdatasync). " + PEER_NOTE + peer_failures())
    return 0


if __name__ == "__main__":
    sys.exit(main())
