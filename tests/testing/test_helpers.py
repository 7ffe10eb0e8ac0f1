# -*- test-case-name: tests.testing.test_helpers -*-
"""Tests for L{twisted_kafka.testing.helpers} against a real broker and real clients."""

from __future__ import annotations

from confluent_kafka.admin import AdminClient, ConfigResource
from kafka import KafkaConsumer, KafkaProducer
from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.records.record import build_batch
from twisted_kafka.testing import helpers
from twisted_kafka.testing.client import KafkaRequestError
from twisted_kafka.testing.process import KafkaBroker


class BrokerCase(SynchronousTestCase):
    """A broker for each test (a fork-server start costs well under 0.3 s)."""

    def setUp(self) -> None:
        """Start this test's broker."""
        self.broker = KafkaBroker(kafka={"auto_create_topics": False}).start()
        self.addCleanup(self.broker.close)

    def topic(self) -> str:
        """Return a topic name unique to this test."""
        return helpers.unique_topic_name(self.id().rsplit(".", 1)[-1])


class TopicTests(BrokerCase):
    """Creating, waiting for and deleting topics."""

    def test_create(self) -> None:
        """create_topic makes the partitions and configs asked for; a second time is an error."""
        name = self.topic()
        helpers.create_topic(self.broker.bootstrap, name, 3, {"retention.ms": "60000"})
        self.assertEqual(helpers.wait_for_topic(self.broker.bootstrap, name), 3)
        resource = ConfigResource("topic", name)
        admin = AdminClient({"bootstrap.servers": self.broker.bootstrap})
        described = admin.describe_configs([resource])[resource].result(10)
        self.assertEqual(described["retention.ms"].value, "60000")
        with self.assertRaises(KafkaRequestError) as caught:
            helpers.create_topic(self.broker.bootstrap, name)
        self.assertEqual(caught.exception.code, 36)
        self.assertIn("TOPIC_ALREADY_EXISTS", str(caught.exception))
        helpers.create_topic(self.broker.bootstrap, name, exist_ok=True)

    def test_wait_for_missing_topic(self) -> None:
        """Waiting for a topic that never comes times out saying why, without creating it."""
        name = self.topic()
        with self.assertRaises(TimeoutError) as caught:
            helpers.wait_for_topic(self.broker.bootstrap, name, timeout=0.2)
        self.assertIn(f"topic {name} not ready after 0.2 s", str(caught.exception))
        self.assertIn("UNKNOWN_TOPIC_OR_PARTITION", str(caught.exception))

    def test_wait_for_partitions(self) -> None:
        """Waiting for more partitions than the topic has times out naming the count seen."""
        name = self.topic()
        helpers.create_topic(self.broker.bootstrap, name, 2)
        with self.assertRaises(TimeoutError) as caught:
            helpers.wait_for_topic(self.broker.bootstrap, name, timeout=0.2, partitions=3)
        self.assertIn("2 partitions", str(caught.exception))

    def test_delete(self) -> None:
        """delete_topics removes topics; missing ones and an empty list are fine."""
        name = self.topic()
        helpers.create_topic(self.broker.bootstrap, name)
        helpers.delete_topics(self.broker.bootstrap, [name, self.topic()])
        helpers.delete_topics(self.broker.bootstrap, [])
        self.assertRaises(TimeoutError, helpers.wait_for_topic, self.broker.bootstrap, name, 0.1)

    def test_unique_topic_name(self) -> None:
        """Names are cleaned into legal topic characters and differ each call."""
        first = helpers.unique_topic_name("test_x[param 1]")
        self.assertRegex(first, r"^test_x-param-1-[0-9a-f]{8}$")
        self.assertNotEqual(first, helpers.unique_topic_name("test_x[param 1]"))
        self.assertRegex(helpers.unique_topic_name("///"), r"^test-[0-9a-f]{8}$")


