# -*- test-case-name: tests.e2e.test_consume -*-
"""Consume end to end: every real consumer reads back what every real producer wrote.

Records from confluent-kafka and aiokafka (every codec), kafka-python and
kcat share one partition; a second topic holds batches larger than the
consumers' fetch limits.  confluent-kafka (C{assign}), kafka-python,
aiokafka and C{kcat -C -e} each read both back, from the beginning and from
an offset inside a compressed batch, byte for byte; again after a broker
restart (also a consumer that stays connected across it); and after
retention removed the head of a log, where consumers positioned below the
log start get OFFSET_OUT_OF_RANGE and reset as configured, and ListOffsets
earliest returns the new log start.  Long-poll: a waiting fetch is answered
by a later append well before its max wait, an idle one at its max wait.
"""

from __future__ import annotations

import select
import time
from typing import Any

from twisted.trial.unittest import SynchronousTestCase

from tests.e2e import clients
from tests.e2e.clients import (
    API_VERSIONS, FETCH, PRODUCE, QUIET, RawClient, SharedBrokerCase, Stored, as_kcat_sees,
    assert_same_records, fetch_partition, from_confluent, fetch_request, list_offset, make_records,
    produce_request, read_partition)
from tests.e2e.harness import KCAT, KCAT_MISSING, BrokerTestMixin
from twisted_kafka.errors import ErrorCode
from twisted_kafka.records.record import build_batch

#: Records per producer setting in the mixed partition.
PER_PRODUCER = 300
#: Consumer fetch limits far below the big topic's batches (about 600 KiB).
SMALL_FETCH = 65536


#: The codecs of the mixed partition: snappy has its own topic, as kafka-python
#: can read it only with python-snappy installed.
MIXED_CODECS = ("none", "gzip", "lz4", "zstd")


def produce_mixed(bootstrap: str, topic: str, count: int = PER_PRODUCER,
                  codecs: tuple[str, ...] = MIXED_CODECS,
                  kafka_python: str | None = "lz4", kcat: str = "gzip") -> list[Stored]:
    """Fill partition 0 of C{topic} from every producer client and codec, in turn.

    confluent-kafka and aiokafka produce with each of C{codecs}, kafka-python
    (unless C{None}) and kcat with the codec given.

    kcat cannot say what it stored, so its offsets and timestamps are taken
    from a confluent-kafka read (after checking everything else); the result
    is the whole partition, every field known.
    """
    expected: list[Stored] = []
    started = int(time.time() * 1000)
    for codec in codecs:
        expected += clients.produce_confluent(
            bootstrap, topic, make_records(count, f"confluent-{codec}"),
            config={"compression.type": codec, "linger.ms": 5, "enable.idempotence": True})
        expected += clients.produce_aiokafka(
            bootstrap, topic, make_records(count, f"aiokafka-{codec}"), linger_ms=5,
            compression_type=None if codec == "none" else codec)
    if kafka_python is not None:
        expected += clients.produce_kafka_python(
            bootstrap, topic, make_records(count, "kafka-python", null_header_values=False),
            compression_type=kafka_python)
    if KCAT is not None:
        expected += clients.produce_kcat(bootstrap, topic,
                                         make_records(count, "kcat", kcat_safe=True),
                                         args=("-z", kcat))
    ended = int(time.time() * 1000) + 1
    log = read_partition("confluent", bootstrap, topic)
    if [r.offset for r in log] != list(range(len(expected))):
        raise AssertionError(f"{topic}: offsets {log[0].offset}..{log[-1].offset}, "
                             f"{len(expected)} records produced")
    known = []
    for want, have in zip(expected, log):
        if want.timestamp is None:
            if have.timestamp is None or not started <= have.timestamp <= ended:
                raise AssertionError(f"kcat record stamped {have.timestamp}, "
                                     f"not in [{started}, {ended}]")
            want = want._replace(timestamp=have.timestamp)
        known.append(want._replace(offset=have.offset))
    return known


