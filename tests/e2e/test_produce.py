# -*- test-case-name: tests.e2e.test_produce -*-
"""Produce end to end: real clients write, the partition is read back byte for byte.

Each test sends a few thousand varied records (L{clients.make_records}: keys,
null values, headers, explicit timestamps) with one client and one setting -
confluent-kafka with acks 0/1/all and every codec, idempotently, and through a
proxy that keeps dropping connections; kafka-python 3 with its defaults;
aiokafka with every codec; C{kcat -P} - then reads the partition back and
checks that every acknowledged record is there exactly once, in order, byte
for byte, and that the stored batches carry the codec and producer id sent.
Also: keyed records over three partitions, each in order; LogAppendTime
topics stamped by the broker.  A broker killed with SIGKILL right after
acks=all acknowledgements comes back with all of them, and with its
idempotent producers' state (a retried batch is not stored twice).
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from typing import Any

from twisted.trial.unittest import SynchronousTestCase

from tests.e2e import clients
from tests.e2e.clients import (
    INIT_PRODUCER_ID, PRODUCE, RawClient, SharedBrokerCase, Stored, assert_acked_in_order,
    assert_same_records, codec_tests, list_offset, make_records, produce_request, produce_results,
    read_partition, stored_batch_headers)
from tests.e2e.harness import KCAT, KCAT_MISSING, BrokerProcess, BrokerTestMixin
from twisted_kafka.errors import ErrorCode
from twisted_kafka.records.record import build_batch

#: Records per test: a few thousand, so the whole file stays fast.
COUNT = 2000
CODEC_NUMBERS = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}


class ProduceCase(SharedBrokerCase):
    """A test case with a broker shared by its class and checks on what was stored."""

    def assert_stored(self, acked: list[Stored], topic: str, *, codec: str | None = None,
                      idempotent: bool | None = None) -> None:
        """Read C{topic} back and check it holds exactly C{acked}.

        @param codec: the stored batches must use this codec, or none where
            the client found compressing did not pay (kafka-python does so).
        @param idempotent: every stored batch must (or must not) carry a
            producer id.
        """
        assert_acked_in_order(self, acked)
        log = read_partition("confluent", self.broker.bootstrap, topic)
        assert_same_records(self, acked, log)
        headers = stored_batch_headers(self.broker.bootstrap, topic)
        self.assertEqual(sum(h.record_count for h in headers), len(acked))
        if codec is not None:
            codecs = {h.attributes & 7 for h in headers}
            self.assertIn(CODEC_NUMBERS[codec], codecs)
            self.assertLessEqual(codecs, {0, CODEC_NUMBERS[codec]})
        if idempotent is not None:
            self.assertEqual({h.producer_id >= 0 for h in headers}, {idempotent})


@codec_tests("idempotent", "Idempotent with codec {codec}: stored as sent, with the producer id.")
class ConfluentProduceTests(ProduceCase):
    """confluent-kafka (librdkafka) with each acks setting and each codec."""

    def produce(self, config: dict[str, Any], codec: str = "none") -> tuple[str, list[Stored]]:
        """Produce this test's records with C{config}; return (topic, acknowledged)."""
        topic = self.topic_name()
        records = make_records(COUNT, topic)
        acked = clients.produce_confluent(
            self.broker.bootstrap, topic, records,
            config={"compression.type": codec, "linger.ms": 5, **config})
        self.assertEqual(len(acked), COUNT)
        return topic, acked

    def test_acks_0(self) -> None:
        """acks=0: no offsets come back, yet every record is stored once, in order."""
        topic, acked = self.produce({"acks": 0})
        # The broker never answers; any offsets librdkafka reports are its own.
        acked = [a._replace(offset=-1) for a in acked]
        self.assert_stored(acked, topic, idempotent=False)

    def test_acks_1(self) -> None:
        """acks=1: offsets 0..n-1 in send order, records stored byte for byte."""
        topic, acked = self.produce({"acks": 1})
        self.assertEqual([a.offset for a in acked], list(range(COUNT)))
        self.assert_stored(acked, topic, idempotent=False)

    def test_acks_all(self) -> None:
        """acks=all without idempotence: every acknowledged record stored once."""
        topic, acked = self.produce({"acks": "all", "enable.idempotence": False})
        self.assertEqual([a.offset for a in acked], list(range(COUNT)))
        self.assert_stored(acked, topic, idempotent=False)

    def check_codec(self, codec: str) -> None:
        """Produce idempotently with C{codec}; check what was stored."""
        topic, acked = self.produce({"enable.idempotence": True}, codec)
        self.assertEqual([a.offset for a in acked], list(range(COUNT)))
        self.assert_stored(acked, topic, codec=codec, idempotent=True)


