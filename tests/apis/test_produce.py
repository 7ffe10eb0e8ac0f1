# -*- test-case-name: tests.apis.test_produce -*-
"""Tests for L{twisted_kafka.apis.produce} and L{twisted_kafka.apis.init_producer_id}."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.errors import ErrorCode
from twisted_kafka.records.batch import parse_header
from twisted_kafka.records.record import build_batch, iter_records
from twisted_kafka.server.reply import AfterSync, CloseAfter
from tests.apis.support import call, limit_open_files, make_broker, roundtrip

PRODUCE = 0
INIT_PRODUCER_ID = 22


def batch(n: int = 3, **kwargs: object) -> bytes:
    """Return a batch of C{n} small records."""
    return build_batch([(b"k%d" % i, b"v%d" % i, [("h", b"x")], 1_700_000_000_000 + i)
                        for i in range(n)], **kwargs)


def produce_request(records_by_partition: dict, topic: str = "t", acks: int = 1,
                    transactional_id: str | None = None) -> dict:
    """Return a Produce request body for one topic."""
    return {
        "transactional_id": transactional_id,
        "acks": acks,
        "timeout_ms": 1000,
        "topic_data": [{
            "name": topic,
            "partition_data": [{"index": i, "records": r} for i, r in records_by_partition.items()],
        }],
    }


def partitions_of(response: dict) -> dict[int, dict]:
    """Return the first topic's partition responses by index."""
    return {p["index"]: p for p in response["responses"][0]["partition_responses"]}