def produce_big(bootstrap: str, topic: str) -> list[Stored]:
    """Produce 24 records of 200 KiB in batches of three, larger than L{SMALL_FETCH}."""
    records = [r._replace(value=bytes([i]) * 200_000 if r.value is not None else None)
               for i, r in enumerate(make_records(24, "big"))]
    return clients.produce_confluent(bootstrap, topic, records, config={
        "linger.ms": 50, "batch.num.messages": 3, "batch.size": 1_000_000,
        "message.max.bytes": 1_000_000})


#: Settings that make each consumer ask for at most L{SMALL_FETCH} per partition.
SMALL_FETCH_CONFIG: dict[str, dict[str, Any]] = {
    "confluent": {"max.partition.fetch.bytes": SMALL_FETCH, "fetch.max.bytes": SMALL_FETCH,
                  "message.max.bytes": SMALL_FETCH},
    "kafka-python": {"max_partition_fetch_bytes": SMALL_FETCH, "fetch_max_bytes": SMALL_FETCH},
    "aiokafka": {"max_partition_fetch_bytes": SMALL_FETCH, "fetch_max_bytes": SMALL_FETCH},
    "kcat": {"max.partition.fetch.bytes": SMALL_FETCH, "fetch.max.bytes": SMALL_FETCH,
             "message.max.bytes": SMALL_FETCH},
}


class EveryConsumerTests(SharedBrokerCase):
    """Each consumer reads back the mixed partition and the big batches, byte for byte."""

    _data: dict[str, list[Stored]] = {}

    def data(self) -> dict[str, list[Stored]]:
        """Return the produced topics (produced on first use) by name."""
        if not self._data:
            bootstrap = self.broker.bootstrap
            type(self)._data = {
                "mixed": produce_mixed(bootstrap, "mixed"),
                "snappy": produce_mixed(bootstrap, "snappy", 200, ("snappy",), None, "snappy"),
                "big": produce_big(bootstrap, "big")}
        return self._data

    def seen(self, client: str, topic: str) -> list[Stored]:
        """Return what C{client} should read from C{topic} (skip without kcat)."""
        if client == "kcat" and KCAT is None:
            raise self.skipTest(KCAT_MISSING)
        records = self.data()[topic]
        return [as_kcat_sees(r) for r in records] if client == "kcat" else records

    def check_consumer(self, client: str) -> None:
        """Read the mixed and big topics with C{client}: whole, from inside a batch,
        with fetch limits below the batch sizes."""
        bootstrap = self.broker.bootstrap
        mixed = self.seen(client, "mixed")
        assert_same_records(self, mixed, read_partition(client, bootstrap, "mixed"),
                            what=f"{client} mixed")
        # An offset inside a compressed batch: the records before it are skipped.
        middle = PER_PRODUCER * 3 + 17
        assert_same_records(self, mixed[middle:],
                            read_partition(client, bootstrap, "mixed", start=middle),
                            what=f"{client} mixed from {middle}")
        big = self.seen(client, "big")
        assert_same_records(self, big, read_partition(client, bootstrap, "big",
                                                      config=SMALL_FETCH_CONFIG[client]),
                            what=f"{client} big batches")

    def test_confluent(self) -> None:
        """confluent-kafka, C{assign} from the beginning."""
        self.check_consumer("confluent")

    def test_kafka_python(self) -> None:
        """kafka-python, C{assign} and C{seek_to_beginning}."""
        self.check_consumer("kafka-python")

    def test_aiokafka(self) -> None:
        """aiokafka, C{assign} and C{seek_to_beginning}."""
        self.check_consumer("aiokafka")

    def test_kcat(self) -> None:
        """C{kcat -C -e}: every record, headers as kcat prints them."""
        self.check_consumer("kcat")

    def check_snappy(self, client: str) -> None:
        """Read the snappy topic (confluent-kafka, aiokafka and kcat wrote it) with C{client}."""
        assert_same_records(self, self.seen(client, "snappy"),
                            read_partition(client, self.broker.bootstrap, "snappy"), what=client)

    def test_confluent_snappy(self) -> None:
        """confluent-kafka reads snappy batches (raw and xerial-framed)."""
        self.check_snappy("confluent")

    def test_kafka_python_snappy(self) -> None:
        """kafka-python reads snappy batches when python-snappy is installed."""
        from kafka.codec import has_snappy

        if not has_snappy():
            raise self.skipTest("kafka-python needs python-snappy to read snappy batches")
        self.check_snappy("kafka-python")

    def test_aiokafka_snappy(self) -> None:
        """aiokafka reads snappy batches."""
        self.check_snappy("aiokafka")

    def test_kcat_snappy(self) -> None:
        """kcat reads snappy batches."""
        self.check_snappy("kcat")