class DroppingProxy:
    """A TCP proxy to the broker that keeps killing its connections.

    It forwards client bytes to the broker untouched; of the chunks coming
    back, every C{drop_every}-th one is not forwarded: both sockets of that
    connection are closed instead.  The client thus loses responses to
    requests the broker has already carried out, and must retry them.  After
    C{max_drops} drops it forwards everything, so the client can finish.
    It counts the Produce requests it forwards (L{produce_requests}).
    """

    def __init__(self, drop_every: int, max_drops: int) -> None:
        """Listen on a free port of 127.0.0.1 (L{port}); set L{target_port} before use."""
        self.target_port = 0
        self.drop_every = drop_every
        self.max_drops = max_drops
        self.drops = 0
        self.chunks = 0
        self.produce_requests = 0
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._sockets: list[socket.socket] = []
        self._closing = False
        threading.Thread(target=self._accept, daemon=True).start()

    def calm(self) -> None:
        """Drop no more connections from now on."""
        with self._lock:
            self.max_drops = self.drops

    def close(self) -> None:
        """Stop accepting and close every connection."""
        self._closing = True
        self._listener.close()
        with self._lock:
            for s in self._sockets:
                s.close()

    def _accept(self) -> None:
        while not self._closing:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, upstream]
            pair = (client, upstream)
            threading.Thread(target=self._pump, args=(client, upstream, pair, False),
                             daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, pair, True),
                             daemon=True).start()

    def _should_drop(self) -> bool:
        with self._lock:
            self.chunks += 1
            if self.drops < self.max_drops and self.chunks % self.drop_every == 0:
                self.drops += 1
                return True
            return False

    def _count_produce_requests(self, buffer: bytearray, data: bytes) -> None:
        """Count the Produce requests among the whole frames in C{buffer + data}."""
        buffer += data
        while len(buffer) >= 6:
            size, api_key = struct.unpack_from(">ih", buffer, 0)
            if len(buffer) < 4 + size:
                return
            if api_key == 0:
                with self._lock:
                    self.produce_requests += 1
            del buffer[:4 + size]

    def _pump(self, source: socket.socket, sink: socket.socket,
              pair: tuple[socket.socket, socket.socket], dropping: bool) -> None:
        requests = bytearray()
        try:
            while True:
                data = source.recv(65536)
                if not data or (dropping and self._should_drop()):
                    break
                sink.sendall(data)
                if not dropping:
                    self._count_produce_requests(requests, data)
        except OSError:
            pass
        for s in pair:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()


class RetryStormTests(SynchronousTestCase):
    """An idempotent producer whose connections keep dying stores every record once."""

    def test_retry_storm(self) -> None:
        """Responses lost with their connection: retries are deduplicated.

        The broker advertises the proxy's port, so every connection of the
        client (bootstrap and partition leader) goes through the proxy.
        Many small batches are in flight when connections die; librdkafka
        resends them with their original sequence numbers, and the broker
        must answer those it already stored with their original offsets
        without storing them again.
        """
        proxy = DroppingProxy(drop_every=9, max_drops=30)
        self.addCleanup(proxy.close)
        broker = BrokerProcess(self.mktemp(), kafka={"advertised_port": proxy.port})
        self.addCleanup(broker.close)
        proxy.target_port = broker.port
        broker.start()
        topic = "retry-storm"
        records = make_records(COUNT, topic)
        acked = clients.produce_confluent(
            f"127.0.0.1:{proxy.port}", topic, records, timeout=120,
            config={"enable.idempotence": True, "linger.ms": 1, "batch.num.messages": 20,
                    "max.in.flight.requests.per.connection": 5,
                    "message.timeout.ms": 100_000, "retry.backoff.ms": 10,
                    "reconnect.backoff.ms": 10, "reconnect.backoff.max.ms": 100})
        proxy.calm()
        self.assertGreaterEqual(proxy.drops, 10, "the storm did not happen")
        self.assertEqual([a.offset for a in acked], list(range(COUNT)))
        assert_same_records(self, acked, read_partition("confluent", broker.bootstrap, topic))
        # One batch per request: more requests than stored batches means some
        # batches were sent again, and the broker stored them once.
        batches = stored_batch_headers(broker.bootstrap, topic)
        self.assertGreater(proxy.produce_requests, len(batches))