class ProduceTests(SynchronousTestCase):
    """Produce appends valid batches and refuses bad ones partition by partition."""

    def setUp(self) -> None:
        """Start a broker with a two-partition topic, its clock at the test batches' time (2023-11-14)."""
        self.broker = make_broker(self)
        self.broker.reactor.advance(1_700_000_000)  # type: ignore[attr-defined]
        self.topic = self.broker.store.vhost("/").create_topic("t", 2)

    def produce(self, version: int, request: dict) -> dict:
        """Send a Produce request and return the decoded response."""
        return roundtrip(PRODUCE, version, call(self.broker, PRODUCE, version, request))

    def test_offsets_assigned(self) -> None:
        """Consecutive batches get consecutive base offsets in each partition."""
        for version in (3, 7, 9, 11, 12):
            got = partitions_of(self.produce(version, produce_request({0: batch(3), 1: batch(2)})))
            self.assertEqual(got[0]["error_code"], ErrorCode.NONE)
            self.assertEqual(got[1]["error_code"], ErrorCode.NONE)
        self.assertEqual(self.topic.partitions[0].high_watermark, 15)
        self.assertEqual(self.topic.partitions[1].high_watermark, 10)
        got = partitions_of(self.produce(9, produce_request({0: batch(1)})))
        self.assertEqual(got[0]["base_offset"], 15)
        self.assertEqual(got[0]["log_append_time_ms"], -1)
        self.assertEqual(got[0]["log_start_offset"], 0)

    def test_stored_verbatim(self) -> None:
        """The stored batch is the produced one but for base offset and leader epoch."""
        sent = batch(4, codec=3, partition_leader_epoch=5)
        self.produce(9, produce_request({0: batch(2)}))
        self.produce(9, produce_request({0: sent}))
        stored = self.topic.partitions[0].read(2, 1 << 20)
        self.assertEqual(stored[16:], sent[16:])
        header = parse_header(stored)
        self.assertEqual((header.base_offset, header.partition_leader_epoch), (2, 0))

    def test_bad_crc_isolated(self) -> None:
        """A corrupt batch fails its partition only, with CORRUPT_MESSAGE and a message."""
        bad = bytearray(batch(3))
        bad[-1] ^= 0xFF
        got = partitions_of(self.produce(9, produce_request({0: bytes(bad), 1: batch(3)})))
        self.assertEqual(got[0]["error_code"], ErrorCode.CORRUPT_MESSAGE)
        self.assertTrue(got[0]["error_message"])
        self.assertEqual(got[1]["error_code"], ErrorCode.NONE)
        self.assertEqual(self.topic.partitions[0].high_watermark, 0)
        self.assertEqual(self.topic.partitions[1].high_watermark, 3)

    def test_unknown_partition(self) -> None:
        """A partition the topic does not have is UNKNOWN_TOPIC_OR_PARTITION."""
        got = partitions_of(self.produce(9, produce_request({5: batch()})))
        self.assertEqual(got[5]["error_code"], ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)

    def test_auto_create(self) -> None:
        """Producing to an unknown topic creates it when the config allows."""
        got = partitions_of(self.produce(9, produce_request({0: batch()}, topic="fresh")))
        self.assertEqual(got[0]["error_code"], ErrorCode.NONE)
        self.assertEqual(self.broker.store.vhost("/").topic("fresh").partitions[0].high_watermark, 3)

    def test_auto_create_beyond_open_file_budget(self) -> None:
        """Producing to a topic whose auto-creation would not fit the open-file limit is POLICY_VIOLATION."""
        limit_open_files(self.broker, 0)
        got = partitions_of(self.produce(9, produce_request({0: batch()}, topic="fresh")))
        self.assertEqual(got[0]["error_code"], ErrorCode.POLICY_VIOLATION)
        self.assertIsNone(self.broker.store.vhost("/").topic("fresh"))

    def test_no_auto_create(self) -> None:
        """With auto-create off an unknown topic is UNKNOWN_TOPIC_OR_PARTITION."""
        self.broker = make_broker(self, kafka={"auto_create_topics": False})
        got = partitions_of(self.produce(9, produce_request({0: batch()}, topic="fresh")))
        self.assertEqual(got[0]["error_code"], ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)

    def test_invalid_topic_name(self) -> None:
        """An invalid topic name is INVALID_TOPIC_EXCEPTION."""
        got = partitions_of(self.produce(9, produce_request({0: batch()}, topic="no/slashes")))
        self.assertEqual(got[0]["error_code"], ErrorCode.INVALID_TOPIC_EXCEPTION)

    def test_internal_topic_refused(self) -> None:
        """Clients cannot append to internal stream queues such as the offsets log."""
        self.broker.store.vhost("/").create_topic("__consumer_offsets", 1)
        got = partitions_of(self.produce(9, produce_request({0: batch()},
                                                            topic="__consumer_offsets")))
        self.assertEqual(got[0]["error_code"], ErrorCode.INVALID_TOPIC_EXCEPTION)
        self.assertEqual(
            self.broker.store.vhost("/").topic("__consumer_offsets").partitions[0].high_watermark, 0)

    def test_keyless_refused_on_compacted_topic(self) -> None:
        """A compacted topic refuses a batch with keyless records, naming each (v8+), compressed or not."""
        self.broker.store.vhost("/").create_topic("c", 1, {"cleanup.policy": "compact"})
        records = [(b"k0", b"v", [], 1000), (None, b"v", [], 1001), (b"k2", None, [], 1002),
                   (None, None, [], 1003)]
        for codec in (0, 1, 4):
            got = partitions_of(self.produce(9, produce_request({0: build_batch(records, codec=codec)},
                                                                  topic="c")))[0]
            self.assertEqual(got["error_code"], ErrorCode.INVALID_RECORD, codec)
            self.assertEqual([e["batch_index"] for e in got["record_errors"]], [1, 3])
            self.assertIn("without key in topic partition c-0",
                          got["record_errors"][0]["batch_index_error_message"])
            self.assertIn("without key", got["error_message"])
        got = partitions_of(self.produce(7, produce_request({0: build_batch(records)}, topic="c")))[0]
        self.assertEqual(got["error_code"], ErrorCode.INVALID_RECORD)
        keyed = [(b"k%d" % i, None if i % 2 else b"v", [], 1000 + i) for i in range(4)]
        got = partitions_of(self.produce(9, produce_request({0: build_batch(keyed)}, topic="c")))[0]
        self.assertEqual((got["error_code"], got["base_offset"]), (ErrorCode.NONE, 0))
        # the same keyless batch is fine on a delete-policy topic
        got = partitions_of(self.produce(9, produce_request({0: build_batch(records)})))[0]
        self.assertEqual(got["error_code"], ErrorCode.NONE)

    def test_message_too_large(self) -> None:
        """A batch over the topic's max.message.bytes is MESSAGE_TOO_LARGE."""
        self.topic.set_configs({"max.message.bytes": "100"})
        got = partitions_of(self.produce(9, produce_request({0: batch(10)})))
        self.assertEqual(got[0]["error_code"], ErrorCode.MESSAGE_TOO_LARGE)
        self.assertIn("max.message.bytes", got[0]["error_message"])

    def test_recompressed_to_topic_codec(self) -> None:
        """A topic with compression.type gzip stores lz4 and uncompressed batches as gzip, records unchanged."""
        self.topic.set_configs({"compression.type": "gzip"})
        for codec in (3, 0, 1):
            sent = batch(3, codec=codec)
            got = partitions_of(self.produce(9, produce_request({0: sent})))[0]
            self.assertEqual(got["error_code"], ErrorCode.NONE)
            stored = self.topic.partitions[0].read(got["base_offset"], 1)
            header = parse_header(stored)
            self.assertEqual(header.codec, 1)
            self.assertEqual([r[1:] for r in iter_records(stored, header, 1 << 20)],
                             [r[1:] for r in iter_records(sent, parse_header(sent), 1 << 20)])
        self.topic.set_configs({"compression.type": "uncompressed", "max.message.bytes": "1000"})
        big = build_batch([(b"k", b"v" * 5000, [], 1_700_000_000_000)], codec=1)
        got = partitions_of(self.produce(9, produce_request({0: big})))[0]
        self.assertEqual(got["error_code"], ErrorCode.MESSAGE_TOO_LARGE)
        self.assertIn("max.message.bytes 1000", got["error_message"])

    def test_timestamp_bounds(self) -> None:
        """A CreateTime record outside message.timestamp.before/after.max.ms of the broker's clock
        fails its batch with INVALID_TIMESTAMP, each named in record_errors (v8+); nothing is stored."""
        now = 1_700_000_000_000
        self.topic.set_configs({"message.timestamp.before.max.ms": "60000"})
        sent = build_batch([(b"a", b"v", [], now), (b"b", b"v", [], now + 3_600_001),
                            (b"c", b"v", [], now - 60_001)], codec=1)
        got = partitions_of(self.produce(9, produce_request({0: sent, 1: batch(2)})))
        self.assertEqual((got[0]["error_code"], got[0]["error_message"]),
                         (ErrorCode.INVALID_TIMESTAMP,
                          "One or more records have been rejected due to invalid timestamp"))
        window = f"The timestamp should be within [{now - 60_000}, {now + 3_600_000}]"
        self.assertEqual(got[0]["record_errors"], [
            {"batch_index": 1, "batch_index_error_message":
                f"Timestamp {now + 3_600_001} of message with offset 1 is out of range. {window}"},
            {"batch_index": 2, "batch_index_error_message":
                f"Timestamp {now - 60_001} of message with offset 2 is out of range. {window}"},
        ])
        self.assertEqual(got[1]["error_code"], ErrorCode.NONE)
        self.assertEqual(self.topic.partitions[0].high_watermark, 0)
        got = partitions_of(self.produce(7, produce_request({0: sent})))
        self.assertEqual(got[0]["error_code"], ErrorCode.INVALID_TIMESTAMP)
        # LogAppendTime: the broker's clock replaces the timestamps, none is refused
        self.topic.set_configs({"message.timestamp.type": "LogAppendTime"})
        got = partitions_of(self.produce(9, produce_request({0: sent})))
        self.assertEqual(got[0]["error_code"], ErrorCode.NONE)

    def test_zstd_needs_v7(self) -> None:
        """zstd in a request older than v7 is UNSUPPORTED_COMPRESSION_TYPE."""
        got = partitions_of(self.produce(6, produce_request({0: batch(codec=4)})))
        self.assertEqual(got[0]["error_code"], ErrorCode.UNSUPPORTED_COMPRESSION_TYPE)
        got = partitions_of(self.produce(7, produce_request({0: batch(codec=4)})))
        self.assertEqual(got[0]["error_code"], ErrorCode.NONE)

    def test_legacy_versions_refused(self) -> None:
        """Produce v0-2 are advertised but answered with UNSUPPORTED_VERSION."""
        for version in (0, 1, 2):
            got = partitions_of(self.produce(version, produce_request({0: batch()})))
            self.assertEqual(got[0]["error_code"], ErrorCode.UNSUPPORTED_VERSION)
        self.assertEqual(self.topic.partitions[0].high_watermark, 0)

    def test_min_insync_replicas(self) -> None:
        """With min.insync.replicas above 1, acks=all is NOT_ENOUGH_REPLICAS (one node is the whole ISR); acks=1 is stored."""
        self.broker.store.vhost("/").create_topic("isr", 1, {"min.insync.replicas": "2"})
        got = partitions_of(self.produce(9, produce_request({0: batch()}, topic="isr", acks=-1)))[0]
        self.assertEqual(got["error_code"], ErrorCode.NOT_ENOUGH_REPLICAS)
        self.assertIn("min.isr requirement of 2 for partition isr-0", got["error_message"])
        got = partitions_of(self.produce(9, produce_request({0: batch()}, topic="isr", acks=1)))[0]
        self.assertEqual((got["error_code"], got["base_offset"]), (ErrorCode.NONE, 0))
        got = partitions_of(self.produce(9, produce_request({0: batch()}, acks=-1)))[0]
        self.assertEqual(got["error_code"], ErrorCode.NONE)

    def test_invalid_acks(self) -> None:
        """acks other than 0, 1, -1 is INVALID_REQUIRED_ACKS."""
        got = partitions_of(self.produce(9, produce_request({0: batch()}, acks=2)))
        self.assertEqual(got[0]["error_code"], ErrorCode.INVALID_REQUIRED_ACKS)

    def test_transactional_refused(self) -> None:
        """A transactional produce gets a clear error until transactions exist."""
        got = partitions_of(self.produce(9, produce_request({0: batch()}, transactional_id="tx")))
        self.assertEqual(got[0]["error_code"], ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
        self.assertIn("transactions", got[0]["error_message"])

    def test_acks_zero(self) -> None:
        """acks=0 gets no response; an error closes the connection instead."""
        self.assertIsNone(call(self.broker, PRODUCE, 9, produce_request({0: batch()}, acks=0)))
        reply = call(self.broker, PRODUCE, 9, produce_request({0: b"garbage"}, acks=0))
        self.assertIsInstance(reply, CloseAfter)

    def test_acks_all_waits_for_sync(self) -> None:
        """With fsync on, acks=-1 is answered after the store's sync."""
        broker = make_broker(self, store={"fsync": True})
        reply = call(broker, PRODUCE, 9, produce_request({0: batch()}, acks=-1))
        self.assertIsInstance(reply, AfterSync)
        reply = call(broker, PRODUCE, 9, produce_request({0: batch()}, acks=1))
        self.assertIsInstance(reply, dict)

    def test_log_append_time(self) -> None:
        """A LogAppendTime topic rewrites the timestamp (the store clock's) and reports it."""
        self.topic.set_configs({"message.timestamp.type": "LogAppendTime"})
        self.broker.reactor.advance(123.456)  # type: ignore[attr-defined]
        got = partitions_of(self.produce(9, produce_request({0: batch(2)})))
        append_time = got[0]["log_append_time_ms"]
        self.assertEqual(append_time, int(self.broker.reactor.seconds() * 1000))  # type: ignore[attr-defined]
        self.assertEqual(append_time, 1_700_000_123_456)
        stored = self.topic.partitions[0].read(0, 1 << 20)
        header = parse_header(stored)
        self.assertEqual(header.max_timestamp, append_time)
        self.assertEqual([r.timestamp for r in iter_records(stored, header, 1 << 20)],
                         [append_time, append_time])

    def test_idempotent_retry(self) -> None:
        """A retried idempotent batch gets its original offset and is stored once."""
        pid = roundtrip(INIT_PRODUCER_ID, 4, call(self.broker, INIT_PRODUCER_ID, 4,
                                                  {"transactional_id": None,
                                                   "transaction_timeout_ms": 1000}))
        self.assertEqual(pid["error_code"], ErrorCode.NONE)
        first = batch(3, producer_id=pid["producer_id"], producer_epoch=0, base_sequence=0)
        second = batch(2, producer_id=pid["producer_id"], producer_epoch=0, base_sequence=3)
        self.produce(9, produce_request({0: first}))
        self.produce(9, produce_request({0: second}))
        again = partitions_of(self.produce(9, produce_request({0: first})))
        self.assertEqual((again[0]["error_code"], again[0]["base_offset"]), (ErrorCode.NONE, 0))
        self.assertEqual(self.topic.partitions[0].high_watermark, 5)
        gap = batch(1, producer_id=pid["producer_id"], producer_epoch=0, base_sequence=9)
        got = partitions_of(self.produce(9, produce_request({0: gap})))
        self.assertEqual(got[0]["error_code"], ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER)

    def test_producer_ids_unique(self) -> None:
        """InitProducerId hands out a new id each time; transactional ids are refused."""
        ids = {call(self.broker, INIT_PRODUCER_ID, 0, {"transactional_id": None,
                                                      "transaction_timeout_ms": 1})["producer_id"]
               for _ in range(5)}
        self.assertEqual(len(ids), 5)
        refused = call(self.broker, INIT_PRODUCER_ID, 4,
                       {"transactional_id": "tx", "transaction_timeout_ms": 1})
        self.assertEqual(refused["error_code"], ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
