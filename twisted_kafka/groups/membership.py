# -*- test-case-name: tests.groups.test_membership -*-
"""The classic group membership protocol of one vhost, driven by a clock.

This is Kafka's classic group coordinator (C{GroupCoordinator.scala}, later
C{GroupMetadataManager}'s classic half) without the network: JoinGroup,
SyncGroup, Heartbeat and LeaveGroup move each group through Empty,
PreparingRebalance, CompletingRebalance and Stable, and timers on the
injected clock expire members and finish rebalances.

- A rebalance starts when a member joins, changes its protocols, the leader
  rejoins, or a member leaves or fails.  It completes when every known member
  has rejoined (then each JoinGroup is answered: the leader gets every
  member's metadata), or after the longest rebalance timeout, when members
  that did not rejoin are dropped (static members are kept).  The first
  rebalance of an empty group waits C{group_initial_rebalance_delay_ms}, again
  while new members keep arriving, up to the rebalance timeout.
- The protocol is the one every member supports that most members list
  first; the leader is the earliest member that rejoined.
- After a rebalance every member must send SyncGroup within the rebalance
  timeout; the leader's carries the assignment, which every waiting member
  then receives, and the group is Stable.  Members that never sync are dropped
  and the group rebalances.
- Each member must heartbeat within its session timeout, except while its
  JoinGroup or SyncGroup is waiting; a new member's JoinGroup may wait at most
  C{new_member_join_timeout_ms}.
- JoinGroup v4+ without an id gets MEMBER_ID_REQUIRED and a new id, which it
  must use within its session timeout.  Static members (group.instance.id)
  rejoining with no id take over their old id's place: the old id is fenced
  (FENCED_INSTANCE_ID) and, in a Stable group whose protocol does not change,
  no rebalance happens.

Answers that wait are given to callbacks; every callback handed in is called
exactly once.
"""

from __future__ import annotations

import uuid
from typing import Callable, NamedTuple, Protocol, Sequence

from twisted.internet.interfaces import IDelayedCall, IReactorTime

from twisted.logger import Logger

from twisted_kafka.errors import ErrorCode
from twisted_kafka.groups.group import ClassicGroup, GroupState, cancel
from twisted_kafka.groups.member import Member
from twisted_kafka.groups.results import (
    JoinCallback, JoinResult, SyncCallback, SyncResult, join_error)
from twisted_kafka.groups.settings import GroupSettings

EMPTY = GroupState.EMPTY
PREPARING = GroupState.PREPARING_REBALANCE
COMPLETING = GroupState.COMPLETING_REBALANCE
STABLE = GroupState.STABLE
DEAD = GroupState.DEAD


class GroupJournal(Protocol):
    """Where group changes worth keeping across restarts are recorded."""

    def group_changed(self, group: ClassicGroup) -> None:
        """C{group} became empty, or stopped being empty."""

    def group_deleted(self, group_id: str) -> None:
        """The group and all its offsets are gone."""


class _NoJournal:
    """A journal that keeps nothing (for groups that need no persistence)."""

    def group_changed(self, group: ClassicGroup) -> None:
        """Keep nothing."""

    def group_deleted(self, group_id: str) -> None:
        """Keep nothing."""


class JoinRequest(NamedTuple):
    """The parts of a JoinGroup request the state machine uses.

    @ivar member_id: C{""} for a member without an id yet.
    @ivar require_known_member_id: answer an id-less dynamic member with
        MEMBER_ID_REQUIRED (JoinGroup v4+).
    @ivar supports_skip_assignment: the client understands C{skip_assignment}
        (JoinGroup v9+).
    """

    group_id: str
    member_id: str
    group_instance_id: str | None
    client_id: str
    client_host: str
    session_timeout_ms: int
    rebalance_timeout_ms: int
    protocol_type: str
    protocols: Sequence[tuple[str, bytes]]
    require_known_member_id: bool = True
    supports_skip_assignment: bool = False
    reason: str | None = None


