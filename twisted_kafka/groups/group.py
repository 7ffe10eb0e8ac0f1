# -*- test-case-name: tests.groups.test_membership -*-
"""One classic consumer group: its state, members, generation and offsets.

This is the data and the questions asked about it (Kafka's
C{GroupMetadata}/C{ClassicGroup}); the transitions and timers that drive it
live in L{twisted_kafka.groups.membership}.
"""

from __future__ import annotations

import enum
from typing import NamedTuple

from twisted.internet.interfaces import IDelayedCall

from twisted_kafka.groups.member import Member
from twisted_kafka.groups.results import JoinedMember
from twisted_kafka.protocol import messages
from twisted_kafka.protocol.errors import DecodeError

#: The protocol type of Kafka consumers (their metadata is a ConsumerProtocolSubscription).
CONSUMER_PROTOCOL_TYPE = "consumer"


def cancel(call: IDelayedCall | None) -> None:
    """Cancel the delayed call C{call} if it is still pending (C{None} is fine)."""
    if call is not None and call.active():
        call.cancel()


class GroupState(enum.Enum):
    """The classic group states, named as Kafka names them on the wire."""

    EMPTY = "Empty"
    PREPARING_REBALANCE = "PreparingRebalance"
    COMPLETING_REBALANCE = "CompletingRebalance"
    STABLE = "Stable"
    DEAD = "Dead"


#: The states each state may be entered from.
VALID_PREVIOUS_STATES: dict[GroupState, frozenset[GroupState]] = {
    GroupState.EMPTY: frozenset({GroupState.PREPARING_REBALANCE}),
    GroupState.PREPARING_REBALANCE: frozenset(
        {GroupState.STABLE, GroupState.COMPLETING_REBALANCE, GroupState.EMPTY}),
    GroupState.COMPLETING_REBALANCE: frozenset({GroupState.PREPARING_REBALANCE}),
    GroupState.STABLE: frozenset({GroupState.COMPLETING_REBALANCE}),
    GroupState.DEAD: frozenset(
        {GroupState.STABLE, GroupState.PREPARING_REBALANCE, GroupState.COMPLETING_REBALANCE,
         GroupState.EMPTY, GroupState.DEAD}),
}


class CommittedOffset(NamedTuple):
    """A committed offset of one partition.

    @ivar expire_timestamp: when it expires (OffsetCommit v2-4 with a
        retention time), or -1 to follow the broker's retention rules.
    @ivar topic_id: the id of the topic when the offset was committed, so
        offsets of a deleted (or deleted and re-created) topic expire.
    """

    offset: int
    leader_epoch: int
    metadata: str
    commit_timestamp: int
    expire_timestamp: int
    topic_id: bytes


