# -*- test-case-name: tests.apis.test_fetch -*-
"""Tests for L{twisted_kafka.apis.fetch}: positions, limits and long-poll."""

from __future__ import annotations

import struct

from twisted.internet.testing import StringTransport
from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.errors import ErrorCode
from twisted_kafka.records.batch import split_batches
from twisted_kafka.records.record import build_batch
from twisted_kafka.server.factory import KafkaServerFactory
from twisted_kafka.server.reply import LongPoll
from tests.apis.support import call, make_broker, roundtrip
from tests.server.test_connection import read_responses, request_frame

FETCH = 1
PRODUCE = 0


def fetch_request(offsets: dict[int, int], topic: str = "t", max_wait_ms: int = 0,
                  min_bytes: int = 1, max_bytes: int = 1 << 20,
                  partition_max_bytes: int = 1 << 20) -> dict:
    """Return a sessionless Fetch request for one topic."""
    return {
        "replica_id": -1, "max_wait_ms": max_wait_ms, "min_bytes": min_bytes,
        "max_bytes": max_bytes, "isolation_level": 0, "session_id": 0, "session_epoch": -1,
        "topics": [{"topic": topic, "partitions": [
            {"partition": p, "fetch_offset": o, "partition_max_bytes": partition_max_bytes,
             "current_leader_epoch": 0, "log_start_offset": -1}
            for p, o in offsets.items()]}],
        "forgotten_topics_data": [], "rack_id": "",
    }


def partitions_of(response: dict) -> dict[int, dict]:
    """Return the first topic's partitions by index."""
    return {p["partition_index"]: p for p in response["responses"][0]["partitions"]}


def base_offsets(records: bytes) -> list[int]:
    """Return the base offsets of the batches in C{records}."""
    return [h.base_offset for _, _, h in split_batches(records)]