class LeavingMember(NamedTuple):
    """One member a LeaveGroup names (by id, or by instance id with an empty id)."""

    member_id: str
    group_instance_id: str | None = None
    reason: str | None = None


class Membership:
    """Runs the classic protocol for the groups in C{groups}.

    @ivar groups: the vhost's groups by id (shared with the offsets side).
    """

    log = Logger()

    def __init__(self, groups: dict[str, ClassicGroup], clock: IReactorTime, settings: GroupSettings,
                 journal: GroupJournal | None = None) -> None:
        self.groups = groups
        self.clock = clock
        self.settings = settings
        self.journal: GroupJournal = journal or _NoJournal()

    def now_ms(self) -> int:
        """Return the clock's time in milliseconds."""
        return int(self.clock.seconds() * 1000)

    def _later(self, delay_ms: int, f: Callable[..., None], *args: object) -> IDelayedCall:
        return self.clock.callLater(max(delay_ms, 0) / 1000.0, f, *args)

    def create_group(self, group_id: str) -> ClassicGroup:
        """Return the group C{group_id}, created Empty if it does not exist."""
        group = self.groups.get(group_id)
        if group is None:
            group = self.groups[group_id] = ClassicGroup(group_id, self.now_ms())
        return group

    # -- JoinGroup -------------------------------------------------------------

    def join(self, request: JoinRequest, callback: JoinCallback) -> None:
        """Handle a JoinGroup; C{callback} gets the result, maybe after a rebalance."""
        if not request.group_id:
            callback(join_error(request.member_id, ErrorCode.INVALID_GROUP_ID))
            return
        settings = self.settings
        if not (settings.group_min_session_timeout_ms <= request.session_timeout_ms
                <= settings.group_max_session_timeout_ms):
            callback(join_error(request.member_id, ErrorCode.INVALID_SESSION_TIMEOUT))
            return
        new_member = request.member_id == ""
        group = self.groups.get(request.group_id)
        created = False
        if group is None:
            if not new_member:
                callback(join_error(request.member_id, ErrorCode.UNKNOWN_MEMBER_ID))
                return
            group = self.create_group(request.group_id)
            created = True
        if new_member:
            self._join_new_member(group, request, callback)
        else:
            self._join_current_member(group, request, callback)
        if group.is_in(PREPARING):
            self._try_complete_join(group)
        if (created and group.is_in(EMPTY) and not group.members
                and not group.pending_members and not group.offsets):
            del self.groups[group.group_id]

    def _join_new_member(self, group: ClassicGroup, request: JoinRequest,
                         callback: JoinCallback) -> None:
        if group.is_in(DEAD):
            callback(join_error("", ErrorCode.COORDINATOR_NOT_AVAILABLE))
            return
        if not group.supports_protocols(request.protocol_type,
                                        [name for name, _ in request.protocols]):
            callback(join_error("", ErrorCode.INCONSISTENT_GROUP_PROTOCOL))
            return
        instance_id = request.group_instance_id
        new_id = f"{instance_id if instance_id is not None else request.client_id}-{uuid.uuid4()}"
        if instance_id is not None:
            old_id = group.static_member_id(instance_id)
            if old_id is not None:
                self._replace_static_member(group, old_id, new_id, request, callback)
            else:
                self._add_member_and_rebalance(group, new_id, request, callback)
        elif request.require_known_member_id:
            group.pending_members[new_id] = self._later(
                request.session_timeout_ms, self._pending_member_expired, group, new_id)
            callback(join_error(new_id, ErrorCode.MEMBER_ID_REQUIRED))
        else:
            self._add_member_and_rebalance(group, new_id, request, callback)

    def _join_current_member(self, group: ClassicGroup, request: JoinRequest,
                             callback: JoinCallback) -> None:
        member_id = request.member_id
        if group.is_in(DEAD):
            callback(join_error(member_id, ErrorCode.COORDINATOR_NOT_AVAILABLE))
            return
        if not group.supports_protocols(request.protocol_type,
                                        [name for name, _ in request.protocols]):
            callback(join_error(member_id, ErrorCode.INCONSISTENT_GROUP_PROTOCOL))
            return
        if group.is_pending(member_id):
            self._add_member_and_rebalance(group, member_id, request, callback)
            return
        error = self.validate_member(group, member_id, request.group_instance_id)
        if error is not None:
            callback(join_error(member_id, error))
            return
        member = group.members[member_id]
        if group.is_in(PREPARING):
            self._update_member_and_rebalance(group, member, request, callback)
        elif group.is_in(COMPLETING):
            if member.matches(request.protocols):
                # A retry of a JoinGroup whose answer was lost: answer it again.
                callback(self._join_result(group, member))
            else:
                self._update_member_and_rebalance(group, member, request, callback)
        elif group.is_in(STABLE):
            if group.is_leader(member_id) or not member.matches(request.protocols):
                # The leader rejoins to make the group reassign (e.g. new partitions).
                self._update_member_and_rebalance(group, member, request, callback)
            else:
                callback(self._join_result(group, member, with_members=False))
        else:
            callback(join_error(member_id, ErrorCode.UNKNOWN_MEMBER_ID))

    def _join_result(self, group: ClassicGroup, member: Member, with_members: bool = True,
                     leader: str | None = None, skip_assignment: bool = False) -> JoinResult:
        """The successful JoinGroup answer for C{member} in the current generation."""
        is_leader = group.is_leader(member.member_id)
        return JoinResult(
            error=ErrorCode.NONE,
            member_id=member.member_id,
            generation_id=group.generation_id,
            protocol_type=group.protocol_type,
            protocol_name=group.protocol_name,
            leader=(group.leader_id or "") if leader is None else leader,
            skip_assignment=skip_assignment,
            members=group.member_metadata() if with_members and is_leader else (),
        )

    def _add_member_and_rebalance(self, group: ClassicGroup, member_id: str,
                                  request: JoinRequest, callback: JoinCallback) -> None:
        member = Member(member_id, request.group_instance_id, request.client_id,
                        request.client_host, request.session_timeout_ms,
                        self._rebalance_timeout(request), request.protocol_type,
                        request.protocols)
        member.is_new = True
        if group.is_in(PREPARING) and group.generation_id == 0:
            group.new_member_added = True
        group.add(member)
        member.join_callback = callback
        # A new member cannot heartbeat before it has its generation: bound its wait.
        self._expect_heartbeat(group, member, self.settings.new_member_join_timeout_ms)
        self._maybe_prepare_rebalance(group, f"new member {member_id} joined")

    def _rebalance_timeout(self, request: JoinRequest) -> int:
        if request.rebalance_timeout_ms < 0:
            return request.session_timeout_ms
        return request.rebalance_timeout_ms

    def _update_member(self, group: ClassicGroup, member: Member, request: JoinRequest,
                       callback: JoinCallback | None) -> None:
        group.update_protocols(member, list(request.protocols))
        member.session_timeout_ms = request.session_timeout_ms
        member.rebalance_timeout_ms = self._rebalance_timeout(request)
        previous = member.join_callback
        member.join_callback = callback
        if previous is not None and previous is not callback:
            previous(join_error(member.member_id, ErrorCode.REBALANCE_IN_PROGRESS))

    def _update_member_and_rebalance(self, group: ClassicGroup, member: Member,
                                     request: JoinRequest, callback: JoinCallback) -> None:
        self._update_member(group, member, request, callback)
        self._maybe_prepare_rebalance(group, f"member {member.member_id} rejoined")

    def _replace_static_member(self, group: ClassicGroup, old_id: str, new_id: str,
                               request: JoinRequest, callback: JoinCallback) -> None:
        """A static member rejoined without its id: it takes over its old place."""
        instance_id = request.group_instance_id
        assert instance_id is not None
        current_leader = group.leader_id or ""
        member = group.members[old_id]
        self._fence(member)
        group.replace_static_member(instance_id, old_id, new_id)
        self._expect_heartbeat(group, member)
        self._update_member(group, member, request, callback)
        if group.is_in(STABLE):
            if group.select_protocol() == group.protocol_name:
                # Nothing changes for the others: answer without a rebalance.
                member.join_callback = None
                if request.supports_skip_assignment:
                    is_leader = group.is_leader(new_id)
                    result = self._join_result(group, member, with_members=is_leader,
                                               skip_assignment=is_leader)
                else:
                    # Older clients must not think they lead: give the old leader id.
                    result = self._join_result(group, member, with_members=False,
                                               leader=current_leader)
                callback(result)
            else:
                self._maybe_prepare_rebalance(
                    group, f"static member {instance_id} rejoined with other protocols")
        elif group.is_in(COMPLETING):
            # The leader may be assigning to the old id: start over.
            self._prepare_rebalance(group, f"static member {instance_id} rejoined")

    def _fence(self, member: Member) -> None:
        """Answer the waiting requests of a static member's replaced id."""
        join, sync = member.join_callback, member.sync_callback
        member.join_callback = member.sync_callback = None
        if join is not None:
            join(join_error(member.member_id, ErrorCode.FENCED_INSTANCE_ID))
        if sync is not None:
            sync(SyncResult(ErrorCode.FENCED_INSTANCE_ID))

    # -- rebalancing -----------------------------------------------------------

    def _maybe_prepare_rebalance(self, group: ClassicGroup, reason: str) -> None:
        if group.can_rebalance:
            self._prepare_rebalance(group, reason)

    def _prepare_rebalance(self, group: ClassicGroup, reason: str) -> None:
        if group.is_in(COMPLETING):
            self._reset_and_propagate_assignment_error(group, ErrorCode.REBALANCE_IN_PROGRESS)
        cancel(group.sync_timer)
        group.sync_timer = None
        cancel(group.join_timer)
        was_empty = group.is_in(EMPTY)
        group.transition_to(PREPARING, self.now_ms())
        self.log.info("Preparing to rebalance group {group} (generation {generation}): {reason}",
                      group=group.group_id, generation=group.generation_id, reason=reason)
        if was_empty:
            group.empty_since = -1
            self.journal.group_changed(group)
            delay = self.settings.group_initial_rebalance_delay_ms
            remaining = max(group.rebalance_timeout_ms - delay, 0)
            group.initial_delay = True
            group.new_member_added = False
            group.join_timer = self._later(delay, self._join_timer_fired, group, delay, remaining)
        else:
            group.initial_delay = False
            group.join_timer = self._later(
                group.rebalance_timeout_ms, self._join_timer_fired, group, 0, 0)
            self._try_complete_join(group)

    def _join_timer_fired(self, group: ClassicGroup, delay: int, remaining: int) -> None:
        group.join_timer = None
        if not group.is_in(PREPARING) or self.groups.get(group.group_id) is not group:
            return
        if group.initial_delay and group.new_member_added and remaining > 0:
            group.new_member_added = False
            next_delay = min(self.settings.group_initial_rebalance_delay_ms, remaining)
            group.join_timer = self._later(next_delay, self._join_timer_fired, group,
                                           next_delay, max(remaining - delay, 0))
            return
        group.initial_delay = False
        self._complete_join(group)

    def _try_complete_join(self, group: ClassicGroup) -> None:
        """Finish the join phase now if nobody else is expected (not during the initial delay)."""
        if group.is_in(PREPARING) and not group.initial_delay and group.all_members_joined:
            self._complete_join(group)

    def _complete_join(self, group: ClassicGroup) -> None:
        """End the join phase: drop who did not rejoin, start the next generation."""
        cancel(group.join_timer)
        group.join_timer = None
        for member in list(group.members.values()):
            if not member.awaiting_join and member.group_instance_id is None:
                self.log.info("Group {group}: member {member} did not rejoin; removing it",
                              group=group.group_id, member=member.member_id)
                self._drop(group, member)
        if group.is_in(DEAD):
            return
        if group.members and not self._elect_joined_leader(group):
            # Only static members that have not rejoined: wait for them (or their expiry).
            group.join_timer = self._later(
                group.rebalance_timeout_ms, self._join_timer_fired, group, 0, 0)
            return
        group.generation_id += 1
        now = self.now_ms()
        group.pending_sync.clear()
        if not group.members:
            group.protocol_name = None
            group.subscribed_topics = group.compute_subscribed_topics()
            group.transition_to(EMPTY, now)
            group.empty_since = now
            self.journal.group_changed(group)
            self.log.info("Group {group} is empty at generation {generation}",
                          group=group.group_id, generation=group.generation_id)
            return
        group.protocol_name = group.select_protocol()
        group.subscribed_topics = group.compute_subscribed_topics()
        group.transition_to(COMPLETING, now)
        self.log.info("Group {group} generation {generation}: {count} members, leader {leader}, "
                      "protocol {protocol}", group=group.group_id,
                      generation=group.generation_id, count=len(group.members),
                      leader=group.leader_id, protocol=group.protocol_name)
        for member in list(group.members.values()):
            callback = member.join_callback
            member.join_callback = None
            if callback is not None:
                callback(self._join_result(group, member))
            self._expect_heartbeat(group, member)
            member.is_new = False
            group.pending_sync.add(member.member_id)
        group.sync_timer = self._later(group.rebalance_timeout_ms, self._sync_timer_fired,
                                       group, group.generation_id)

    def _elect_joined_leader(self, group: ClassicGroup) -> bool:
        """Keep the leader if it rejoined, else pick a member that did; False if none did."""
        if group.leader_id is None:
            return False
        if group.members[group.leader_id].awaiting_join:
            return True
        for member in group.members.values():
            if member.awaiting_join:
                group.leader_id = member.member_id
                return True
        return False

    def _sync_timer_fired(self, group: ClassicGroup, generation_id: int) -> None:
        group.sync_timer = None
        if (generation_id != group.generation_id or not group.is_in(COMPLETING, STABLE)
                or self.groups.get(group.group_id) is not group or not group.pending_sync):
            return
        late = sorted(group.pending_sync)
        self.log.info("Group {group}: members {members} did not sync in time; removing them",
                      group=group.group_id, members=late)
        for member_id in late:
            member = group.members.get(member_id)
            if member is not None:
                self._drop(group, member)
        self._prepare_rebalance(group, f"members {late} did not sync")

    def _synced(self, group: ClassicGroup, member_id: str) -> None:
        group.pending_sync.discard(member_id)
        if not group.pending_sync:
            cancel(group.sync_timer)
            group.sync_timer = None

    def _reset_and_propagate_assignment_error(self, group: ClassicGroup, error: ErrorCode) -> None:
        for member in group.members.values():
            member.assignment = b""
        self._propagate_assignment(group, error)

    def _propagate_assignment(self, group: ClassicGroup, error: ErrorCode) -> None:
        for member in list(group.members.values()):
            callback = member.sync_callback
            if callback is None:
                continue
            member.sync_callback = None
            if error == ErrorCode.NONE:
                callback(SyncResult(error, member.assignment, group.protocol_type,
                                    group.protocol_name))
            else:
                callback(SyncResult(error))
            self._expect_heartbeat(group, member)

    # -- member expiry ---------------------------------------------------------

    def _expect_heartbeat(self, group: ClassicGroup, member: Member,
                          timeout_ms: int | None = None) -> None:
        """(Re)start C{member}'s session timer."""
        cancel(member.timer)
        member.timer = self._later(
            member.session_timeout_ms if timeout_ms is None else timeout_ms,
            self._session_expired, group, member)

    def _session_expired(self, group: ClassicGroup, member: Member) -> None:
        member.timer = None
        if (self.groups.get(group.group_id) is not group
                or group.members.get(member.member_id) is not member):
            return
        if member.is_new or not (member.awaiting_join or member.awaiting_sync):
            self.log.info("Group {group}: member {member} failed (session timeout); removing it",
                          group=group.group_id, member=member.member_id)
            self._remove_member_and_update_group(group, member, "failed")

    def _pending_member_expired(self, group: ClassicGroup, member_id: str) -> None:
        if group.pending_members.get(member_id) is None:
            return
        group.pending_members[member_id] = None
        self._remove_pending_member(group, member_id)

    def _remove_pending_member(self, group: ClassicGroup, member_id: str) -> None:
        group.remove(member_id)
        if group.is_in(PREPARING):
            self._try_complete_join(group)

    def _drop(self, group: ClassicGroup, member: Member) -> None:
        """Remove C{member}, answering its waiting requests with UNKNOWN_MEMBER_ID."""
        join, sync = member.join_callback, member.sync_callback
        member.join_callback = member.sync_callback = None
        group.remove(member.member_id)
        if join is not None:
            join(join_error("", ErrorCode.UNKNOWN_MEMBER_ID))
        if sync is not None:
            sync(SyncResult(ErrorCode.UNKNOWN_MEMBER_ID))

    def _remove_member_and_update_group(self, group: ClassicGroup, member: Member,
                                        why: str = "left") -> None:
        self._drop(group, member)
        if group.is_in(STABLE, COMPLETING):
            self._maybe_prepare_rebalance(group, f"member {member.member_id} {why}")
        elif group.is_in(PREPARING):
            self._try_complete_join(group)

    # -- validation ------------------------------------------------------------

    def validate_member(self, group: ClassicGroup, member_id: str,
                        instance_id: str | None) -> ErrorCode | None:
        """Check C{member_id} (and its static identity) against C{group}.

        @return: FENCED_INSTANCE_ID when the instance id now belongs to another
            member id, UNKNOWN_MEMBER_ID when the member is not in the group,
            else C{None}.
        """
        if instance_id is not None:
            current = group.static_member_id(instance_id)
            if current is None:
                return ErrorCode.UNKNOWN_MEMBER_ID
            if current != member_id:
                return ErrorCode.FENCED_INSTANCE_ID
        if not group.has(member_id):
            return ErrorCode.UNKNOWN_MEMBER_ID
        return None

    def _validate_generation(self, group: ClassicGroup, member_id: str, instance_id: str | None,
                             generation_id: int) -> ErrorCode | None:
        if group.is_in(DEAD):
            return ErrorCode.COORDINATOR_NOT_AVAILABLE
        error = self.validate_member(group, member_id, instance_id)
        if error is None and generation_id != group.generation_id:
            error = ErrorCode.ILLEGAL_GENERATION
        return error

    # -- SyncGroup -------------------------------------------------------------

    def sync(self, group_id: str, generation_id: int, member_id: str,
             group_instance_id: str | None, protocol_type: str | None,
             protocol_name: str | None, assignments: dict[str, bytes],
             callback: SyncCallback) -> None:
        """Handle a SyncGroup; C{callback} gets this member's assignment (maybe later)."""
        if not group_id:
            callback(SyncResult(ErrorCode.INVALID_GROUP_ID))
            return
        group = self.groups.get(group_id)
        if group is None:
            callback(SyncResult(ErrorCode.UNKNOWN_MEMBER_ID))
            return
        error = self._validate_generation(group, member_id, group_instance_id, generation_id)
        if error is None and (
                (protocol_type is not None and protocol_type != group.protocol_type)
                or (protocol_name is not None and protocol_name != group.protocol_name)):
            error = ErrorCode.INCONSISTENT_GROUP_PROTOCOL
        if error is not None:
            callback(SyncResult(error))
            return
        member = group.members[member_id]
        if group.is_in(EMPTY):
            callback(SyncResult(ErrorCode.UNKNOWN_MEMBER_ID))
        elif group.is_in(PREPARING):
            callback(SyncResult(ErrorCode.REBALANCE_IN_PROGRESS))
        elif group.is_in(COMPLETING):
            previous = member.sync_callback
            member.sync_callback = callback
            if previous is not None:
                previous(SyncResult(ErrorCode.REBALANCE_IN_PROGRESS))
            self._synced(group, member_id)
            if group.is_leader(member_id):
                self.log.info("Group {group} generation {generation}: assignment from leader "
                              "{leader}", group=group.group_id,
                              generation=group.generation_id, leader=member_id)
                for m in group.members.values():
                    m.assignment = assignments.get(m.member_id, b"")
                group.transition_to(STABLE, self.now_ms())
                self._propagate_assignment(group, ErrorCode.NONE)
        else:
            self._synced(group, member_id)
            callback(SyncResult(ErrorCode.NONE, member.assignment, group.protocol_type,
                                group.protocol_name))
            self._expect_heartbeat(group, member)

    # -- Heartbeat -------------------------------------------------------------

    def heartbeat(self, group_id: str, member_id: str, group_instance_id: str | None,
                  generation_id: int) -> ErrorCode:
        """Handle a Heartbeat and return its error code."""
        if not group_id:
            return ErrorCode.INVALID_GROUP_ID
        group = self.groups.get(group_id)
        if group is None:
            return ErrorCode.UNKNOWN_MEMBER_ID
        error = self._validate_generation(group, member_id, group_instance_id, generation_id)
        if error is not None:
            return error
        if group.is_in(EMPTY):
            return ErrorCode.UNKNOWN_MEMBER_ID
        self._expect_heartbeat(group, group.members[member_id])
        if group.is_in(PREPARING):
            return ErrorCode.REBALANCE_IN_PROGRESS
        return ErrorCode.NONE

    def touch(self, group: ClassicGroup, member_id: str) -> None:
        """Count an offset commit of C{member_id} as a heartbeat."""
        member = group.members.get(member_id)
        if member is not None:
            self._expect_heartbeat(group, member)

    # -- LeaveGroup ------------------------------------------------------------

    def leave(self, group_id: str, leaving: Sequence[LeavingMember]
              ) -> tuple[ErrorCode, list[ErrorCode]]:
        """Handle a LeaveGroup: return the request's error and one error per member."""
        if not group_id:
            return ErrorCode.INVALID_GROUP_ID, []
        group = self.groups.get(group_id)
        if group is None:
            return ErrorCode.UNKNOWN_MEMBER_ID, []
        if group.is_in(DEAD):
            return ErrorCode.COORDINATOR_NOT_AVAILABLE, []
        errors = []
        for who in leaving:
            errors.append(self._leave_one(group, who))
        return ErrorCode.NONE, errors

    def _leave_one(self, group: ClassicGroup, who: LeavingMember) -> ErrorCode:
        if who.member_id == "":
            # Removal of a static member by its instance id (administrative).
            current = group.static_member_id(who.group_instance_id)
            if current is None:
                return ErrorCode.UNKNOWN_MEMBER_ID
            member_id = current
        elif group.is_pending(who.member_id):
            self._remove_pending_member(group, who.member_id)
            return ErrorCode.NONE
        else:
            error = self.validate_member(group, who.member_id, who.group_instance_id)
            if error is not None:
                return error
            member_id = who.member_id
        self.log.info("Group {group}: member {member} left ({reason})", group=group.group_id,
                      member=member_id, reason=who.reason or "no reason given")
        self._remove_member_and_update_group(group, group.members[member_id])
        return ErrorCode.NONE

    # -- whole groups ----------------------------------------------------------

    def delete(self, group_id: str) -> ErrorCode:
        """Delete an empty group and its offsets; return the group's error code."""
        group = self.groups.get(group_id)
        if group is None or group.is_in(DEAD):
            return ErrorCode.GROUP_ID_NOT_FOUND
        if not group.is_in(EMPTY):
            return ErrorCode.NON_EMPTY_GROUP
        self.remove_group(group)
        return ErrorCode.NONE

    def remove_group(self, group: ClassicGroup) -> None:
        """Mark an empty group Dead and forget it (and its offsets)."""
        group.cancel_timers()
        group.transition_to(DEAD, self.now_ms())
        if self.groups.get(group.group_id) is group:
            del self.groups[group.group_id]
        if group.persisted:
            self.journal.group_deleted(group.group_id)
        group.offsets.clear()

    def shutdown(self) -> None:
        """Cancel every timer (the coordinator is stopping)."""
        for group in self.groups.values():
            group.cancel_timers()
