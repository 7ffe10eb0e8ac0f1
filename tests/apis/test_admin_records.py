# -*- test-case-name: tests.apis.test_admin_records -*-
"""Tests for DeleteRecords, through the codec."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from tests.apis.support import call, make_broker, roundtrip
from tests.apis.test_admin_topics import create_one
from twisted_kafka.apis import delete_records
from twisted_kafka.errors import ErrorCode
from twisted_kafka.records.record import build_batch


class DeleteRecordsTests(SynchronousTestCase):
    """DeleteRecords moves log start offsets forward, partition by partition."""

    def setUp(self) -> None:
        """Set up what each test here uses."""
        self.broker = make_broker(self, store={"segment_bytes": 1000})
        create_one(self.broker, "t", 2, 1)
        self.partition = self.broker.store.vhost("/").topic("t").partitions[0]
        for i in range(10):
            self.partition.append(build_batch([(None, b"x" * 300, [], 1000 + i)] * 2))

    def delete(self, offsets: dict[int, int], name: str = "t", version: int = 2) -> dict:
        """Delete records of topic C{name}; return low watermarks or errors by partition."""
        request = {"topics": [{"name": name, "partitions": [
            {"partition_index": p, "offset": o} for p, o in offsets.items()]}],
            "timeout_ms": 1000}
        response = call(self.broker, delete_records.API_KEY, version, request)
        [topic] = roundtrip(delete_records.API_KEY, version, response)["topics"]
        return {p["partition_index"]: (p["low_watermark"], p["error_code"])
                for p in topic["partitions"]}

    def test_delete(self) -> None:
        """Records before the offset are deleted, whole segments before it removed."""
        segments = len(self.partition.segments())
        self.assertEqual(self.delete({0: 9}, version=0), {0: (9, ErrorCode.NONE)})
        self.assertEqual(self.partition.log_start_offset, 9)
        self.assertLess(len(self.partition.segments()), segments)

    def test_high_watermark(self) -> None:
        """-1 deletes everything: the log start becomes the high watermark."""
        self.assertEqual(self.delete({0: -1, 1: -1}), {0: (20, ErrorCode.NONE),
                                                       1: (0, ErrorCode.NONE)})

    def test_never_backwards(self) -> None:
        """An offset below the log start changes nothing."""
        self.delete({0: 10})
        self.assertEqual(self.delete({0: 4}, version=1), {0: (10, ErrorCode.NONE)})

    def test_out_of_range(self) -> None:
        """Past the high watermark, or below -1, is OFFSET_OUT_OF_RANGE."""
        self.assertEqual(self.delete({0: 21, 1: -2}), {
            0: (-1, ErrorCode.OFFSET_OUT_OF_RANGE), 1: (-1, ErrorCode.OFFSET_OUT_OF_RANGE)})
        self.assertEqual(self.partition.log_start_offset, 0)

    def test_internal(self) -> None:
        """Records of internal stream queues cannot be deleted, as in Kafka."""
        self.broker.store.vhost("/").create_topic("__internal", 1)
        self.assertEqual(self.delete({0: 0}, name="__internal"),
                         {0: (-1, ErrorCode.INVALID_TOPIC_EXCEPTION)})

    def test_unknown(self) -> None:
        """Unknown topics and partitions are UNKNOWN_TOPIC_OR_PARTITION."""
        self.assertEqual(self.delete({0: 1}, name="nope"),
                         {0: (-1, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)})
        self.assertEqual(self.delete({0: 1, 5: 1}), {
            0: (1, ErrorCode.NONE), 5: (-1, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)})