class RestartTests(BrokerTestMixin, SynchronousTestCase):
    """What was stored before a restart is read back the same after it."""

    def test_every_consumer_after_restart(self) -> None:
        """Produce, stop and start the broker, read back with every consumer."""
        expected = produce_mixed(self.broker.bootstrap, "restarted", count=200,
                                 codecs=("gzip", "zstd"))
        self.broker.restart()
        for client in clients.CONSUMERS:
            if client == "kcat" and KCAT is None:
                continue
            want = [as_kcat_sees(r) for r in expected] if client == "kcat" else expected
            assert_same_records(self, want, read_partition(client, self.broker.bootstrap,
                                                           "restarted"), what=client)

    def test_consumer_across_restart(self) -> None:
        """A confluent-kafka consumer reading during a restart carries on where it was."""
        from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

        first = clients.produce_confluent(self.broker.bootstrap, "across",
                                          make_records(500, "before"))
        consumer = Consumer({"bootstrap.servers": self.broker.bootstrap, "group.id": "across",
                             "enable.auto.commit": False, "reconnect.backoff.ms": 50,
                             "reconnect.backoff.max.ms": 200, **QUIET})
        self.addCleanup(consumer.close)
        consumer.assign([TopicPartition("across", 0, OFFSET_BEGINNING)])
        got = consume_until(self, consumer, 500)
        self.broker.restart()
        second = clients.produce_confluent(self.broker.bootstrap, "across",
                                           make_records(300, "after"))
        got += consume_until(self, consumer, 300)
        assert_same_records(self, first + second, got)


def consume_until(case: SynchronousTestCase, consumer: Any, count: int,
                  timeout: float = 30) -> list[Stored]:
    """Consume exactly C{count} records with a confluent-kafka consumer."""
    out: list[Stored] = []
    deadline = time.monotonic() + timeout
    while len(out) < count and time.monotonic() < deadline:
        for m in consumer.consume(count - len(out), timeout=0.5):
            if m.error():
                case.fail(f"consumer error: {m.error()}")
            out.append(from_confluent(m))
    if len(out) < count:
        case.fail(f"consumed {len(out)} records of {count} in {timeout} s")
    return out


