# -*- test-case-name: tests.e2e.test_compaction -*-
"""End-to-end tests of compacted topics with real clients against the real broker.

For each of confluent-kafka, kafka-python and aiokafka: its admin client
creates a compacted topic, its producer writes overwrites and tombstones in
several rounds (the broker's segments are small, so they fill several
segments), the broker's log cleaner runs on its own schedule, and its
consumer reads back exactly the latest value of every key at the offset it
was acknowledged at (tombstones included: they stay for
C{delete.retention.ms}). A record without a key is refused and nothing of
its batch is stored.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Any

from tests.e2e.clients import (
    Outgoing,
    ProduceFailed,
    SharedBrokerCase,
    Stored,
    produce_aiokafka,
    produce_confluent,
    produce_kafka_python,
    read_partition,
)

#: The topic configs of the compacted topics (cleaned as soon as anything is dirty).
CONFIGS = {"cleanup.policy": "compact", "min.cleanable.dirty.ratio": "0.01"}

#: How long a test waits for the cleaner.
CLEAN_TIMEOUT = 45.0

Producer = Callable[[str, str, Sequence[Outgoing]], list[Stored]]


def rounds() -> list[list[Outgoing]]:
    """The records, a producer flush per list: six rounds of overwrites, tombstones, then fillers.

    The last list alone is larger than a segment, so it ends up alone in the
    active segment and every overwrite lies in a sealed one the cleaner may clean.
    """
    out = [[Outgoing(b"key-%d" % k, b"round-%d-key-%d-" % (r, k) + b"x" * 150, (), None) for k in range(8)]
           for r in range(6)]
    out.append([Outgoing(b"key-6", None, (), None), Outgoing(b"key-7", None, (), None)])
    out.append([Outgoing(b"filler-%d" % i, b"f" * 200, (), None) for i in range(4)])
    out.append([Outgoing(b"tail-%d" % i, b"t" * 200, (), None) for i in range(30)])
    return out


def latest_per_key(acked: list[Stored]) -> list[tuple[int, bytes | None, bytes | None]]:
    """The model of a fully compacted log: the last acknowledged record of each key, by offset."""
    latest: dict[bytes | None, Stored] = {}
    for record in sorted(acked, key=lambda r: r.offset):
        latest[record.key] = record
    return sorted((r.offset, r.key, r.value) for r in latest.values())


class CompactionScenario:
    """The two tests, mixed into each client family's test case.

    The case provides C{client} (a L{read_partition} consumer name),
    C{create_topic(topic)} and C{produce(topic, records)}.
    """

    broker_options = {"store": {"segment_bytes": 4096, "cleaner_backoff_ms": 200}}

    def test_compaction(self: Any) -> None:
        """Overwrites and tombstones are compacted to the latest record of each key, at its offset."""
        topic = self.topic_name()
        self.create_topic(topic)
        acked: list[Stored] = []
        for records in rounds():
            acked += self.produce(topic, records)
        self.assertEqual(sorted(r.offset for r in acked), list(range(len(acked))))
        expected = latest_per_key(acked)
        deadline = time.monotonic() + CLEAN_TIMEOUT
        while True:
            found = [(r.offset, r.key, r.value) for r in read_partition(self.client, self.broker.bootstrap, topic)]
            if found == expected or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        self.assertEqual(found, expected)  # half of what was acknowledged: the overwrites went

    def test_keyless_refused(self: Any) -> None:
        """A record without a key is refused (the whole batch), and the log does not move."""
        topic = self.topic_name()
        self.create_topic(topic)
        self.produce(topic, [Outgoing(b"k", b"v", (), None)])
        with self.assertRaises(ProduceFailed) as raised:
            self.produce(topic, [Outgoing(None, b"no key", (), None)])
        self.assertRegex(str(raised.exception).lower(), "invalid.?record|invalidrecord|unknown")
        found = read_partition(self.client, self.broker.bootstrap, topic)
        self.assertEqual([(r.offset, r.key) for r in found], [(0, b"k")])


class ConfluentCompactionTests(CompactionScenario, SharedBrokerCase):
    """confluent-kafka (librdkafka): AdminClient, Producer, Consumer."""

    client = "confluent"

    def create_topic(self, topic: str) -> None:
        """Create it with C{AdminClient.create_topics}."""
        from confluent_kafka.admin import AdminClient, NewTopic

        admin = AdminClient({"bootstrap.servers": self.broker.bootstrap})
        admin.create_topics([NewTopic(topic, 1, 1, config=CONFIGS)])[topic].result(10)

    def produce(self, topic: str, records: Sequence[Outgoing]) -> list[Stored]:
        """Produce with librdkafka, failing at once on a refused batch."""
        return produce_confluent(self.broker.bootstrap, topic, records, config={"message.send.max.retries": 0})


class KafkaPythonCompactionTests(CompactionScenario, SharedBrokerCase):
    """kafka-python: KafkaAdminClient, KafkaProducer, KafkaConsumer."""

    client = "kafka-python"

    def create_topic(self, topic: str) -> None:
        """Create it with C{KafkaAdminClient.create_topics}."""
        from kafka.admin import KafkaAdminClient, NewTopic

        admin = KafkaAdminClient(bootstrap_servers=self.broker.bootstrap)
        try:
            admin.create_topics([NewTopic(topic, 1, 1, topic_configs=CONFIGS)])
        finally:
            admin.close()

    def produce(self, topic: str, records: Sequence[Outgoing]) -> list[Stored]:
        """Produce with kafka-python's idempotent producer."""
        return produce_kafka_python(self.broker.bootstrap, topic, records, timeout=20)


class AIOKafkaCompactionTests(CompactionScenario, SharedBrokerCase):
    """aiokafka: AIOKafkaAdminClient, AIOKafkaProducer, AIOKafkaConsumer."""

    client = "aiokafka"

    def create_topic(self, topic: str) -> None:
        """Create it with C{AIOKafkaAdminClient.create_topics}."""
        from aiokafka.admin import AIOKafkaAdminClient, NewTopic

        async def main() -> Any:
            admin = AIOKafkaAdminClient(bootstrap_servers=self.broker.bootstrap)
            await admin.start()
            try:
                return await admin.create_topics([NewTopic(topic, 1, 1, topic_configs=CONFIGS)])
            finally:
                await admin.close()

        asyncio.run(main())

    def produce(self, topic: str, records: Sequence[Outgoing]) -> list[Stored]:
        """Produce with aiokafka."""
        return produce_aiokafka(self.broker.bootstrap, topic, records, timeout=20)