class KafkaPythonProduceTests(ProduceCase):
    """kafka-python 3 with its defaults: idempotent, acks=all."""

    def test_defaults(self) -> None:
        """Every acknowledged record stored once, in batches with a producer id."""
        topic = self.topic_name()
        records = make_records(COUNT, topic, null_header_values=False)
        acked = clients.produce_kafka_python(self.broker.bootstrap, topic, records)
        self.assertEqual([a.offset for a in acked], list(range(COUNT)))
        self.assert_stored(acked, topic, codec="none", idempotent=True)

    def test_gzip_acks_1(self) -> None:
        """acks=1 without idempotence and gzip: stored compressed, once each."""
        topic = self.topic_name()
        records = make_records(COUNT, topic, null_header_values=False)
        acked = clients.produce_kafka_python(self.broker.bootstrap, topic, records, acks=1,
                                             enable_idempotence=False,
                                             compression_type="gzip")
        self.assertEqual([a.offset for a in acked], list(range(COUNT)))
        self.assert_stored(acked, topic, codec="gzip", idempotent=False)


@codec_tests("codec", "Batches compressed with {codec}, stored as sent.")
class AiokafkaProduceTests(ProduceCase):
    """aiokafka with every codec."""

    def check_codec(self, codec: str, **config: Any) -> None:
        """Produce with C{codec}; check what was stored."""
        topic = self.topic_name()
        records = make_records(COUNT, topic)
        acked = clients.produce_aiokafka(
            self.broker.bootstrap, topic, records, linger_ms=5,
            compression_type=None if codec == "none" else codec, **config)
        self.assertEqual([a.offset for a in acked], list(range(COUNT)))
        self.assert_stored(acked, topic, codec=codec)

    def test_zstd_idempotent(self) -> None:
        """zstd batches from an idempotent producer, stored with its producer id."""
        self.check_codec("zstd", enable_idempotence=True)


class KcatProduceTests(ProduceCase):
    """C{kcat -P} from stdin: keys, null values (C{-Z}), headers (C{-H})."""

    def setUp(self) -> None:
        """Skip without kcat."""
        if KCAT is None:
            raise self.skipTest(KCAT_MISSING)

    def _test_kcat(self, *args: str, codec: str = "none") -> None:
        topic = self.topic_name()
        records = make_records(COUNT, topic, kcat_safe=True)
        acked = clients.produce_kcat(self.broker.bootstrap, topic, records, args=args)
        log = read_partition("confluent", self.broker.bootstrap, topic)
        assert_same_records(self, acked, log)
        self.assertEqual([r.offset for r in log], list(range(COUNT)))
        headers = stored_batch_headers(self.broker.bootstrap, topic)
        self.assertEqual({h.attributes & 7 for h in headers}, {CODEC_NUMBERS[codec]})

    def test_plain(self) -> None:
        """Uncompressed, default acks: every line stored once, in order."""
        self._test_kcat()

    def test_snappy_acks_all(self) -> None:
        """C{-z snappy -X acks=all}: stored compressed, every line once."""
        self._test_kcat("-z", "snappy", "-X", "acks=all", codec="snappy")


