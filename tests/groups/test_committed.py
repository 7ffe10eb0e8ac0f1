# -*- test-case-name: tests.groups.test_committed -*-
"""Tests for L{twisted_kafka.groups.committed}: commit, fetch, delete and expire offsets."""

from __future__ import annotations

from typing import Any, Sequence

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from tests.groups.test_membership import DELAY_MS, MembershipCase
from twisted_kafka.errors import ErrorCode, KafkaError
from twisted_kafka.groups.committed import CommittedOffsets, OffsetToCommit
from twisted_kafka.groups.group import ClassicGroup, CommittedOffset, GroupState
from twisted_kafka.groups.membership import LeavingMember, Membership
from twisted_kafka.groups.settings import GroupSettings
from twisted_kafka.protocol import messages

TOPIC_ID = b"T" * 16
OTHER_ID = b"O" * 16
RETENTION_MS = 60 * 60000


class Journal:
    """Records offset changes; fails when told to."""

    def __init__(self) -> None:
        self.changes: list[tuple[str, list]] = []
        self.fail: KafkaError | None = None

    def offsets_changed(self, group: ClassicGroup, changes: Sequence[Any]) -> None:
        """Record or refuse C{changes}."""
        if self.fail is not None:
            raise self.fail
        self.changes.append((group.group_id, list(changes)))


def subscription(*topics: str) -> bytes:
    """A ConsumerProtocolSubscription v0 for C{topics}."""
    return messages.encode_data("ConsumerProtocolSubscription", 0,
                                {"topics": list(topics), "user_data": None})


class CommittedCase(MembershipCase):
    """A membership state machine with committed offsets and two topics."""

    def setUp(self) -> None:
        """Add the offsets side with topics C{t} (3 partitions) and C{u} (1)."""
        super().setUp()
        self.membership.settings = GroupSettings(group_initial_rebalance_delay_ms=DELAY_MS,
                                                 offsets_retention_minutes=60)
        self.topics = {"t": (TOPIC_ID, 3), "u": (OTHER_ID, 1)}
        self.journal = Journal()
        self.offsets = CommittedOffsets(self.membership, self.topics.get, self.journal)

    def consumer(self, *topics: str) -> str:
        """Make a Stable group (generation 1) of one consumer subscribed to C{topics}; return its id."""
        member_id, join = self.new_member(protocols=[("range", subscription(*topics))])
        self.clock.advance(DELAY_MS / 1000)
        self.assertEqual(join.result.generation_id, 1)
        self.sync(member_id, 1, {member_id: b""})
        return member_id

    def keep_alive(self, member_id: str, seconds: float) -> None:
        """Let C{seconds} pass while C{member_id} heartbeats every 5 s."""
        for _ in range(int(seconds / 5)):
            self.clock.advance(5)
            self.membership.heartbeat("g", member_id, None, 1)

    def commit(self, *entries: OffsetToCommit, group_id: str = "g", generation: int = -1,
               member_id: str = "", instance: str | None = None, **kwargs: Any) -> list:
        """Commit C{entries}; return the errors."""
        return self.offsets.commit(group_id, generation, member_id, instance, entries,
                                   **kwargs).errors

    def fetched(self, group_id: str = "g", wanted: list | None = None) -> dict:
        """Return {(topic, partition): offset or None} as fetched."""
        return {(topic, p): (c.offset if c is not None else None)
                for topic, partitions in self.offsets.fetch(group_id, wanted)
                for p, c in partitions}