class RetentionTests(SharedBrokerCase):
    """After retention removed a log's head, consumers below it reset as configured.

    Segments of about 2 KiB and 8 KiB of retention per partition, checked
    every 100 ms: each test's topic loses most of its records right after
    being produced.
    """

    broker_options = {"store": {"segment_bytes": 2048, "retention_bytes": 8192,
                                "retention_check_interval_ms": 100}}

    def setUp(self) -> None:
        """Produce this test's topic and wait until retention has moved its log start."""
        self.topic = self.topic_name()
        self.bootstrap = self.broker.bootstrap
        self.acked = clients.produce_confluent(
            self.bootstrap, self.topic, make_records(300, self.topic),
            config={"linger.ms": 0, "batch.num.messages": 5})
        self.client = RawClient(self.bootstrap)
        self.addCleanup(self.client.close)
        self.log_start = self.settled_log_start()
        self.assertGreater(self.log_start, 0)
        self.kept = [r for r in self.acked if r.offset >= self.log_start]

    def settled_log_start(self, timeout: float = 20) -> int:
        """Wait until ListOffsets earliest is above 0 and stays put; return it."""
        deadline = time.monotonic() + timeout
        last = 0
        while time.monotonic() < deadline:
            start = list_offset(self.client, self.topic, 0, -2)["offset"]
            if start > 0 and start == last:
                return start
            last = start
            time.sleep(0.3)
        self.fail(f"retention did not move the log start of {self.topic} in {timeout} s")

    def test_list_offsets_and_fetch(self) -> None:
        """ListOffsets earliest, every client's view and Fetch agree on the new log start.

        A Fetch below it gets OFFSET_OUT_OF_RANGE with the log start; one at
        it returns the batch starting there (whole segments went).
        """
        from confluent_kafka import Consumer, TopicPartition
        from kafka import KafkaConsumer
        from kafka import TopicPartition as KTopicPartition

        hw = len(self.acked)
        self.assertEqual(list_offset(self.client, self.topic, 0, -1)["offset"], hw)
        for version in (1, 4, 10):
            self.assertEqual(list_offset(self.client, self.topic, 0, -2, version)["offset"],
                             self.log_start)
        consumer = Consumer({"bootstrap.servers": self.bootstrap, "group.id": "offsets",
                             **QUIET})
        try:
            self.assertEqual(consumer.get_watermark_offsets(
                TopicPartition(self.topic, 0), timeout=10, cached=False), (self.log_start, hw))
        finally:
            consumer.close()
        kafka_python = KafkaConsumer(bootstrap_servers=self.bootstrap)
        try:
            tp = KTopicPartition(self.topic, 0)
            self.assertEqual(kafka_python.beginning_offsets([tp]), {tp: self.log_start})
        finally:
            kafka_python.close()
        below = fetch_partition(self.client, self.topic, 0, 0)
        self.assertEqual((below["error_code"], below["log_start_offset"], below["records"]),
                         (ErrorCode.OFFSET_OUT_OF_RANGE, self.log_start, b""))
        at = fetch_partition(self.client, self.topic, 0, self.log_start)
        self.assertEqual((at["error_code"], at["log_start_offset"], at["high_watermark"]),
                         (ErrorCode.NONE, self.log_start, hw))
        self.assertEqual(int.from_bytes(at["records"][:8], "big"), self.log_start)

    def test_earliest(self) -> None:
        """auto.offset.reset earliest: every consumer at offset 0 reads from the log start."""
        configs = {"confluent": {"auto.offset.reset": "earliest"},
                   "kafka-python": {"auto_offset_reset": "earliest"},
                   "aiokafka": {"auto_offset_reset": "earliest"},
                   "kcat": {"auto.offset.reset": "earliest"}}
        for client, config in configs.items():
            if client == "kcat" and KCAT is None:
                continue
            want = [as_kcat_sees(r) for r in self.kept] if client == "kcat" else self.kept
            assert_same_records(self, want, read_partition(client, self.bootstrap, self.topic,
                                                           start=0, config=config),
                                what=client)

    def test_latest_confluent(self) -> None:
        """auto.offset.reset latest: confluent-kafka skips to the end, then reads new records."""
        from confluent_kafka import Consumer, TopicPartition

        consumer = Consumer({"bootstrap.servers": self.bootstrap, "group.id": "latest",
                             "enable.auto.commit": False, "auto.offset.reset": "latest",
                             **QUIET})
        self.addCleanup(consumer.close)
        consumer.assign([TopicPartition(self.topic, 0, 0)])
        self.assertEqual(consumer.consume(10, timeout=1.5), [])
        new = clients.produce_confluent(self.bootstrap, self.topic, make_records(5, "new"))
        assert_same_records(self, new, consume_until(self, consumer, 5))

    def test_latest_kafka_python(self) -> None:
        """auto_offset_reset latest: kafka-python moves to the high watermark."""
        from kafka import KafkaConsumer, TopicPartition

        consumer = KafkaConsumer(bootstrap_servers=self.bootstrap,
                                 auto_offset_reset="latest", enable_auto_commit=False)
        self.addCleanup(consumer.close)
        tp = TopicPartition(self.topic, 0)
        consumer.assign([tp])
        consumer.seek(tp, 0)
        self.assertEqual(consumer.poll(timeout_ms=1500), {})
        self.assertEqual(consumer.position(tp), len(self.acked))

    def test_error_confluent(self) -> None:
        """auto.offset.reset error: confluent-kafka reports the out-of-range offset."""
        from confluent_kafka import Consumer, KafkaError, TopicPartition

        consumer = Consumer({"bootstrap.servers": self.bootstrap, "group.id": "error",
                             "enable.auto.commit": False, "auto.offset.reset": "error",
                             **QUIET})
        self.addCleanup(consumer.close)
        consumer.assign([TopicPartition(self.topic, 0, 0)])
        errors: list[Any] = []
        deadline = time.monotonic() + 15
        while not errors and time.monotonic() < deadline:
            for m in consumer.consume(10, timeout=0.5):
                self.assertIsNotNone(m.error(), "a record below the log start")
                errors.append(m.error())
        self.assertTrue(errors, "no error")
        self.assertEqual(errors[0].code(), KafkaError._AUTO_OFFSET_RESET)
        self.assertIn("out of range", errors[0].str().lower())

    def test_none_kafka_python(self) -> None:
        """auto_offset_reset none: kafka-python raises OffsetOutOfRangeError."""
        from kafka import KafkaConsumer, TopicPartition
        from kafka.errors import OffsetOutOfRangeError

        consumer = KafkaConsumer(bootstrap_servers=self.bootstrap, auto_offset_reset="none",
                                 enable_auto_commit=False)
        self.addCleanup(consumer.close)
        tp = TopicPartition(self.topic, 0)
        consumer.assign([tp])
        consumer.seek(tp, 0)
        with self.assertRaises(OffsetOutOfRangeError):
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                self.assertEqual(consumer.poll(timeout_ms=500), {})

    def test_none_aiokafka(self) -> None:
        """auto_offset_reset none: aiokafka raises OffsetOutOfRangeError."""
        import asyncio

        from aiokafka import AIOKafkaConsumer, TopicPartition
        from aiokafka.errors import OffsetOutOfRangeError

        async def run() -> None:
            consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap,
                                        auto_offset_reset="none", enable_auto_commit=False)
            await consumer.start()
            try:
                tp = TopicPartition(self.topic, 0)
                consumer.assign([tp])
                consumer.seek(tp, 0)
                await consumer.getmany(tp, timeout_ms=10_000)
            finally:
                await consumer.stop()

        with self.assertRaises(OffsetOutOfRangeError):
            asyncio.run(asyncio.wait_for(run(), 20))