class DurabilityTests(BrokerTestMixin, SynchronousTestCase):
    """acks=all acknowledgements survive SIGKILL."""

    def test_kill_after_acks_all(self) -> None:
        """Killed with SIGKILL right after the last ack, the broker restarts with all.

        fsync is on (the default): acks=all is answered only once the data
        is on disk, so a kill loses nothing acknowledged.
        """
        topic = "durable"
        records = make_records(COUNT, topic)
        acked = clients.produce_confluent(self.broker.bootstrap, topic, records,
                                          config={"acks": "all", "linger.ms": 2,
                                                  "batch.num.messages": 100})
        self.broker.kill()
        self.broker.start()
        self.assertEqual([a.offset for a in acked], list(range(COUNT)))
        assert_same_records(self, acked, read_partition("confluent", self.broker.bootstrap,
                                                        topic))
        more = make_records(10, "after-restart")
        again = clients.produce_confluent(self.broker.bootstrap, topic, more)
        self.assertEqual([a.offset for a in again], list(range(COUNT, COUNT + 10)))

    def test_retry_after_kill(self) -> None:
        """A batch retried after a SIGKILL and restart is answered, not stored again.

        The producer state is rebuilt from the log: the retry gets the
        original offset, the next sequence is appended, a gap is refused.
        A new producer id after the restart is one never handed out before.
        """
        topic = "retried"
        with RawClient(self.broker.bootstrap) as client:
            pid = self.producer_id(client)
            batches = [self.idempotent_batch(pid, sequence, 5) for sequence in (0, 5, 10)]
            offsets = [self.produce(client, topic, b)["base_offset"] for b in batches]
        self.assertEqual(offsets, [0, 5, 10])
        self.broker.kill()
        self.broker.start()
        with RawClient(self.broker.bootstrap) as client:
            for batch, offset in zip(batches, offsets):
                self.assertEqual(self.produce(client, topic, batch)["base_offset"], offset)
            self.assertEqual(list_offset(client, topic, 0, -1)["offset"], 15)
            self.assertEqual(self.produce(client, topic, self.idempotent_batch(pid, 15, 2))
                             ["base_offset"], 15)
            gap = self.produce(client, topic, self.idempotent_batch(pid, 30, 1))
            self.assertEqual(gap["error_code"], ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER)
            self.assertEqual(list_offset(client, topic, 0, -1)["offset"], 17)
            self.assertNotEqual(self.producer_id(client), pid)

    def producer_id(self, client: RawClient) -> int:
        """Return a new producer id from InitProducerId."""
        response = client.request(INIT_PRODUCER_ID, 4, {"transactional_id": None,
                                                         "transaction_timeout_ms": 60000})
        self.assertEqual((response["error_code"], response["producer_epoch"]), (0, 0))
        return int(response["producer_id"])

    def idempotent_batch(self, pid: int, sequence: int, count: int) -> bytes:
        """Return a batch of C{count} records from producer C{pid} at C{sequence}."""
        now = int(time.time() * 1000)
        return build_batch([(b"k%d" % (sequence + i), b"v", [], now) for i in range(count)],
                           producer_id=pid, producer_epoch=0, base_sequence=sequence)

    def produce(self, client: RawClient, topic: str, batch: bytes) -> dict:
        """Produce C{batch} with acks=all; return the partition's response."""
        response = client.request(PRODUCE, 9, produce_request({(topic, 0): batch}))
        return produce_results(response)[(topic, 0)]


class ManyPartitionsTests(ProduceCase):
    """Records spread over partitions by key: each partition keeps its own order."""

    broker_options = {"kafka": {"num_partitions": 3}}

    def test_keyed_partitions(self) -> None:
        """confluent-kafka's partitioner over three partitions; each read back in order."""
        topic = self.topic_name()
        records = make_records(COUNT, topic)
        acked = clients.produce_confluent(self.broker.bootstrap, topic, records, partition=-1,
                                          config={"linger.ms": 5, "compression.type": "lz4"})
        assert_acked_in_order(self, acked)
        by_partition: dict[int, list[Stored]] = {}
        for record in acked:
            by_partition.setdefault(record.partition, []).append(record)
        self.assertEqual(sorted(by_partition), [0, 1, 2])
        for partition, expected in by_partition.items():
            log = read_partition("confluent", self.broker.bootstrap, topic, partition)
            assert_same_records(self, expected, log, what=f"partition {partition}")


class LogAppendTimeTests(ProduceCase):
    """Topics with LogAppendTime: the broker stamps every batch, consumers see its time."""

    broker_options = {"store": {"message_timestamp_type": "LogAppendTime"}}

    def check_codec(self, codec: str) -> None:
        """Produce with C{codec}: stamped between send and ack, the rest byte for byte."""
        from confluent_kafka import TIMESTAMP_LOG_APPEND_TIME, Consumer, TopicPartition

        topic = self.topic_name()
        before = int(time.time() * 1000)
        acked = clients.produce_confluent(self.broker.bootstrap, topic,
                                          make_records(COUNT, topic),
                                          config={"compression.type": codec, "linger.ms": 5})
        after = int(time.time() * 1000)
        log = read_partition("confluent", self.broker.bootstrap, topic)
        for record in log:
            self.assertTrue(record.timestamp is not None and before <= record.timestamp <= after,
                            f"{record.timestamp} not in [{before}, {after}]")
        assert_same_records(self, [a._replace(timestamp=None) for a in acked], log)
        headers = stored_batch_headers(self.broker.bootstrap, topic)
        self.assertEqual({h.attributes & 8 for h in headers}, {8})
        consumer = Consumer({"bootstrap.servers": self.broker.bootstrap, "group.id": "lat",
                             **clients.QUIET})
        self.addCleanup(consumer.close)
        consumer.assign([TopicPartition(topic, 0, 0)])
        first = consumer.consume(1, timeout=10)
        self.assertEqual(first[0].timestamp()[0], TIMESTAMP_LOG_APPEND_TIME)

    def test_uncompressed(self) -> None:
        """Uncompressed batches get the broker's time."""
        self.check_codec("none")

    def test_zstd(self) -> None:
        """Compressed batches get the broker's time (the CRC is recomputed, not the records)."""
        self.check_codec("zstd")