class CommitTests(CommittedCase):
    """OffsetCommit validation and storage."""

    def test_simple_commit_creates_group(self) -> None:
        """A commit without generation or member creates an empty group with the offsets."""
        self.assertEqual(self.commit(OffsetToCommit("t", 0, 5, 3, "meta"),
                                     OffsetToCommit("t", 2, 7)),
                         [ErrorCode.NONE, ErrorCode.NONE])
        group = self.groups["g"]
        self.assertIs(group.state, GroupState.EMPTY)
        self.assertIsNone(group.protocol_type)
        now = int(self.clock.seconds() * 1000)
        self.assertEqual(group.offsets[("t", 0)], CommittedOffset(5, 3, "meta", now, -1, TOPIC_ID))
        self.assertEqual(group.offsets[("t", 2)].metadata, "")
        self.assertEqual(self.fetched(wanted=[("t", [0, 1, 2])]),
                         {("t", 0): 5, ("t", 1): None, ("t", 2): 7})
        self.assertEqual(len(self.journal.changes), 1)

    def test_unknown_topic_and_partition(self) -> None:
        """Unknown topics and partitions are refused; the rest is committed."""
        self.assertEqual(self.commit(OffsetToCommit("nope", 0, 1), OffsetToCommit("t", 3, 1),
                                     OffsetToCommit("t", -1, 1), OffsetToCommit("u", 0, 1)),
                         [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION] * 3 + [ErrorCode.NONE])

    def test_nothing_valid_creates_no_group(self) -> None:
        """A commit with nothing to store creates no group and journals nothing."""
        outcome = self.offsets.commit("g", -1, "", None, [OffsetToCommit("nope", 0, 1)])
        self.assertFalse(outcome.written)
        self.assertEqual(self.groups, {})
        self.assertEqual(self.journal.changes, [])

    def test_metadata_too_large(self) -> None:
        """Metadata longer than offset_metadata_max_bytes is OFFSET_METADATA_TOO_LARGE."""
        self.assertEqual(self.commit(OffsetToCommit("t", 0, 1, -1, "x" * 4097),
                                     OffsetToCommit("t", 1, 1, -1, "x" * 4096)),
                         [ErrorCode.OFFSET_METADATA_TOO_LARGE, ErrorCode.NONE])

    def test_generation_for_unknown_group(self) -> None:
        """A generation for a group that does not exist: ILLEGAL_GENERATION (v9+: GROUP_ID_NOT_FOUND)."""
        self.assertEqual(self.commit(OffsetToCommit("t", 0, 1), generation=1, member_id="m"),
                         [ErrorCode.ILLEGAL_GENERATION])
        self.assertEqual(self.commit(OffsetToCommit("t", 0, 1), generation=1, member_id="m",
                                     group_not_found=ErrorCode.GROUP_ID_NOT_FOUND),
                         [ErrorCode.GROUP_ID_NOT_FOUND])
        self.assertEqual(self.groups, {})

    def test_member_commits(self) -> None:
        """Members commit with their generation; others are refused as Kafka refuses them."""
        a, b, generation = self.stable_pair()
        entry = OffsetToCommit("t", 0, 10)
        self.assertEqual(self.commit(entry, generation=generation, member_id=a), [ErrorCode.NONE])
        self.assertEqual(self.commit(entry, generation=generation - 1, member_id=a),
                         [ErrorCode.ILLEGAL_GENERATION])
        self.assertEqual(self.commit(entry, generation=generation, member_id="x"),
                         [ErrorCode.UNKNOWN_MEMBER_ID])
        self.assertEqual(self.commit(entry), [ErrorCode.UNKNOWN_MEMBER_ID])
        self.assertEqual(self.commit(entry, generation=generation, member_id=a, instance="i"),
                         [ErrorCode.UNKNOWN_MEMBER_ID])

    def test_commit_while_completing_rebalance(self) -> None:
        """A member commit while the group awaits its assignment is REBALANCE_IN_PROGRESS."""
        a, join_a = self.new_member()
        self.clock.advance(DELAY_MS / 1000)
        self.assertEqual(self.commit(OffsetToCommit("t", 0, 1), generation=1, member_id=a),
                         [ErrorCode.REBALANCE_IN_PROGRESS])

    def test_commit_counts_as_heartbeat(self) -> None:
        """A member that commits but never heartbeats keeps its session."""
        a, b, generation = self.stable_pair()
        for _ in range(10):
            self.clock.advance(3)
            self.commit(OffsetToCommit("t", 0, 1), generation=generation, member_id=a)
            self.membership.heartbeat("g", b, None, generation)
        self.assertIs(self.groups["g"].state, GroupState.STABLE)

    def test_journal_failure(self) -> None:
        """When the journal cannot store a commit nothing changes and the error is reported."""
        self.commit(OffsetToCommit("t", 0, 1))
        self.journal.fail = KafkaError(ErrorCode.KAFKA_STORAGE_ERROR)
        self.assertEqual(self.commit(OffsetToCommit("t", 0, 2), OffsetToCommit("nope", 0, 1)),
                         [ErrorCode.COORDINATOR_NOT_AVAILABLE, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION])
        self.journal.fail = KafkaError(ErrorCode.MESSAGE_TOO_LARGE)
        self.assertEqual(self.commit(OffsetToCommit("t", 0, 3)),
                         [ErrorCode.INVALID_COMMIT_OFFSET_SIZE])
        self.assertEqual(self.fetched(wanted=[("t", [0])]), {("t", 0): 1})


class FetchTests(CommittedCase):
    """OffsetFetch."""

    def test_fetch_all(self) -> None:
        """Fetching every topic returns every committed offset, grouped by topic."""
        self.commit(OffsetToCommit("u", 0, 1), OffsetToCommit("t", 1, 2), OffsetToCommit("t", 0, 3))
        self.assertEqual(self.offsets.fetch("g", None)[0][0], "t")
        self.assertEqual(self.fetched(), {("t", 0): 3, ("t", 1): 2, ("u", 0): 1})

    def test_unknown_group(self) -> None:
        """A group that does not exist has no offsets (and is not created)."""
        self.assertEqual(self.fetched("nobody", [("t", [0])]), {("t", 0): None})
        self.assertEqual(self.fetched("nobody"), {})
        self.assertEqual(self.groups, {})