class FetchTests(SynchronousTestCase):
    """Fetch returns whole batches from the one containing the offset."""

    def setUp(self) -> None:
        """Store batches of 5 records at offsets 0, 5, 10, 15 in partition 0."""
        self.broker = make_broker(self, store={"segment_bytes": 400})
        self.topic = self.broker.store.vhost("/").create_topic("t", 2)
        self.partition = self.topic.partitions[0]
        for n in range(4):
            self.partition.append(build_batch([(None, b"v%d" % i, [], 1000 * n + i)
                                               for i in range(5)]))

    def fetch(self, version: int, request: dict) -> dict:
        """Send a Fetch and return the decoded (immediate) response."""
        reply = call(self.broker, FETCH, version, request)
        self.assertIsInstance(reply, dict)
        return roundtrip(FETCH, version, reply)

    def test_every_position(self) -> None:
        """Fetching at any offset starts with the batch that contains it."""
        for offset in range(20):
            got = partitions_of(self.fetch(12, fetch_request({0: offset})))[0]
            self.assertEqual(got["error_code"], ErrorCode.NONE)
            self.assertEqual(base_offsets(got["records"])[0], offset - offset % 5, offset)
            self.assertEqual(got["high_watermark"], 20)
            self.assertEqual(got["last_stable_offset"], 20)
            self.assertEqual(got["log_start_offset"], 0)

    def test_across_segments(self) -> None:
        """With tiny segments, reading on from each batch end reaches every batch."""
        self.assertGreater(len(self.partition._segments), 1)
        offset, seen = 0, []
        while offset < 20:
            records = partitions_of(self.fetch(12, fetch_request({0: offset})))[0]["records"]
            batches = split_batches(records)
            seen.extend(h.base_offset for _, _, h in batches)
            offset = batches[-1][2].base_offset + batches[-1][2].last_offset_delta + 1
        self.assertEqual(seen, [0, 5, 10, 15])

    def test_at_high_watermark(self) -> None:
        """At the high watermark the records are empty, without error."""
        got = partitions_of(self.fetch(12, fetch_request({0: 20})))[0]
        self.assertEqual((got["error_code"], got["records"]), (ErrorCode.NONE, b""))

    def test_past_high_watermark(self) -> None:
        """Past the high watermark is OFFSET_OUT_OF_RANGE."""
        got = partitions_of(self.fetch(12, fetch_request({0: 21})))[0]
        self.assertEqual(got["error_code"], ErrorCode.OFFSET_OUT_OF_RANGE)

    def test_below_log_start(self) -> None:
        """Below the log start offset is OFFSET_OUT_OF_RANGE."""
        self.partition.delete_records(10)
        got = partitions_of(self.fetch(12, fetch_request({0: 3})))[0]
        self.assertEqual(got["error_code"], ErrorCode.OFFSET_OUT_OF_RANGE)
        got = partitions_of(self.fetch(12, fetch_request({0: 10})))[0]
        self.assertEqual(got["log_start_offset"], 10)
        self.assertEqual(base_offsets(got["records"])[0], 10)

    def test_first_batch_exceeds_limits(self) -> None:
        """The first batch is returned whole even when larger than the limits."""
        got = partitions_of(self.fetch(12, fetch_request({0: 0}, max_bytes=10,
                                                         partition_max_bytes=10)))[0]
        self.assertEqual(base_offsets(got["records"]), [0])

    def test_max_bytes_across_partitions(self) -> None:
        """Only the first partition with data may go over max_bytes."""
        self.topic.partitions[1].append(build_batch([(None, b"x", [], 1)]))
        got = partitions_of(self.fetch(12, fetch_request({0: 0, 1: 0}, max_bytes=10)))
        self.assertEqual(base_offsets(got[0]["records"]), [0])
        self.assertEqual(got[1]["records"], b"")
        self.assertEqual(got[1]["high_watermark"], 1)

    def test_partition_max_bytes(self) -> None:
        """Batches are added while they fit partition_max_bytes."""
        one = len(partitions_of(self.fetch(12, fetch_request({0: 0}, partition_max_bytes=1)))[0]
                  ["records"])
        got = partitions_of(self.fetch(12, fetch_request({0: 0}, partition_max_bytes=2 * one)))[0]
        self.assertEqual(base_offsets(got["records"]), [0, 5])

    def test_unknown_topic_and_partition(self) -> None:
        """Unknown topics and partitions get their error codes."""
        got = partitions_of(self.fetch(12, fetch_request({0: 0}, topic="nope")))
        self.assertEqual(got[0]["error_code"], ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
        got = partitions_of(self.fetch(12, fetch_request({7: 0})))
        self.assertEqual(got[7]["error_code"], ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)

    def test_topic_ids(self) -> None:
        """v13+ address topics by id; an unknown id is UNKNOWN_TOPIC_ID."""
        request = fetch_request({0: 0})
        request["topics"][0]["topic_id"] = self.topic.topic_id
        got = self.fetch(13, request)
        self.assertEqual(got["responses"][0]["topic_id"], self.topic.topic_id)
        self.assertEqual(partitions_of(got)[0]["error_code"], ErrorCode.NONE)
        request["topics"][0]["topic_id"] = b"\7" * 16
        self.assertEqual(partitions_of(self.fetch(13, request))[0]["error_code"],
                         ErrorCode.UNKNOWN_TOPIC_ID)

    def test_sessions_as_kafka(self) -> None:
        """Epoch 0 or -1 is a full fetch whatever the session id (Kafka closes that
        session); any other epoch is incremental: FETCH_SESSION_ID_NOT_FOUND."""
        request = fetch_request({0: 0})
        for session_id, epoch in [(0, -1), (0, 0), (42, -1), (42, 0)]:
            request["session_id"], request["session_epoch"] = session_id, epoch
            got = self.fetch(12, request)
            self.assertEqual((got["error_code"], got["session_id"]), (ErrorCode.NONE, 0),
                             (session_id, epoch))
            self.assertEqual(base_offsets(partitions_of(got)[0]["records"])[0], 0)
        for session_id, epoch in [(0, 3), (42, 1), (42, -2)]:
            request["session_id"], request["session_epoch"] = session_id, epoch
            got = self.fetch(12, request)
            self.assertEqual((got["error_code"], got["session_id"], got["responses"]),
                             (ErrorCode.FETCH_SESSION_ID_NOT_FOUND, 0, []), (session_id, epoch))

    def test_older_segment_answers_at_once(self) -> None:
        """A fetch whose data ends before the high watermark (a segment boundary)
        is answered at once even below min_bytes, as Kafka's DelayedFetch does."""
        reply = call(self.broker, FETCH, 12, fetch_request({0: 0}, max_wait_ms=500,
                                                            min_bytes=1 << 20))
        self.assertIsInstance(reply, dict)
        self.assertEqual(base_offsets(partitions_of(reply)[0]["records"])[0], 0)

    def test_partition_limit_answers_at_once(self) -> None:
        """Data held back by partition_max_bytes cannot grow by waiting: answer now."""
        broker = make_broker(self)
        partition = broker.store.vhost("/").create_topic("t", 1).partitions[0]
        for n in range(2):
            partition.append(build_batch([(None, b"v%d" % i, [], i) for i in range(5)]))
        self.assertEqual(len(partition._segments), 1)
        reply = call(broker, FETCH, 12, fetch_request(
            {0: 0}, max_wait_ms=500, min_bytes=1 << 20, partition_max_bytes=1))
        self.assertIsInstance(reply, dict)
        self.assertEqual(base_offsets(partitions_of(reply)[0]["records"]), [0])

    def test_read_committed(self) -> None:
        """read_committed reads to the high watermark with an empty aborted list."""
        request = fetch_request({0: 0})
        request["isolation_level"] = 1
        got = partitions_of(self.fetch(12, request))[0]
        self.assertEqual(got["aborted_transactions"], [])
        self.assertEqual(got["last_stable_offset"], 20)

    def test_waits_for_min_bytes(self) -> None:
        """With nothing new and max_wait_ms > 0 the responder returns a long poll."""
        reply = call(self.broker, FETCH, 12, fetch_request({0: 20}, max_wait_ms=500))
        self.assertIsInstance(reply, LongPoll)
        self.assertEqual(reply.timeout_ms, 500)
        self.assertIsNone(reply.retry(False))
        self.assertEqual(partitions_of(reply.retry(True))[0]["records"], b"")

    def test_wake_reads_what_changed(self) -> None:
        """A wake-up reads again only the partitions whose log moved; the final answer reads all."""
        broker = make_broker(self)
        topic = broker.store.vhost("/").create_topic("t", 2)
        first, other = topic.partitions
        first.append(build_batch([(None, b"v", [], 1)]))
        reads: list[int] = []
        for partition in topic.partitions:
            def counted(*args: object, _read=partition.read_file_records,
                        _index=partition.index, **kwargs: object) -> object:
                reads.append(_index)
                return _read(*args, **kwargs)
            partition.read_file_records = counted  # type: ignore[method-assign]
        reply = call(broker, FETCH, 12, fetch_request({0: 0, 1: 0}, max_wait_ms=500,
                                                      min_bytes=1 << 20))
        self.assertIsInstance(reply, LongPoll)
        self.assertEqual(reads, [0])
        other.append(build_batch([(None, b"new", [], 5)]))
        self.assertIsNone(reply.retry(False))
        self.assertEqual(reads, [0, 1])
        first.append(build_batch([(None, b"more", [], 5)]))
        self.assertIsNone(reply.retry(False))
        self.assertEqual(reads, [0, 1, 0])
        got = partitions_of(reply.retry(True))
        self.assertEqual(reads, [0, 1, 0, 0, 1])
        self.assertEqual(base_offsets(got[0]["records"]), [0, 1])
        self.assertEqual(base_offsets(got[1]["records"]), [0])


class LongPollTests(SynchronousTestCase):
    """A waiting fetch over a connection, driven by the clock."""

    def setUp(self) -> None:
        """Connect to a broker with an empty topic."""
        self.broker = make_broker(self)
        self.topic = self.broker.store.vhost("/").create_topic("t", 1)
        self.connection = KafkaServerFactory(self.broker).buildProtocol(None)
        self.transport = StringTransport()
        self.connection.makeConnection(self.transport)

    def send_fetch(self, correlation_id: int, max_wait_ms: int) -> None:
        """Send a Fetch v12 at offset 0."""
        self.connection.dataReceived(request_frame(
            FETCH, 12, correlation_id, fetch_request({0: 0}, max_wait_ms=max_wait_ms)))

    def responses(self) -> list[int]:
        """Return the correlation ids written so far."""
        return [c for c, _ in read_responses(self.transport.value())]

    def test_answers_at_max_wait(self) -> None:
        """An idle fetch is answered at max_wait_ms, not before."""
        self.send_fetch(1, 500)
        self.broker.reactor.advance(0.4)
        self.assertEqual(self.responses(), [])
        self.broker.reactor.advance(0.1)
        self.assertEqual(self.responses(), [1])

    def test_wakes_on_append(self) -> None:
        """An append answers the waiting fetch at once, with the new batch."""
        self.send_fetch(1, 30_000)
        self.topic.partitions[0].append(build_batch([(None, b"new", [], 5)]))
        self.broker.reactor.advance(0)
        [(correlation, body)] = read_responses(self.transport.value())
        self.assertEqual(correlation, 1)

    def test_order_kept(self) -> None:
        """A request behind a waiting fetch is answered after it."""
        self.send_fetch(1, 1000)
        self.connection.dataReceived(request_frame(3, 9, 2, {"topics": None}))
        self.assertEqual(self.responses(), [])
        self.broker.reactor.advance(1)
        self.assertEqual(self.responses(), [1, 2])