class TopicCompressionTests(ProduceCase):
    """A topic with compression.type gzip: the broker recompresses what producers send."""

    def test_gzip_topic_from_lz4_and_uncompressed(self) -> None:
        """lz4 (confluent-kafka) and uncompressed (kafka-python) batches are stored as gzip, records intact.

        Both producers are idempotent: the rewritten batches keep their producer ids.
        """
        from confluent_kafka.admin import AdminClient, NewTopic

        topic = self.topic_name()
        admin = AdminClient({"bootstrap.servers": self.broker.bootstrap, **clients.QUIET})
        admin.create_topics([NewTopic(topic, 1, 1, config={"compression.type": "gzip"})])[topic].result(10)
        acked = clients.produce_confluent(
            self.broker.bootstrap, topic, make_records(COUNT, f"{topic}-lz4", null_header_values=False),
            config={"compression.type": "lz4", "linger.ms": 5, "enable.idempotence": True})
        acked += clients.produce_kafka_python(
            self.broker.bootstrap, topic, make_records(COUNT, f"{topic}-none", null_header_values=False))
        self.assertEqual([a.offset for a in acked], list(range(2 * COUNT)))
        for consumer in ("confluent", "kafka-python"):
            assert_same_records(self, acked, read_partition(consumer, self.broker.bootstrap, topic),
                                what=consumer)
        headers = stored_batch_headers(self.broker.bootstrap, topic)
        self.assertEqual({h.attributes & 7 for h in headers}, {CODEC_NUMBERS["gzip"]})
        self.assertEqual(sum(h.record_count for h in headers), 2 * COUNT)
        self.assertEqual({h.producer_id >= 0 for h in headers}, {True})


class TimestampBoundsTests(ProduceCase):
    """CreateTime records too far from the broker's clock are refused, as Kafka 4 refuses them."""

    def test_future_record_refused_by_default(self) -> None:
        """More than an hour ahead (Kafka 4's default after.max.ms) fails the batch; nothing is stored."""
        from confluent_kafka import KafkaError, Producer

        topic = self.topic_name()
        now = int(time.time() * 1000)
        producer = Producer({"bootstrap.servers": self.broker.bootstrap, "linger.ms": 50,
                             "message.send.max.retries": 0, **clients.QUIET})
        errors: list[Any] = []
        for timestamp in (now, now + 2 * 3600 * 1000):
            producer.produce(topic, key=b"k", value=b"v", partition=0, timestamp=timestamp,
                             on_delivery=lambda error, message: errors.append(error))
        self.assertEqual(producer.flush(30), 0)
        self.assertEqual([e.code() if e else None for e in errors], [KafkaError.INVALID_TIMESTAMP] * 2)
        clients.produce_confluent(self.broker.bootstrap, topic,
                                  [clients.Outgoing(b"k", b"v", (), now)])
        self.assertEqual(len(read_partition("confluent", self.broker.bootstrap, topic)), 1)

    def test_old_record_refused_by_topic_config(self) -> None:
        """With message.timestamp.before.max.ms one minute, kafka-python's hour-old record is refused."""
        from confluent_kafka.admin import AdminClient, NewTopic
        from kafka.errors import InvalidTimestampError

        topic = self.topic_name()
        admin = AdminClient({"bootstrap.servers": self.broker.bootstrap, **clients.QUIET})
        admin.create_topics([NewTopic(topic, 1, 1, config={
            "message.timestamp.before.max.ms": "60000"})])[topic].result(10)
        hour_ago = int(time.time() * 1000) - 3600 * 1000
        with self.assertRaises(clients.ProduceFailed) as raised:
            clients.produce_kafka_python(self.broker.bootstrap, topic,
                                         [clients.Outgoing(b"k", b"v", (), hour_ago)], retries=0)
        self.assertIsInstance(raised.exception.__cause__, InvalidTimestampError)
        acked = clients.produce_kafka_python(self.broker.bootstrap, topic,
                                             [clients.Outgoing(b"k", b"v", (), None)])
        self.assertEqual([a.offset for a in acked], [0])
