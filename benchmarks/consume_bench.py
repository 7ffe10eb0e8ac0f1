# -*- test-case-name: tests.e2e.test_harness -*-
"""Consume benchmark: confluent-kafka reads a topic back from our broker and from the mock.

Run from the repository root::

    python benchmarks/consume_bench.py [--quick] [--profile NAME ...]

Profiles:

- C{100B}: 200,000 x 100 B, produced with linger.ms 5, batch.size 16384;
- C{10KB}: 20,000 x 10,000 B, produced with the client's defaults;
- C{100B-8} and C{10KB-8}: the same kinds of records (200,000 and 3,200 of
  them) spread evenly over eight partitions read at once.

Each pass reads with a fresh consumer (a consumer that unassigns while its
long-poll is held waits for it, as it would on Kafka: that is not the read
rate).

librdkafka's mock broker keeps at most 5 MiB per partition (it drops the
oldest batches beyond that; hard-coded in C{rdkafka_mock.c}) and its
CreateTopics cannot be reached (its Metadata names a controller that does
not exist), so the messages go to partition 0 of several auto-created
topics, 4 MB of values each (5 topics for 100B, 50 for 10KB; one and five
with C{--quick}; the eight-partition profiles use eight one-partition
topics), the same on every broker. They are produced first (not
timed), topic after topic, into our broker and into the mock alike; then a
consumer with the client's default fetch settings is assigned all those
partitions from offset 0 (no group membership, no commits) and reads
everything back. Prints msgs/s, MB/s, broker CPU µs per message and per
Fetch request and the client's own CPU per message, each with the ratio
ours / mock. C{--quick} runs a tenth of the counts.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from confluent_kafka import Consumer, KafkaError, Message, Producer, TopicPartition  # noqa: E402

from common import (  # noqa: E402
    CLIENT_BASE,
    BenchmarkError,
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
    machine_note,
    send,
)


@dataclass(frozen=True)
class ConsumeProfile(Profile):
    """One consume workload.

    @ivar spread: partitions read at once, the messages split evenly over
        them (0: as many as the mock's 5 MiB per partition needs, 4 MB each).
    """

    spread: int = 0


PROFILES = [
    ConsumeProfile("100B", "100 B, stored in 16 KiB batches", 200_000, 100,
                   {"linger.ms": 5, "batch.size": 16384, "acks": 1}),
    ConsumeProfile("10KB", "10,000 B, stored as the client batches them", 20_000, 10_000, {}),
    ConsumeProfile("100B-8", "100 B in 16 KiB batches, eight partitions", 200_000, 100,
                   {"linger.ms": 5, "batch.size": 16384, "acks": 1}, 8),
    ConsumeProfile("10KB-8", "10,000 B, eight partitions", 3_200, 10_000, {}, 8),
]

#: Bytes of message values per topic: what the mock broker keeps, with room to spare.
PARTITION_VALUE_BYTES = 4_000_000

#: Most messages asked of one C{Consumer.consume} call.
BATCH = 1000

#: Longest wait for the next messages before the read is declared stuck.
STALL_SECONDS = 30.0


def topics_for(prefix: str, count: int, size: int, spread: int = 0) -> dict[str, int]:
    """Topic names and how many of C{count} messages of C{size} bytes each gets, in order.

    With C{spread}, that many topics share the messages evenly.
    """
    if spread:
        share, extra = divmod(count, spread)
        return {f"{prefix}-{i:02d}": share + (i < extra) for i in range(spread)}
    per_topic = max(1, PARTITION_VALUE_BYTES // size)
    full, rest = divmod(count, per_topic)
    counts = [per_topic] * full + ([rest] if rest else [])
    return {f"{prefix}-{i:02d}": n for i, n in enumerate(counts)}


def fill(bootstrap: str, topics: dict[str, int], size: int, config: dict[str, Any]) -> None:
    """Produce C{topics[name]} values of C{size} bytes to partition 0 of each topic (not timed).

    @raise BenchmarkError: a message was not delivered.
    """
    errors: list[KafkaError] = []

    def delivered(error: KafkaError | None, message: Message) -> None:
        if error is not None:
            errors.append(error)

    producer = Producer({**CLIENT_BASE, "statistics.interval.ms": 0,
                         "bootstrap.servers": bootstrap, **config, "on_delivery": delivered})
    value = bytes(size)
    for topic, count in topics.items():
        send(producer, topic, value, count)
    left = producer.flush(120)
    if left or errors:
        raise BenchmarkError(f"filling {bootstrap}: {left} left, errors {errors[:3]}")


def consume(bootstrap: str, broker_pid: int, topics: dict[str, int], size: int) -> Run:
    """Read back every message of partition 0 of C{topics} (name: messages); time it.

    The clock starts at C{assign} (the consumer is connected already) and
    stops at the last message.

    @raise BenchmarkError: an error, a wrong size, or no progress for
        L{STALL_SECONDS}.
    """
    count = sum(topics.values())
    first = next(iter(topics))
    statistics = Statistics()
    consumer = Consumer({**CLIENT_BASE, "bootstrap.servers": bootstrap,
                         "group.id": f"bench-{first}", "enable.auto.commit": False,
                         "stats_cb": statistics.record})
    try:
        consumer.list_topics(timeout=10)  # every topic: leaders known before assign
        statistics.wait_fresh(consumer.poll)
        fetches_before = statistics.requests("Fetch")
        partitions = [TopicPartition(topic, 0, 0) for topic in topics]
        meter = Meter(broker_pid)
        meter.start()
        consumer.assign(partitions)
        read = 0
        value_bytes = 0
        last_progress = time.monotonic()
        while read < count:
            # consume() waits until it has all it asked for: never ask for more than is left.
            messages = consumer.consume(min(BATCH, count - read), 1.0)
            if not messages:
                if time.monotonic() - last_progress > STALL_SECONDS:
                    raise BenchmarkError(f"{bootstrap}: stuck after {read} of {count} messages")
                continue
            last_progress = time.monotonic()
            for message in messages:
                if message.error() is not None:
                    raise BenchmarkError(f"{bootstrap}: {message.error()}")
                value_bytes += len(message.value() or b"")
            read += len(messages)
        meter.stop()
        consumer.pause(partitions)
        statistics.wait_fresh(consumer.poll)
    finally:
        consumer.close()
    if read != count or value_bytes != count * size:
        raise BenchmarkError(f"{bootstrap}: read {read} messages, {value_bytes} bytes; "
                             f"expected {count}, {count * size}")
    return Run(messages=count, value_bytes=value_bytes, seconds=meter.seconds,
               broker_cpu=meter.broker_cpu, client_cpu=meter.client_cpu,
               requests=statistics.requests("Fetch") - fetches_before)


def add_rows(table: Table, profile: ConsumeProfile, ours: Run, others: list[Run | None]) -> None:
    """Add a profile's rows to C{table}; C{others} are the mock's and the peers' runs."""
    topics = len(topics_for("", profile.count, profile.size, profile.spread))
    table.add(f"{profile.name}: {profile.count:,} x {profile.size:,} B, "
              f"{topics} topic{'s' if topics > 1 else ''}", "msgs/s",
              ours.messages_per_second, figures(others, lambda r: r.messages_per_second),
              digits=0)
    table.add(profile.title, "MB/s", ours.megabytes_per_second,
              figures(others, lambda r: r.megabytes_per_second))
    add_cost_rows(table, ours, others, "Fetch")


def main(argv: list[str] | None = None) -> int:
    """Run the chosen profiles and print the table; return the exit status."""
    chosen = choose_profiles(__doc__, PROFILES, argv)

    table = Table(f"consume, confluent-kafka, from offset 0 ({machine_note()})", disk=False)
    try:
        with OurBroker() as broker:
            for profile in chosen:
                topics = topics_for(f"bench-consume-{profile.name}", profile.count,
                                    profile.size, profile.spread)
                fill(broker.bootstrap, topics, profile.size, profile.config)
                ours = consume(broker.bootstrap, broker.pid, topics, profile.size)

                def against(bootstrap: str, pid: int, profile: ConsumeProfile = profile,
                            topics: dict[str, int] = topics) -> Run:
                    fill(bootstrap, topics, profile.size, profile.config)
                    return consume(bootstrap, pid, topics, profile.size)

                with MockBroker() as mock_broker:
                    mock = against(mock_broker.bootstrap, mock_broker.pid)
                if table.rows:
                    table.add_separator()
                add_rows(table, profile, ours, [mock, *run_peers(against, profile.name)])
    except BenchmarkError as e:
        print(f"consume benchmark failed: {e}", file=sys.stderr)
        return 1
    print(table.render())
    print("\nratios: ours / mock broker (librdkafka's in-process mock: the client's ceiling)"
          " and ours / each peer;\nthe mock answers a Fetch with one batch per partition. "
          "Fetch requests come from the client's\nstatistics (an idle long-poll or two after "
          "the last message included). " + PEER_NOTE + peer_failures())
    return 0


if __name__ == "__main__":
    sys.exit(main())
