# -*- test-case-name: tests.apis.test_list_offsets -*-
"""Tests for L{twisted_kafka.apis.list_offsets} and L{twisted_kafka.apis.offset_for_leader_epoch}."""

from __future__ import annotations

import random

from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.errors import ErrorCode
from twisted_kafka.apis.list_offsets import max_timestamp_offset, offset_for_time
from twisted_kafka.records.record import DecompressionBudget, build_batch
from tests.apis.support import call, make_broker, roundtrip

LIST_OFFSETS = 2
OFFSET_FOR_LEADER_EPOCH = 23


class ListOffsetsTests(SynchronousTestCase):
    """ListOffsets by position and by time."""

    def setUp(self) -> None:
        """Store three batches with known timestamps (the max in the middle)."""
        self.broker = make_broker(self)
        self.topic = self.broker.store.vhost("/").create_topic("t", 1)
        p = self.topic.partitions[0]
        p.append(build_batch([(None, b"a", [], 100), (None, b"b", [], 200)]))      # 0, 1
        p.append(build_batch([(None, b"c", [], 300), (None, b"d", [], 900),
                              (None, b"e", [], 400)]))                              # 2, 3, 4
        p.append(build_batch([(None, b"f", [], 500)]))                              # 5

    def ask(self, timestamp: int, version: int = 8, topic: str = "t", partition: int = 0) -> dict:
        """Return the single partition answer for C{timestamp}."""
        request = {"replica_id": -1, "isolation_level": 0, "topics": [
            {"name": topic, "partitions": [{"partition_index": partition, "timestamp": timestamp,
                                            "current_leader_epoch": -1}]}]}
        response = roundtrip(LIST_OFFSETS, version, call(self.broker, LIST_OFFSETS, version, request))
        return response["topics"][0]["partitions"][0]

    def test_earliest_latest(self) -> None:
        """-2 is the log start offset, -1 the high watermark, in every version."""
        for version in range(1, 11):
            self.assertEqual(self.ask(-2, version)["offset"], 0)
            self.assertEqual(self.ask(-1, version)["offset"], 6)
        self.topic.partitions[0].delete_records(2)
        self.assertEqual(self.ask(-2)["offset"], 2)
        self.assertEqual(self.ask(-4)["offset"], 2)

    def test_by_timestamp_exact_record(self) -> None:
        """A timestamp finds the first record at or after it, inside its batch."""
        self.assertEqual((self.ask(0)["offset"], self.ask(0)["timestamp"]), (0, 100))
        self.assertEqual((self.ask(150)["offset"], self.ask(150)["timestamp"]), (1, 200))
        self.assertEqual((self.ask(301)["offset"], self.ask(301)["timestamp"]), (3, 900))
        self.assertEqual(self.ask(900)["offset"], 3)
        self.assertEqual((self.ask(901)["offset"], self.ask(901)["timestamp"]), (-1, -1))

    def test_max_timestamp(self) -> None:
        """-3 (v7+) finds the record with the largest timestamp."""
        got = self.ask(-3, version=7)
        self.assertEqual((got["offset"], got["timestamp"]), (3, 900))
        self.assertEqual(self.ask(-3, version=6)["error_code"], ErrorCode.UNSUPPORTED_VERSION)

    def test_budget_spent_answers_batch(self) -> None:
        """Past the request's decompression budget a partition is answered at its batch."""
        p = self.broker.store.vhost("/").create_topic("z", 1).partitions[0]
        p.append(build_batch([(None, bytes(200_000), [], 1000), (None, b"x", [], 2000)],
                             codec=1))
        budget = DecompressionBudget(100_000)
        self.assertEqual(offset_for_time(p, 1500, budget), (0, 2000))
        self.assertEqual(max_timestamp_offset(p, DecompressionBudget(100_000)), (0, 2000))
        # With budget enough, the exact record.
        self.assertEqual(offset_for_time(p, 1500, DecompressionBudget(1 << 20)), (1, 2000))
        self.assertEqual(max_timestamp_offset(p, DecompressionBudget(1 << 20)), (1, 2000))

    def test_lookup_stops_early(self) -> None:
        """Finding the first record of a large compressed batch decompresses little of it."""
        p = self.broker.store.vhost("/").create_topic("big", 1).partitions[0]
        rng = random.Random(2)
        for codec in (1, 3, 4):
            # Four-letter text: compresses about 4x, no long runs to swallow whole.
            letters = bytes(b"acgt"[i % 4] for i in range(256))
            values = [rng.randbytes(1 << 17).translate(letters) for _ in range(8)]
            base = p.high_watermark
            p.append(build_batch([(None, v, [], 1000 + base + i) for i, v in enumerate(values)],
                                 codec=codec))
            budget = DecompressionBudget(64 << 20)
            self.assertEqual(offset_for_time(p, 1000 + base, budget), (base, 1000 + base))
            # At most about one 256 KiB piece of the 1 MiB of records.
            self.assertLess((64 << 20) - budget.remaining, 1 << 19, codec)

    def test_one_budget_per_request(self) -> None:
        """The budget is shared by every partition of one request."""
        import dataclasses

        self.broker.settings = dataclasses.replace(
            self.broker.settings, max_decompressed_bytes=300_000)
        topic = self.broker.store.vhost("/").create_topic("two", 2)
        for p in topic.partitions:
            p.append(build_batch([(None, bytes(200_000), [], 1000), (None, b"x", [], 2000)],
                                 codec=1))
        request = {"replica_id": -1, "isolation_level": 0, "topics": [
            {"name": "two", "partitions": [
                {"partition_index": i, "timestamp": 1500, "current_leader_epoch": -1}
                for i in (0, 1)]}]}
        response = roundtrip(LIST_OFFSETS, 8, call(self.broker, LIST_OFFSETS, 8, request))
        self.assertEqual([p["offset"] for p in response["topics"][0]["partitions"]], [1, 0])

    def test_empty_partition(self) -> None:
        """An empty partition has no offset for a timestamp or max timestamp."""
        self.broker.store.vhost("/").create_topic("empty", 1)
        self.assertEqual(self.ask(0, topic="empty")["offset"], -1)
        self.assertEqual(self.ask(-3, topic="empty")["offset"], -1)
        self.assertEqual(self.ask(-1, topic="empty")["offset"], 0)

    def test_unknown(self) -> None:
        """Unknown topics and partitions get UNKNOWN_TOPIC_OR_PARTITION."""
        self.assertEqual(self.ask(-1, topic="nope")["error_code"],
                         ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
        self.assertEqual(self.ask(-1, partition=3)["error_code"],
                         ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)


class OffsetForLeaderEpochTests(SynchronousTestCase):
    """Epoch 0 ends at the high watermark."""

    def test_epoch_zero(self) -> None:
        """Epoch 0 ends at the high watermark; a later epoch is unknown."""
        broker = make_broker(self)
        topic = broker.store.vhost("/").create_topic("t", 1)
        topic.partitions[0].append(build_batch([(None, b"a", [], 1)]))
        request = {"replica_id": -1, "topics": [{"topic": "t", "partitions": [
            {"partition": 0, "current_leader_epoch": 0, "leader_epoch": 0},
            {"partition": 0, "current_leader_epoch": 0, "leader_epoch": 3},
            {"partition": 0, "current_leader_epoch": 5, "leader_epoch": 0},
            {"partition": 9, "current_leader_epoch": 0, "leader_epoch": 0}]}]}
        got = roundtrip(OFFSET_FOR_LEADER_EPOCH, 4,
                        call(broker, OFFSET_FOR_LEADER_EPOCH, 4, request))["topics"][0]["partitions"]
        self.assertEqual((got[0]["leader_epoch"], got[0]["end_offset"]), (0, 1))
        self.assertEqual((got[1]["leader_epoch"], got[1]["end_offset"]), (-1, -1))
        self.assertEqual(got[2]["error_code"], ErrorCode.UNKNOWN_LEADER_EPOCH)
        self.assertEqual(got[3]["error_code"], ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)

    def test_epochs_before_zero(self) -> None:
        """As Kafka's LeaderEpochFileCache: the undefined epoch -1 has no end
        (-1, -1); an older epoch than the first ends where epoch 0 starts."""
        broker = make_broker(self)
        partition = broker.store.vhost("/").create_topic("t", 1).partitions[0]
        for i in range(3):
            partition.append(build_batch([(None, b"a", [], i)]))
        partition.delete_records(1)
        request = {"replica_id": -1, "topics": [{"topic": "t", "partitions": [
            {"partition": 0, "current_leader_epoch": -1, "leader_epoch": -1},
            {"partition": 0, "current_leader_epoch": -1, "leader_epoch": -2}]}]}
        got = roundtrip(OFFSET_FOR_LEADER_EPOCH, 4,
                        call(broker, OFFSET_FOR_LEADER_EPOCH, 4, request))["topics"][0]["partitions"]
        self.assertEqual([(p["error_code"], p["leader_epoch"], p["end_offset"]) for p in got],
                         [(0, -1, -1), (0, -2, 1)])