class ProduceReadTests(BrokerCase):
    """produce and read_topic, checked against what real clients wrote and read."""

    def test_produce_then_consume(self) -> None:
        """What produce appends, kafka-python reads back: keys, values, headers, offsets."""
        name = self.topic()
        helpers.create_topic(self.broker.bootstrap, name)
        self.assertEqual(helpers.produce(self.broker.bootstrap, name, [b"a", (b"k", None)],
                                         headers=[("h", b"1")]), 0)
        self.assertEqual(helpers.produce(self.broker.bootstrap, name, [b"c"]), 2)
        consumer = KafkaConsumer(name, bootstrap_servers=self.broker.bootstrap,
                                 auto_offset_reset="earliest", consumer_timeout_ms=10000)
        try:
            read = [(m.offset, m.key, m.value, m.headers) for _, m in zip(range(3), consumer)]
        finally:
            consumer.close()
        self.assertEqual(read, [(0, None, b"a", [("h", b"1")]), (1, b"k", None, [("h", b"1")]),
                                (2, None, b"c", [])])

    def test_produce_refused(self) -> None:
        """Producing to a partition that does not exist, or nothing, is an error."""
        name = self.topic()
        helpers.create_topic(self.broker.bootstrap, name)
        self.assertRaises(KafkaRequestError, helpers.produce, self.broker.bootstrap, name,
                          [b"x"], partition=5)
        self.assertRaises(ValueError, helpers.produce, self.broker.bootstrap, name, [])

    def test_read_topic(self) -> None:
        """read_topic returns what kafka-python wrote, partition by partition, in order."""
        name = self.topic()
        helpers.create_topic(self.broker.bootstrap, name, 2)
        producer = KafkaProducer(bootstrap_servers=self.broker.bootstrap, linger_ms=0)
        for i in range(6):
            producer.send(name, value=b"v%d" % i, key=b"k%d" % i, partition=i % 2,
                          headers=[("n", b"%d" % i)], timestamp_ms=1000 + i)
            producer.flush()  # one batch each: read_topic walks several
        producer.close()
        records = helpers.read_topic(self.broker.bootstrap, name)
        self.assertEqual(
            [(r.topic, r.partition, r.offset, r.timestamp, r.key, r.value, r.headers)
             for r in records],
            [(name, i % 2, i // 2, 1000 + i, b"k%d" % i, b"v%d" % i, [("n", b"%d" % i)])
             for i in (0, 2, 4, 1, 3, 5)])

    def test_read_empty_and_missing(self) -> None:
        """An empty topic reads as []; a missing one is an error."""
        name = self.topic()
        helpers.create_topic(self.broker.bootstrap, name)
        self.assertEqual(helpers.read_topic(self.broker.bootstrap, name), [])
        with self.assertRaises(KafkaRequestError) as caught:
            helpers.read_topic(self.broker.bootstrap, self.topic())
        self.assertIn("UNKNOWN_TOPIC_OR_PARTITION", str(caught.exception))

    def test_records_in_skips_control_batches(self) -> None:
        """A transaction's commit marker (a control batch) is not a record; its offset is passed."""
        data = (build_batch([(None, b"in-transaction", [], 1)], producer_id=7)
                + build_batch([(b"\0\0\0\1", b"\0\0\0\0\0\0", [], 2)], base_offset=1,
                              producer_id=7, is_control=True, is_transactional=True)
                + build_batch([(None, b"after", [], 3), (None, b"late", [], 3)], base_offset=2))
        records, next_offset = helpers.records_in(data, "t", 0, 0, 3)
        self.assertEqual([(r.offset, r.value) for r in records],
                         [(0, b"in-transaction"), (2, b"after")])
        self.assertEqual(next_offset, 4)

    def test_whole_batches(self) -> None:
        """A fetch answer cut inside its last batch is read up to that batch."""
        first = build_batch([(None, b"a", [], 1)])
        second = build_batch([(None, b"b", [], 1)], base_offset=1)
        self.assertEqual(helpers._whole_batches(first + second[:-3]), first)
        self.assertEqual(helpers._whole_batches(first[:5]), b"")
        self.assertEqual(helpers._whole_batches(None), b"")


class CommittedOffsetTests(BrokerCase):
    """wait_for_committed_offset, against a kafka-python group consumer."""

    def test_wait_for_commit(self) -> None:
        """It returns the offset a consumer committed; it times out before one is."""
        name, group = self.topic(), self.topic()
        helpers.create_topic(self.broker.bootstrap, name)
        helpers.produce(self.broker.bootstrap, name, [b"1", b"2", b"3"])
        with self.assertRaises(TimeoutError) as caught:
            helpers.wait_for_committed_offset(self.broker.bootstrap, group, name, timeout=0.1)
        self.assertIn("no offset committed", str(caught.exception))
        consumer = KafkaConsumer(name, group_id=group, bootstrap_servers=self.broker.bootstrap,
                                 auto_offset_reset="earliest", enable_auto_commit=False,
                                 consumer_timeout_ms=10000)
        try:
            self.assertEqual([m.value for _, m in zip(range(3), consumer)], [b"1", b"2", b"3"])
            consumer.commit()
        finally:
            consumer.close()
        self.assertEqual(helpers.wait_for_committed_offset(
            self.broker.bootstrap, group, name, at_least=3), 3)
        with self.assertRaises(TimeoutError) as caught:
            helpers.wait_for_committed_offset(
                self.broker.bootstrap, group, name, at_least=4, timeout=0.1)
        self.assertIn("offset 3 committed", str(caught.exception))