def answered_within(client: RawClient, seconds: float) -> bool:
    """Return whether the broker sent something on C{client} within C{seconds}."""
    readable, _, _ = select.select([client.sock], [], [], seconds)
    return bool(readable)


class LongPollTests(SharedBrokerCase):
    """A fetch at the end waits for data, up to its max wait, and never longer."""

    #: A max wait no test comes near when the broker wakes fetches on appends.
    LONG_WAIT_MS = 30_000

    def setUp(self) -> None:
        """Create this test's topic with one record; open a waiting and a writing connection."""
        self.topic = self.topic_name()
        self.waiting = RawClient(self.broker.bootstrap, timeout=self.LONG_WAIT_MS / 2000)
        self.addCleanup(self.waiting.close)
        self.writing = RawClient(self.broker.bootstrap)
        self.addCleanup(self.writing.close)
        self.append(1)
        self.end = list_offset(self.writing, self.topic, 0, -1)["offset"]

    def append(self, count: int, size: int = 100) -> None:
        """Append one batch of C{count} records of C{size} bytes (acks=1)."""
        now = int(time.time() * 1000)
        batch = build_batch([(b"k", b"v" * size, [], now)] * count)
        response = self.writing.request(PRODUCE, 9, produce_request(
            {(self.topic, 0): batch}, acks=1))
        self.assertEqual(response["responses"][0]["partition_responses"][0]["error_code"], 0)

    def test_append_wakes_fetch(self) -> None:
        """A fetch waiting at the end is answered by an append, long before its max wait.

        The waiting connection's socket times out at half the max wait, so a
        broker that only answers at the max wait fails the test.
        """
        self.waiting.send(FETCH, 11, fetch_request(self.topic, 0, self.end, min_bytes=1,
                                                   max_wait_ms=self.LONG_WAIT_MS))
        self.assertFalse(answered_within(self.waiting, 0.5), "answered with nothing to read")
        self.append(3)
        _, response = self.waiting.receive()
        partition = response["responses"][0]["partitions"][0]
        self.assertEqual((partition["error_code"], partition["high_watermark"]),
                         (ErrorCode.NONE, self.end + 3))
        self.assertEqual(int.from_bytes(partition["records"][:8], "big"), self.end)

    def test_min_bytes(self) -> None:
        """A fetch wanting 10 KB waits through a small append and is answered by a big one."""
        self.waiting.send(FETCH, 11, fetch_request(self.topic, 0, self.end, min_bytes=10_000,
                                                   max_wait_ms=self.LONG_WAIT_MS))
        self.append(1)
        self.assertFalse(answered_within(self.waiting, 0.5), "answered below min_bytes")
        self.append(10, size=2000)
        _, response = self.waiting.receive()
        partition = response["responses"][0]["partitions"][0]
        self.assertEqual(partition["high_watermark"], self.end + 11)
        self.assertGreaterEqual(len(partition["records"]), 10_000)

    def test_idle_fetch_returns(self) -> None:
        """Nothing to read: the fetch is answered empty at its max wait, then the next request.

        Both requests are sent at once; the responses come in request order.
        """
        fetch = self.waiting.send(FETCH, 11, fetch_request(self.topic, 0, self.end,
                                                           min_bytes=1, max_wait_ms=300))
        versions = self.waiting.send(API_VERSIONS, 0, {})
        first, response = self.waiting.receive()
        self.assertEqual(first, fetch)
        partition = response["responses"][0]["partitions"][0]
        self.assertEqual((partition["error_code"], partition["high_watermark"],
                          partition["records"] or b""), (ErrorCode.NONE, self.end, b""))
        self.assertEqual(self.waiting.receive()[0], versions)

    def test_confluent_consumer_waiting(self) -> None:
        """A confluent-kafka consumer at the end receives a record produced later.

        Its fetches wait up to 30 s; the record must come well before.
        """
        from confluent_kafka import OFFSET_END, Consumer, TopicPartition

        consumer = Consumer({"bootstrap.servers": self.broker.bootstrap, "group.id": "wait",
                             "fetch.wait.max.ms": self.LONG_WAIT_MS, **QUIET})
        self.addCleanup(consumer.close)
        consumer.assign([TopicPartition(self.topic, 0, OFFSET_END)])
        self.assertEqual(consumer.consume(10, timeout=1), [])
        sent = clients.produce_confluent(self.broker.bootstrap, self.topic,
                                         make_records(1, "later"))
        assert_same_records(self, sent, consume_until(self, consumer, 1,
                                                      timeout=self.LONG_WAIT_MS / 2000))

    def test_kafka_python_consumer_waiting(self) -> None:
        """A kafka-python consumer at the end receives a record produced later."""
        from kafka import KafkaConsumer, TopicPartition

        consumer = KafkaConsumer(bootstrap_servers=self.broker.bootstrap,
                                 fetch_max_wait_ms=self.LONG_WAIT_MS,
                                 request_timeout_ms=self.LONG_WAIT_MS + 10_000,
                                 enable_auto_commit=False)
        self.addCleanup(consumer.close)
        tp = TopicPartition(self.topic, 0)
        consumer.assign([tp])
        consumer.seek_to_end(tp)
        self.assertEqual(consumer.poll(timeout_ms=1000), {})
        sent = clients.produce_kafka_python(self.broker.bootstrap, self.topic,
                                            make_records(1, "later", null_header_values=False))
        got: list[Any] = []
        deadline = time.monotonic() + self.LONG_WAIT_MS / 2000
        while not got and time.monotonic() < deadline:
            got = consumer.poll(timeout_ms=500).get(tp, [])
        self.assertEqual([(m.offset, m.key, m.value) for m in got],
                         [(s.offset, s.key, s.value) for s in sent])
