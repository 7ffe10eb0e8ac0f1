# -*- test-case-name: tests.test_errors -*-
"""Tests for L{twisted_kafka.errors}."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.errors import ErrorCode, KafkaError


class ErrorCodeTests(SynchronousTestCase):
    """L{ErrorCode} carries Kafka's numbers."""

    def test_known_numbers(self) -> None:
        """Codes clients act on have Kafka's numbers (clients/.../protocol/Errors.java)."""
        known = {
            "UNKNOWN_SERVER_ERROR": -1, "NONE": 0, "OFFSET_OUT_OF_RANGE": 1,
            "CORRUPT_MESSAGE": 2, "UNKNOWN_TOPIC_OR_PARTITION": 3,
            "NOT_LEADER_OR_FOLLOWER": 6, "MESSAGE_TOO_LARGE": 10,
            "COORDINATOR_NOT_AVAILABLE": 15, "NOT_COORDINATOR": 16,
            "INVALID_TOPIC_EXCEPTION": 17, "ILLEGAL_GENERATION": 22,
            "UNKNOWN_MEMBER_ID": 25, "REBALANCE_IN_PROGRESS": 27,
            "TOPIC_AUTHORIZATION_FAILED": 29, "UNSUPPORTED_VERSION": 35,
            "TOPIC_ALREADY_EXISTS": 36, "INVALID_PARTITIONS": 37,
            "POLICY_VIOLATION": 44, "OUT_OF_ORDER_SEQUENCE_NUMBER": 45,
            "DUPLICATE_SEQUENCE_NUMBER": 46, "INVALID_PRODUCER_EPOCH": 47,
            "KAFKA_STORAGE_ERROR": 56, "MEMBER_ID_REQUIRED": 79,
            "INVALID_RECORD": 87, "UNKNOWN_TOPIC_ID": 100,
        }
        self.assertEqual({name: ErrorCode[name].value for name in known}, known)

    def test_no_aliases(self) -> None:
        """No two names share a number (an IntEnum would silently alias them)."""
        self.assertEqual(len(ErrorCode.__members__), len(list(ErrorCode)))


class KafkaErrorTests(SynchronousTestCase):
    """L{KafkaError}'s code, message and text."""

    def test_str(self) -> None:
        """The text is the code's name, then the message when there is one."""
        self.assertEqual(str(KafkaError(ErrorCode.INVALID_RECORD, "record 3 is short")),
                         "INVALID_RECORD: record 3 is short")
        self.assertEqual(str(KafkaError(ErrorCode.NOT_COORDINATOR)), "NOT_COORDINATOR")

    def test_fields(self) -> None:
        """The code and message are kept as given."""
        e = KafkaError(ErrorCode.POLICY_VIOLATION, "no")
        self.assertEqual((e.code, e.message), (ErrorCode.POLICY_VIOLATION, "no"))
        self.assertIsNone(KafkaError(ErrorCode.NONE).message)