class DeleteTests(CommittedCase):
    """OffsetDelete."""

    def test_delete_from_empty_group(self) -> None:
        """An empty group's offsets can be deleted; unknown partitions are reported."""
        self.commit(OffsetToCommit("t", 0, 1), OffsetToCommit("t", 1, 1))
        self.assertEqual(self.offsets.delete("g", [("t", [0, 2, 7]), ("nope", [0])]),
                         (ErrorCode.NONE,
                          [[ErrorCode.NONE, ErrorCode.NONE, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
                           [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]], True))
        self.assertEqual(self.fetched(), {("t", 1): 1})

    def test_unknown_group(self) -> None:
        """Deleting offsets of a group that does not exist is GROUP_ID_NOT_FOUND."""
        self.assertEqual(self.offsets.delete("g", [("t", [0])]),
                         (ErrorCode.GROUP_ID_NOT_FOUND, [], False))

    def test_subscribed_topics_protected(self) -> None:
        """A consumer group's offsets of topics it subscribes to cannot be deleted."""
        a = self.consumer("t")
        self.commit(OffsetToCommit("t", 0, 1), OffsetToCommit("u", 0, 1), generation=1,
                    member_id=a)
        self.assertEqual(self.offsets.delete("g", [("t", [0]), ("u", [0])]),
                         (ErrorCode.NONE, [[ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC],
                                           [ErrorCode.NONE]], True))
        self.assertEqual(self.fetched(), {("t", 0): 1})

    def test_non_consumer_group_not_empty(self) -> None:
        """A group of another protocol type with members is NON_EMPTY_GROUP."""
        self.new_member(protocol_type="connect")
        self.assertEqual(self.offsets.delete("g", [("t", [0])]),
                         (ErrorCode.NON_EMPTY_GROUP, [], False))


class ExpiryTests(CommittedCase):
    """Offset retention and the removal of dead groups."""

    def minutes(self, n: float) -> None:
        """Let C{n} minutes pass."""
        self.clock.advance(n * 60)

    def test_simple_group_offsets_expire_by_commit_time(self) -> None:
        """Offsets of a group not using the group protocol expire retention after their commit."""
        self.commit(OffsetToCommit("t", 0, 1))
        self.minutes(30)
        self.commit(OffsetToCommit("t", 1, 1))
        self.minutes(30)
        self.assertEqual(self.offsets.expire(), 1)
        self.assertEqual(self.fetched(), {("t", 1): 1})
        self.minutes(30)
        self.assertEqual(self.offsets.expire(), 1)
        self.assertNotIn("g", self.groups)

    def test_empty_consumer_group_expires_after_retention(self) -> None:
        """A consumer group's offsets expire retention after it became empty, not after the commit."""
        a = self.consumer("t")
        self.commit(OffsetToCommit("t", 0, 1), generation=1, member_id=a)
        self.keep_alive(a, 150)
        self.offsets.expire()
        self.membership.leave("g", [LeavingMember(a)])
        self.assertIs(self.groups["g"].state, GroupState.EMPTY)
        self.minutes(59)
        self.assertEqual(self.offsets.expire(), 0)
        self.minutes(1)
        self.assertEqual(self.offsets.expire(), 1)
        self.assertNotIn("g", self.groups)

    def test_stable_group_keeps_subscribed_offsets(self) -> None:
        """A stable consumer group keeps offsets of subscribed topics, however old; others expire."""
        a = self.consumer("t")
        self.commit(OffsetToCommit("t", 0, 1), OffsetToCommit("u", 0, 1), generation=1,
                    member_id=a)
        self.keep_alive(a, 61 * 60)
        self.assertEqual(self.offsets.expire(), 1)
        self.assertEqual(self.fetched(), {("t", 0): 1})

    def test_explicit_retention_time(self) -> None:
        """An OffsetCommit v2-4 retention time overrides the broker's retention."""
        self.commit(OffsetToCommit("t", 0, 1), retention_time_ms=60000)
        self.minutes(1)
        self.assertEqual(self.offsets.expire(), 1)

    def test_deleted_topic(self) -> None:
        """Offsets of a deleted or re-created topic expire at once."""
        self.commit(OffsetToCommit("t", 0, 1), OffsetToCommit("u", 0, 1))
        del self.topics["t"]
        self.topics["u"] = (b"N" * 16, 1)
        self.assertEqual(self.offsets.expire(), 2)
        self.assertNotIn("g", self.groups)

    def test_empty_group_without_offsets_removed(self) -> None:
        """An empty group with no offsets is removed by the expiry pass."""
        a, b, generation = self.stable_pair()
        self.membership.leave("g", [LeavingMember(a), LeavingMember(b)])
        self.offsets.expire()
        self.assertNotIn("g", self.groups)


class GroupQueriesTests(SynchronousTestCase):
    """L{ClassicGroup} questions used by the offsets side."""

    def test_subscribed_topics(self) -> None:
        """Subscriptions are the union of the members' for the chosen protocol."""
        membership = Membership({}, Clock(), GroupSettings())
        group = membership.create_group("g")
        self.assertTrue(group.is_subscribed_to("anything"))
        group.protocol_type = "consumer"
        self.assertEqual(group.compute_subscribed_topics(), frozenset())