class ClassicGroup:
    """A group using the classic (JoinGroup/SyncGroup) protocol.

    @ivar members: the members by id, in the order they joined.
    @ivar pending_members: ids handed out with MEMBER_ID_REQUIRED whose
        owners have not joined with them yet, with their expiry calls.
    @ivar pending_sync: members of the current generation that have not
        sent their SyncGroup yet.
    @ivar static_members: member id by group instance id.
    @ivar offsets: committed offsets by C{(topic, partition)}.
    @ivar empty_since: when the group last became empty (ms), for offset
        retention; -1 while it has members.
    @ivar subscribed_topics: the topics the members subscribe to, when the
        group uses the consumer protocol and every subscription parsed;
        C{None} when not known.
    """

    def __init__(self, group_id: str, now_ms: int) -> None:
        self.group_id = group_id
        self.state = GroupState.EMPTY
        self.state_timestamp = now_ms
        self.generation_id = 0
        self.protocol_type: str | None = None
        self.protocol_name: str | None = None
        self.leader_id: str | None = None
        self.members: dict[str, Member] = {}
        self.pending_members: dict[str, IDelayedCall | None] = {}
        self.pending_sync: set[str] = set()
        self.static_members: dict[str, str] = {}
        self.supported_protocols: dict[str, int] = {}
        self.offsets: dict[tuple[str, int], CommittedOffset] = {}
        self.empty_since = now_ms
        self.subscribed_topics: frozenset[str] | None = None
        self.new_member_added = False
        self.join_timer: IDelayedCall | None = None
        self.initial_delay = False
        self.sync_timer: IDelayedCall | None = None
        self.persisted = False

    def __repr__(self) -> str:
        return (f"<ClassicGroup {self.group_id!r} {self.state.value} "
                f"generation={self.generation_id} members={len(self.members)}>")

    # -- state ---------------------------------------------------------------

    def is_in(self, *states: GroupState) -> bool:
        """Whether the group is in one of C{states}."""
        return self.state in states

    def transition_to(self, state: GroupState, now_ms: int) -> None:
        """Move to C{state}; a transition Kafka does not allow is a bug here."""
        if self.state not in VALID_PREVIOUS_STATES[state]:
            raise AssertionError(f"group {self.group_id}: {self.state.value} -> {state.value}")
        self.state = state
        self.state_timestamp = now_ms

    @property
    def can_rebalance(self) -> bool:
        """Whether a rebalance may start from the current state."""
        return self.state in VALID_PREVIOUS_STATES[GroupState.PREPARING_REBALANCE]

    # -- members -------------------------------------------------------------

    def has(self, member_id: str) -> bool:
        """Whether C{member_id} is a member (pending members are not)."""
        return member_id in self.members

    def is_leader(self, member_id: str) -> bool:
        """Whether C{member_id} leads the group."""
        return self.leader_id == member_id

    def is_pending(self, member_id: str) -> bool:
        """Whether C{member_id} was handed out with MEMBER_ID_REQUIRED and not used yet."""
        return member_id in self.pending_members

    def static_member_id(self, instance_id: str | None) -> str | None:
        """Return the member id currently bound to static C{instance_id}."""
        if instance_id is None:
            return None
        return self.static_members.get(instance_id)

    def add(self, member: Member) -> None:
        """Add C{member} (its protocols must be supported, see L{supports_protocols})."""
        if not self.members:
            self.protocol_type = member.protocol_type
        if member.group_instance_id is not None:
            self.static_members[member.group_instance_id] = member.member_id
        if self.leader_id is None:
            self.leader_id = member.member_id
        self.members[member.member_id] = member
        self._count_protocols(member, 1)
        cancel(self.pending_members.pop(member.member_id, None))

    def remove(self, member_id: str) -> Member | None:
        """Remove a member or a pending member, cancelling its expiry.

        A new leader is the earliest remaining member.
        """
        member = self.members.pop(member_id, None)
        if member is not None:
            self._count_protocols(member, -1)
            if member.group_instance_id is not None:
                if self.static_members.get(member.group_instance_id) == member_id:
                    del self.static_members[member.group_instance_id]
            cancel(member.timer)
            member.timer = None
        if self.leader_id == member_id:
            self.leader_id = next(iter(self.members), None)
        cancel(self.pending_members.pop(member_id, None))
        self.pending_sync.discard(member_id)
        return member

    def cancel_timers(self) -> None:
        """Cancel every pending call of this group and of its members."""
        for timer in (self.join_timer, self.sync_timer, *self.pending_members.values()):
            cancel(timer)
        self.join_timer = self.sync_timer = None
        for member_id in self.pending_members:
            self.pending_members[member_id] = None
        for member in self.members.values():
            cancel(member.timer)
            member.timer = None

    def update_protocols(self, member: Member, protocols: list[tuple[str, bytes]]) -> None:
        """Replace C{member}'s protocols, keeping the supported-protocol counts right."""
        self._count_protocols(member, -1)
        member.protocols = list(protocols)
        self._count_protocols(member, 1)

    def replace_static_member(self, instance_id: str, old_id: str, new_id: str) -> Member:
        """Give the static member of C{instance_id} its new member id C{new_id}."""
        member = self.members.pop(old_id)
        member.member_id = new_id
        self.members[new_id] = member
        if self.leader_id == old_id:
            self.leader_id = new_id
        if old_id in self.pending_sync:
            self.pending_sync.discard(old_id)
            self.pending_sync.add(new_id)
        self.static_members[instance_id] = new_id
        return member

    def _count_protocols(self, member: Member, delta: int) -> None:
        counts = self.supported_protocols
        for name in set(member.protocol_names):
            count = counts.get(name, 0) + delta
            if count:
                counts[name] = count
            else:
                counts.pop(name, None)

    @property
    def all_members_joined(self) -> bool:
        """Whether every member has a JoinGroup waiting and no id is pending."""
        return (not self.pending_members
                and all(m.awaiting_join for m in self.members.values()))

    @property
    def rebalance_timeout_ms(self) -> int:
        """The longest rebalance timeout of the members (0 without members)."""
        return max((m.rebalance_timeout_ms for m in self.members.values()), default=0)

    # -- protocols -----------------------------------------------------------

    def supports_protocols(self, protocol_type: str, names: list[str]) -> bool:
        """Whether a member joining with C{protocol_type} and C{names} can join.

        An empty group takes any non-empty type and protocol list; otherwise
        the type must be the group's and one protocol must be supported by
        every member.
        """
        if self.state is GroupState.EMPTY:
            return bool(protocol_type) and bool(names)
        if protocol_type != self.protocol_type:
            return False
        everyone = len(self.members)
        return any(self.supported_protocols.get(name, 0) == everyone for name in names)

    def select_protocol(self) -> str:
        """Return the protocol every member supports that most members prefer.

        Ties go to the protocol preferred by the earliest member.
        """
        everyone = len(self.members)
        candidates = {name for name, count in self.supported_protocols.items()
                      if count == everyone}
        votes: dict[str, int] = {}
        for member in self.members.values():
            choice = member.vote(candidates)
            votes[choice] = votes.get(choice, 0) + 1
        return max(votes, key=lambda name: votes[name])

    def member_metadata(self) -> tuple[JoinedMember, ...]:
        """Every member with its metadata for the selected protocol (for the leader)."""
        protocol = self.protocol_name or ""
        return tuple(JoinedMember(m.member_id, m.group_instance_id, m.metadata(protocol))
                     for m in self.members.values())

    def compute_subscribed_topics(self) -> frozenset[str] | None:
        """Return the union of the consumer subscriptions, or C{None} if unknown."""
        if self.protocol_type != CONSUMER_PROTOCOL_TYPE:
            return None
        if not self.members:
            return frozenset()
        if self.protocol_name is None:
            return None
        topics: set[str] = set()
        for member in self.members.values():
            try:
                _, subscription = messages.decode_data(
                    "ConsumerProtocolSubscription", member.metadata(self.protocol_name))
            except (DecodeError, ValueError):
                return None
            topics.update(subscription.get("topics") or ())
        return frozenset(topics)

    def is_subscribed_to(self, topic: str) -> bool:
        """Whether the members consume C{topic} (C{True} when unknown, to be safe)."""
        if self.subscribed_topics is None:
            return True
        return topic in self.subscribed_topics
