# -*- test-case-name: tests.groups.test_committed -*-
"""Committed offsets of one vhost's groups: commit, fetch, delete and expire.

Offsets live in each L{ClassicGroup}'s C{offsets}; every change is also handed
to an L{OffsetJournal} (the durable log).  The rules are Kafka's:

- A commit naming a generation or a member id must come from a current member
  of the current generation (UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID,
  ILLEGAL_GENERATION), and not while the group awaits its assignment
  (REBALANCE_IN_PROGRESS).  A commit with generation -1 and no member (a
  consumer managing its own partitions, or an admin tool) is accepted only
  while the group is empty, and creates the group if needed.  A generation
  >= 0 for a group that does not exist is ILLEGAL_GENERATION (v9+:
  GROUP_ID_NOT_FOUND).  A member's commit counts as a heartbeat.
- Unknown topics and partitions get UNKNOWN_TOPIC_OR_PARTITION; metadata longer
  than C{offset_metadata_max_bytes} OFFSET_METADATA_TOO_LARGE.
- Fetching from a group that does not exist answers -1 for every partition.
- Offsets expire (C{offsets_retention_minutes}) when the group has been empty
  that long (for groups that used the group protocol), when they were
  committed that long ago and the group does not use the group protocol or
  no longer subscribes to the topic, when an explicit retention time from
  OffsetCommit v2-4 has passed, and at once when their topic is deleted (or
  deleted and re-created).  An empty group left without offsets is removed.
"""

from __future__ import annotations

from typing import Callable, Iterable, NamedTuple, Protocol, Sequence

from twisted.logger import Logger

from twisted_kafka.errors import ErrorCode, KafkaError
from twisted_kafka.groups.group import (
    CONSUMER_PROTOCOL_TYPE, ClassicGroup, CommittedOffset, GroupState)
from twisted_kafka.groups.membership import Membership

#: What a topic lookup returns: the topic's id and its number of partitions.
TopicInfo = tuple[bytes, int]
TopicLookup = Callable[[str], "TopicInfo | None"]

#: A partition's offset change for the journal: C{None} deletes it.
OffsetChange = tuple[str, int, "CommittedOffset | None"]


class OffsetJournal(Protocol):
    """Where offset changes are made durable."""

    def offsets_changed(self, group: ClassicGroup, changes: Sequence[OffsetChange]) -> None:
        """Record C{changes} of C{group}'s offsets."""


class _NoOffsetJournal:
    def offsets_changed(self, group: ClassicGroup, changes: Sequence[OffsetChange]) -> None:
        """Keep nothing."""


class OffsetToCommit(NamedTuple):
    """One partition of an OffsetCommit request."""

    topic: str
    partition: int
    offset: int
    leader_epoch: int = -1
    metadata: str | None = None


class CommitOutcome(NamedTuple):
    """The result of a commit: one error per partition, in request order.

    @ivar written: whether anything was stored (so there is something to sync).
    """

    errors: list[ErrorCode]
    written: bool


class CommittedOffsets:
    """Commits, fetches, deletes and expires the offsets of C{membership}'s groups."""

    log = Logger()

    def __init__(self, membership: Membership, topics: TopicLookup,
                 journal: OffsetJournal | None = None) -> None:
        self.membership = membership
        self.topics = topics
        self.journal: OffsetJournal = journal or _NoOffsetJournal()

    @property
    def groups(self) -> dict[str, ClassicGroup]:
        """The groups, by id."""
        return self.membership.groups

    # -- commit ----------------------------------------------------------------

    def _group_error(self, group: ClassicGroup, generation_id: int, member_id: str,
                     instance_id: str | None) -> ErrorCode | None:
        if group.is_in(GroupState.DEAD):
            return ErrorCode.COORDINATOR_NOT_AVAILABLE
        if generation_id < 0 and group.is_in(GroupState.EMPTY):
            return None
        if generation_id >= 0 or member_id or instance_id is not None:
            error = self.membership.validate_member(group, member_id, instance_id)
            if error is not None:
                return error
            if generation_id != group.generation_id:
                return ErrorCode.ILLEGAL_GENERATION
        elif not group.is_in(GroupState.EMPTY):
            # Without member id and generation only an empty group takes commits.
            return ErrorCode.UNKNOWN_MEMBER_ID
        if group.is_in(GroupState.COMPLETING_REBALANCE):
            return ErrorCode.REBALANCE_IN_PROGRESS
        return None

    def _partition_error(self, entry: OffsetToCommit) -> tuple[ErrorCode | None, bytes]:
        info = self.topics(entry.topic)
        if info is None or not 0 <= entry.partition < info[1]:
            return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, b""
        metadata = entry.metadata
        if metadata is not None and len(metadata) > self.membership.settings.offset_metadata_max_bytes:
            return ErrorCode.OFFSET_METADATA_TOO_LARGE, b""
        return None, info[0]

    def commit(self, group_id: str, generation_id: int, member_id: str,
               instance_id: str | None, entries: Sequence[OffsetToCommit],
               retention_time_ms: int = -1, group_not_found: ErrorCode = ErrorCode.ILLEGAL_GENERATION
               ) -> CommitOutcome:
        """Commit C{entries} for a group member (or a non-member, see the module doc).

        @param retention_time_ms: OffsetCommit v2-4's explicit retention, -1 for none.
        @param group_not_found: the error when a generation is given for a
            group that does not exist (ILLEGAL_GENERATION, or GROUP_ID_NOT_FOUND from v9).
        """
        checked = [self._partition_error(entry) for entry in entries]
        group = self.groups.get(group_id)
        group_error: ErrorCode | None = None
        if group is None:
            if generation_id >= 0:
                group_error = group_not_found
        else:
            group_error = self._group_error(group, generation_id, member_id, instance_id)
        errors: list[ErrorCode] = []
        changes: list[OffsetChange] = []
        now = self.membership.now_ms()
        expire = now + retention_time_ms if retention_time_ms >= 0 else -1
        for entry, (error, topic_id) in zip(entries, checked):
            if error is None:
                error = group_error
            if error is not None:
                errors.append(error)
                continue
            errors.append(ErrorCode.NONE)
            changes.append((entry.topic, entry.partition, CommittedOffset(
                entry.offset, entry.leader_epoch, entry.metadata or "", now, expire, topic_id)))
        if not changes:
            return CommitOutcome(errors, False)
        if group is None:
            group = self.membership.create_group(group_id)
        elif member_id and group.is_in(GroupState.STABLE, GroupState.PREPARING_REBALANCE):
            self.membership.touch(group, member_id)
        try:
            self._apply(group, changes)
        except KafkaError as e:
            self.log.error("Cannot store offsets of group {group}: {error}", group=group_id,
                           error=e)
            code = (ErrorCode.INVALID_COMMIT_OFFSET_SIZE
                    if e.code in (ErrorCode.MESSAGE_TOO_LARGE, ErrorCode.RECORD_LIST_TOO_LARGE)
                    else ErrorCode.COORDINATOR_NOT_AVAILABLE)
            return CommitOutcome([code if error == ErrorCode.NONE else error
                                  for error in errors], False)
        return CommitOutcome(errors, True)

    def _apply(self, group: ClassicGroup, changes: list[OffsetChange]) -> None:
        """Journal C{changes}, then make them visible.

        @raise KafkaError: when the journal cannot take them (nothing changes).
        """
        self.journal.offsets_changed(group, changes)
        offsets = group.offsets
        for topic, partition, committed in changes:
            if committed is None:
                offsets.pop((topic, partition), None)
            else:
                offsets[(topic, partition)] = committed

    # -- fetch -----------------------------------------------------------------

    def fetch(self, group_id: str, wanted: Sequence[tuple[str, Sequence[int]]] | None
              ) -> list[tuple[str, list[tuple[int, CommittedOffset | None]]]]:
        """Return the committed offsets of C{wanted} (C{None}: every committed one).

        Partitions without a committed offset come back with C{None}.
        """
        group = self.groups.get(group_id)
        offsets = group.offsets if group is not None else {}
        if wanted is None:
            by_topic: dict[str, list[tuple[int, CommittedOffset | None]]] = {}
            for (topic, partition), committed in sorted(offsets.items()):
                by_topic.setdefault(topic, []).append((partition, committed))
            return list(by_topic.items())
        return [(topic, [(p, offsets.get((topic, p))) for p in partitions])
                for topic, partitions in wanted]

    # -- delete ----------------------------------------------------------------

    def delete(self, group_id: str, wanted: Sequence[tuple[str, Sequence[int]]]
               ) -> tuple[ErrorCode, list[list[ErrorCode]], bool]:
        """OffsetDelete: drop C{wanted} offsets of a group not consuming those topics.

        @return: the group's error, an error per requested partition (by
            topic), and whether anything was deleted.
        """
        group = self.groups.get(group_id)
        if group is None or group.is_in(GroupState.DEAD):
            return ErrorCode.GROUP_ID_NOT_FOUND, [], False
        empty = group.is_in(GroupState.EMPTY)
        if not empty and group.protocol_type != CONSUMER_PROTOCOL_TYPE:
            return ErrorCode.NON_EMPTY_GROUP, [], False
        results: list[list[ErrorCode]] = []
        changes: list[OffsetChange] = []
        for topic, partitions in wanted:
            info = self.topics(topic)
            errors = []
            for partition in partitions:
                if info is None or not 0 <= partition < info[1]:
                    errors.append(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
                elif not empty and group.is_subscribed_to(topic):
                    errors.append(ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC)
                else:
                    errors.append(ErrorCode.NONE)
                    if (topic, partition) in group.offsets:
                        changes.append((topic, partition, None))
            results.append(errors)
        if changes:
            try:
                self._apply(group, changes)
            except KafkaError as e:
                self.log.error("Cannot delete offsets of group {group}: {error}",
                               group=group_id, error=e)
                return ErrorCode.COORDINATOR_NOT_AVAILABLE, [], False
        return ErrorCode.NONE, results, bool(changes)

    # -- expiry ----------------------------------------------------------------

    def expire(self) -> int:
        """Drop expired offsets and empty groups without offsets; return the offsets dropped."""
        now = self.membership.now_ms()
        retention = self.membership.settings.offsets_retention_ms
        dropped = 0
        for group in list(self.groups.values()):
            changes: list[OffsetChange] = [
                (topic, partition, None)
                for topic, partition, _ in self._expired(group, now, retention)]
            if changes:
                try:
                    self._apply(group, changes)
                except KafkaError as e:
                    self.log.error("Cannot expire offsets of group {group}: {error}",
                                   group=group.group_id, error=e)
                    continue
                dropped += len(changes)
            if (group.is_in(GroupState.EMPTY) and not group.offsets and not group.members
                    and not group.pending_members):
                self.membership.remove_group(group)
        return dropped

    @staticmethod
    def _retention_rule(group: ClassicGroup
                        ) -> tuple[Callable[[CommittedOffset], int], frozenset[str]] | None:
        """How C{group}'s offsets age, as Kafka's offset expiration condition says.

        @return: the time each offset's retention counts from and the topics
            whose offsets do not expire; C{None} when none expire.
        """
        if group.protocol_type is None:
            return (lambda c: c.commit_timestamp), frozenset()
        if group.is_in(GroupState.EMPTY):
            since = group.empty_since
            return (lambda c: since), frozenset()
        if (group.protocol_type == CONSUMER_PROTOCOL_TYPE and group.is_in(GroupState.STABLE)
                and group.subscribed_topics is not None):
            return (lambda c: c.commit_timestamp), group.subscribed_topics
        return None

    def _expired(self, group: ClassicGroup, now: int, retention: int
                 ) -> Iterable[tuple[str, int, CommittedOffset]]:
        rule = self._retention_rule(group)
        for (topic, partition), committed in list(group.offsets.items()):
            info = self.topics(topic)
            if info is None or (committed.topic_id and info[0] != committed.topic_id):
                yield topic, partition, committed  # the topic is gone
                continue
            if rule is None or topic in rule[1]:
                continue
            if committed.expire_timestamp >= 0:
                expired = now >= committed.expire_timestamp
            else:
                expired = now - rule[0](committed) >= retention
            if expired:
                yield topic, partition, committed
