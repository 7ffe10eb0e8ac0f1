# -*- test-case-name: tests.groups.test_membership -*-
"""Tests for L{twisted_kafka.groups.membership}: the classic protocol on a fake clock."""

from __future__ import annotations

from typing import Any

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.errors import ErrorCode
from twisted_kafka.groups.group import GroupState
from twisted_kafka.groups.membership import JoinRequest, LeavingMember, Membership
from twisted_kafka.groups.results import JoinResult, SyncResult
from twisted_kafka.groups.settings import GroupSettings

DELAY_MS = 3000
SESSION_MS = 10000
REBALANCE_MS = 30000


class Waiter:
    """A callback that records what it was called with."""

    def __init__(self) -> None:
        self.results: list[Any] = []

    def __call__(self, result: Any) -> None:
        """Record C{result}."""
        self.results.append(result)

    @property
    def done(self) -> bool:
        """Whether an answer came."""
        return bool(self.results)

    @property
    def result(self) -> Any:
        """The one answer."""
        assert len(self.results) == 1, self.results
        return self.results[0]


class MembershipCase(SynchronousTestCase):
    """Builds a L{Membership} on a L{Clock} and drives members through it."""

    def setUp(self) -> None:
        """Create the state machine."""
        self.clock = Clock()
        self.clock.advance(1000)
        self.groups: dict = {}
        self.membership = Membership(self.groups, self.clock,
                                     GroupSettings(group_initial_rebalance_delay_ms=DELAY_MS))

    def join(self, member_id: str = "", group_id: str = "g", instance: str | None = None,
             protocols: list[tuple[str, bytes]] | None = None, session: int = SESSION_MS,
             rebalance: int = REBALANCE_MS, require_known: bool = True,
             skip: bool = False, protocol_type: str = "consumer") -> Waiter:
        """Send a JoinGroup; return its callback."""
        waiter = Waiter()
        self.membership.join(JoinRequest(
            group_id=group_id, member_id=member_id, group_instance_id=instance,
            client_id="client", client_host="/127.0.0.1", session_timeout_ms=session,
            rebalance_timeout_ms=rebalance, protocol_type=protocol_type,
            protocols=protocols if protocols is not None else [("range", b"meta")],
            require_known_member_id=require_known, supports_skip_assignment=skip), waiter)
        return waiter

    def new_member(self, **kwargs: Any) -> tuple[str, Waiter]:
        """Join without an id, get MEMBER_ID_REQUIRED, rejoin with the id; return both."""
        first = self.join(**kwargs)
        self.assertEqual(first.result.error, ErrorCode.MEMBER_ID_REQUIRED)
        member_id = first.result.member_id
        return member_id, self.join(member_id=member_id, **kwargs)

    def sync(self, member_id: str, generation: int, assignments: dict | None = None,
             group_id: str = "g", instance: str | None = None) -> Waiter:
        """Send a SyncGroup; return its callback."""
        waiter = Waiter()
        self.membership.sync(group_id, generation, member_id, instance, None, None,
                             assignments or {}, waiter)
        return waiter

    def heartbeat(self, member_id: str, generation: int, instance: str | None = None) -> ErrorCode:
        """Send a Heartbeat; return its error."""
        return self.membership.heartbeat("g", member_id, instance, generation)

    def settle(self) -> None:
        """Let the initial delay pass twice: members that joined together are then answered."""
        self.clock.advance(DELAY_MS / 1000)
        self.clock.advance(DELAY_MS / 1000)

    def state(self, group_id: str = "g") -> GroupState:
        """Return the group's state."""
        return self.groups[group_id].state

    def stable_pair(self) -> tuple[str, str, int]:
        """Bring members A (leader) and B into a Stable group; return their ids and generation."""
        a, join_a = self.new_member()
        b, join_b = self.new_member()
        self.settle()
        generation = join_a.result.generation_id
        self.assertEqual(join_a.result.leader, a)
        sync_b = self.sync(b, generation)
        sync_a = self.sync(a, generation, {a: b"to-a", b: b"to-b"})
        self.assertEqual(sync_a.result.assignment, b"to-a")
        self.assertEqual(sync_b.result.assignment, b"to-b")
        self.assertIs(self.state(), GroupState.STABLE)
        return a, b, generation


class JoinTests(MembershipCase):
    """JoinGroup: ids, the initial delay, generations, leaders and protocols."""

    def test_member_id_required(self) -> None:
        """A v4+ member without an id gets one with MEMBER_ID_REQUIRED and no generation."""
        waiter = self.join()
        result = waiter.result
        self.assertEqual(result.error, ErrorCode.MEMBER_ID_REQUIRED)
        self.assertTrue(result.member_id.startswith("client-"))
        self.assertEqual(result.generation_id, -1)
        self.assertTrue(self.groups["g"].is_pending(result.member_id))

    def test_first_join_waits_for_initial_delay(self) -> None:
        """The first rebalance of an empty group answers only after the initial delay."""
        member_id, waiter = self.new_member()
        self.assertIs(self.state(), GroupState.PREPARING_REBALANCE)
        self.clock.advance(DELAY_MS / 1000 - 0.001)
        self.assertFalse(waiter.done)
        self.clock.advance(0.001)
        result = waiter.result
        self.assertEqual(
            (result.error, result.member_id, result.generation_id, result.leader,
             result.protocol_type, result.protocol_name),
            (ErrorCode.NONE, member_id, 1, member_id, "consumer", "range"))
        self.assertEqual([(m.member_id, m.metadata) for m in result.members],
                         [(member_id, b"meta")])
        self.assertIs(self.state(), GroupState.COMPLETING_REBALANCE)

    def test_initial_delay_extended_by_new_members(self) -> None:
        """Members arriving during the initial delay extend it, up to the rebalance timeout."""
        a, join_a = self.new_member()
        self.clock.advance(2.0)
        b, join_b = self.new_member()
        self.clock.advance(1.0)  # the first delay ends: a member was added, wait again
        self.assertFalse(join_a.done)
        self.clock.advance(DELAY_MS / 1000)
        self.assertEqual(join_a.result.generation_id, 1)
        self.assertEqual(join_b.result.generation_id, 1)
        self.assertEqual(join_a.result.leader, a)
        self.assertEqual(join_b.result.leader, a)
        self.assertEqual({m.member_id for m in join_a.result.members}, {a, b})
        self.assertEqual(join_b.result.members, ())

    def test_initial_delay_bounded_by_rebalance_timeout(self) -> None:
        """New members keep extending the delay only until the rebalance timeout."""
        start = self.clock.seconds()
        a, join_a = self.new_member(rebalance=5000)
        while not join_a.done:
            self.clock.advance(1.0)
            self.new_member(rebalance=5000)
        # 3 s, then only the 2 s left of the 5 s rebalance timeout.
        self.assertEqual(self.clock.seconds() - start, 5.0)

    def test_old_clients_join_without_member_id_round_trip(self) -> None:
        """JoinGroup v0-3 (no MEMBER_ID_REQUIRED) joins at once with a new id."""
        waiter = self.join(require_known=False)
        self.clock.advance(DELAY_MS / 1000)
        self.assertEqual(waiter.result.error, ErrorCode.NONE)
        self.assertEqual(waiter.result.leader, waiter.result.member_id)

    def test_invalid_session_timeout(self) -> None:
        """Session timeouts outside the broker's bounds are refused, no group is created."""
        self.assertEqual(self.join(session=5999).result.error, ErrorCode.INVALID_SESSION_TIMEOUT)
        self.assertEqual(self.join(session=1800001).result.error,
                         ErrorCode.INVALID_SESSION_TIMEOUT)
        self.assertEqual(self.groups, {})

    def test_empty_group_id(self) -> None:
        """An empty group id is INVALID_GROUP_ID."""
        self.assertEqual(self.join(group_id="").result.error, ErrorCode.INVALID_GROUP_ID)

    def test_unknown_member_of_unknown_group(self) -> None:
        """A member id for a group that does not exist is UNKNOWN_MEMBER_ID."""
        self.assertEqual(self.join(member_id="nobody").result.error, ErrorCode.UNKNOWN_MEMBER_ID)
        self.assertEqual(self.groups, {})

    def test_inconsistent_protocols(self) -> None:
        """A member sharing no protocol with the group, or of another type, is refused."""
        self.new_member(protocols=[("range", b"")])
        self.assertEqual(self.join(protocols=[("roundrobin", b"")]).result.error,
                         ErrorCode.INCONSISTENT_GROUP_PROTOCOL)
        self.assertEqual(self.join(protocol_type="connect").result.error,
                         ErrorCode.INCONSISTENT_GROUP_PROTOCOL)
        self.assertEqual(self.join(protocols=[]).result.error,
                         ErrorCode.INCONSISTENT_GROUP_PROTOCOL)

    def test_protocol_selection(self) -> None:
        """The protocol chosen is supported by all members and preferred by most."""
        a, join_a = self.new_member(protocols=[("cooperative", b"a1"), ("range", b"a2")])
        b, join_b = self.new_member(protocols=[("range", b"b1"), ("cooperative", b"b2")])
        c, join_c = self.new_member(protocols=[("range", b"c1"), ("roundrobin", b"c2"),
                                               ("cooperative", b"c3")])
        self.settle()
        self.assertEqual(join_a.result.protocol_name, "range")
        self.assertEqual({(m.member_id, m.metadata) for m in join_a.result.members},
                         {(a, b"a2"), (b, b"b1"), (c, b"c1")})

    def test_retried_join_while_completing_gets_same_answer(self) -> None:
        """A JoinGroup repeated with the same protocols after the rebalance gets the same generation."""
        a, join_a = self.new_member()
        self.clock.advance(DELAY_MS / 1000)
        again = self.join(member_id=a)
        self.assertEqual(again.result.generation_id, join_a.result.generation_id)
        self.assertEqual(again.result.members, join_a.result.members)
        self.assertIs(self.state(), GroupState.COMPLETING_REBALANCE)


class SyncTests(MembershipCase):
    """SyncGroup: the leader's assignment reaches every member."""

    def test_followers_wait_for_leader(self) -> None:
        """A follower's SyncGroup waits; the leader's fills in every waiting member."""
        a, b, generation = self.stable_pair()
        self.assertEqual(self.groups["g"].generation_id, generation)

    def test_missing_assignment_is_empty(self) -> None:
        """Members the leader left out get an empty assignment."""
        a, join_a = self.new_member()
        b, join_b = self.new_member()
        self.settle()
        sync_b = self.sync(b, 1)
        self.sync(a, 1, {a: b"x"})
        self.assertEqual(sync_b.result, SyncResult(ErrorCode.NONE, b"", "consumer", "range"))

    def test_sync_in_stable_returns_assignment(self) -> None:
        """A SyncGroup after the group is Stable returns the member's assignment at once."""
        a, b, generation = self.stable_pair()
        self.assertEqual(self.sync(b, generation).result.assignment, b"to-b")

    def test_generation_and_member_checks(self) -> None:
        """Wrong generations, unknown members and unknown groups get their errors."""
        a, b, generation = self.stable_pair()
        self.assertEqual(self.sync(a, generation + 1).result.error, ErrorCode.ILLEGAL_GENERATION)
        self.assertEqual(self.sync("stranger", generation).result.error,
                         ErrorCode.UNKNOWN_MEMBER_ID)
        self.assertEqual(self.sync(a, generation, group_id="other").result.error,
                         ErrorCode.UNKNOWN_MEMBER_ID)
        self.assertEqual(self.sync(a, generation, group_id="").result.error,
                         ErrorCode.INVALID_GROUP_ID)

    def test_inconsistent_protocol_names(self) -> None:
        """A SyncGroup naming another protocol type or name is INCONSISTENT_GROUP_PROTOCOL."""
        a, b, generation = self.stable_pair()
        for protocol_type, name in (("connect", "range"), ("consumer", "roundrobin")):
            waiter = Waiter()
            self.membership.sync("g", generation, a, None, protocol_type, name, {}, waiter)
            self.assertEqual(waiter.result.error, ErrorCode.INCONSISTENT_GROUP_PROTOCOL)

    def test_sync_during_rebalance(self) -> None:
        """A SyncGroup while the group prepares a rebalance is REBALANCE_IN_PROGRESS."""
        a, b, generation = self.stable_pair()
        self.join(member_id=a)  # the leader rejoins: rebalance
        self.assertEqual(self.sync(b, generation).result.error, ErrorCode.REBALANCE_IN_PROGRESS)

    def test_waiting_follower_told_of_new_rebalance(self) -> None:
        """A follower waiting for its assignment gets REBALANCE_IN_PROGRESS if the group rebalances."""
        a, join_a = self.new_member()
        b, join_b = self.new_member()
        self.settle()
        sync_b = self.sync(b, 1)
        self.new_member()
        self.assertEqual(sync_b.result.error, ErrorCode.REBALANCE_IN_PROGRESS)

    def test_member_that_never_syncs_is_removed(self) -> None:
        """Members that do not sync within the rebalance timeout are removed; the group rebalances."""
        a, join_a = self.new_member()
        b, join_b = self.new_member()
        self.settle()
        self.sync(a, 1, {a: b"x", b: b"y"})
        for _ in range(int(REBALANCE_MS / 1000 / 3)):
            self.clock.advance(3.0)
            self.heartbeat(a, 1)
        self.clock.advance(0.5)
        self.assertNotIn(b, self.groups["g"].members)
        self.assertIs(self.state(), GroupState.PREPARING_REBALANCE)
        rejoin = self.join(member_id=a)
        self.assertEqual(rejoin.result.generation_id, 2)
        self.assertEqual([m.member_id for m in rejoin.result.members], [a])


class HeartbeatTests(MembershipCase):
    """Heartbeats keep members alive; a silent member is removed."""

    def test_heartbeat_errors(self) -> None:
        """Heartbeat answers by state, member and generation."""
        a, b, generation = self.stable_pair()
        self.assertEqual(self.heartbeat(a, generation), ErrorCode.NONE)
        self.assertEqual(self.heartbeat(a, generation - 1), ErrorCode.ILLEGAL_GENERATION)
        self.assertEqual(self.heartbeat("stranger", generation), ErrorCode.UNKNOWN_MEMBER_ID)
        self.assertEqual(self.membership.heartbeat("nope", a, None, generation),
                         ErrorCode.UNKNOWN_MEMBER_ID)
        self.assertEqual(self.membership.heartbeat("", a, None, generation),
                         ErrorCode.INVALID_GROUP_ID)

    def test_silent_member_removed_and_group_rebalances(self) -> None:
        """A member that stops heartbeating is removed after its session timeout; the rest rebalance."""
        a, b, generation = self.stable_pair()
        for _ in range(3):
            self.clock.advance(3.0)
            self.assertEqual(self.heartbeat(a, generation), ErrorCode.NONE)
        self.clock.advance(1.5)  # B's session (10 s since its sync) has run out
        self.assertEqual(list(self.groups["g"].members), [a])
        self.assertEqual(self.heartbeat(a, generation), ErrorCode.REBALANCE_IN_PROGRESS)
        rejoin = self.join(member_id=a)
        self.assertEqual(rejoin.result.error, ErrorCode.NONE)
        self.assertEqual(rejoin.result.generation_id, generation + 1)
        self.assertEqual([m.member_id for m in rejoin.result.members], [a])
        self.assertEqual(self.heartbeat(b, generation + 1), ErrorCode.UNKNOWN_MEMBER_ID)

    def test_heartbeats_keep_member(self) -> None:
        """Heartbeats within the session timeout keep a member for as long as they come."""
        a, b, generation = self.stable_pair()
        for _ in range(20):
            self.clock.advance(SESSION_MS / 1000 - 1)
            self.assertEqual(self.heartbeat(a, generation), ErrorCode.NONE)
            self.assertEqual(self.heartbeat(b, generation), ErrorCode.NONE)
        self.assertIs(self.state(), GroupState.STABLE)

    def test_waiting_join_is_not_expired(self) -> None:
        """A member whose JoinGroup waits needs no heartbeat; one that did not rejoin is dropped."""
        a, b, generation = self.stable_pair()
        rejoin_a = self.join(member_id=a)  # the leader rejoins: B must rejoin too
        self.clock.advance(REBALANCE_MS / 1000)
        self.assertEqual(rejoin_a.result.generation_id, generation + 1)
        self.assertEqual([m.member_id for m in rejoin_a.result.members], [a])

    def test_pending_member_expires(self) -> None:
        """An id handed out with MEMBER_ID_REQUIRED lapses after the session timeout."""
        first = self.join()
        member_id = first.result.member_id
        self.clock.advance(SESSION_MS / 1000)
        self.assertFalse(self.groups["g"].is_pending(member_id))
        self.assertEqual(self.join(member_id=member_id).result.error,
                         ErrorCode.UNKNOWN_MEMBER_ID)

    def test_new_member_join_bounded(self) -> None:
        """A new member's JoinGroup waiting for a rebalance that does not end is dropped after 5 minutes."""
        a, b, generation = self.stable_pair()
        c, join_c = self.new_member(rebalance=600000)
        for _ in range(int(300 / 3) - 1):
            self.clock.advance(3)
            self.assertEqual(self.heartbeat(a, generation), ErrorCode.REBALANCE_IN_PROGRESS)
            self.assertEqual(self.heartbeat(b, generation), ErrorCode.REBALANCE_IN_PROGRESS)
        self.assertFalse(join_c.done)
        self.clock.advance(3)
        self.assertEqual(join_c.result.error, ErrorCode.UNKNOWN_MEMBER_ID)
        self.assertNotIn(c, self.groups["g"].members)


class RebalanceTests(MembershipCase):
    """Members joining and leaving a running group."""

    def test_member_joins_mid_rebalance(self) -> None:
        """A member joining a stable group makes everyone rejoin; the rebalance ends when all did."""
        a, b, generation = self.stable_pair()
        c, join_c = self.new_member()
        self.assertIs(self.state(), GroupState.PREPARING_REBALANCE)
        self.assertEqual(self.heartbeat(a, generation), ErrorCode.REBALANCE_IN_PROGRESS)
        join_a = self.join(member_id=a)
        d, join_d = self.new_member()  # another one during the rebalance
        self.assertFalse(join_a.done)
        join_b = self.join(member_id=b)
        for waiter in (join_a, join_b, join_c, join_d):
            self.assertEqual(waiter.result.generation_id, generation + 1)
            self.assertEqual(waiter.result.leader, a)
        self.assertEqual([m.member_id for m in join_a.result.members], [a, b, c, d])
        self.assertIs(self.state(), GroupState.COMPLETING_REBALANCE)

    def test_member_that_does_not_rejoin_is_dropped(self) -> None:
        """After the rebalance timeout the rebalance completes without the members that did not rejoin."""
        a, b, generation = self.stable_pair()
        c, join_c = self.new_member()
        join_b = self.join(member_id=b)
        for _ in range(int(REBALANCE_MS / 1000 / 3)):
            self.assertFalse(join_b.done)
            # A is alive but does not rejoin (a consumer stuck processing, say).
            self.assertEqual(self.heartbeat(a, generation), ErrorCode.REBALANCE_IN_PROGRESS)
            self.clock.advance(3)
        self.assertEqual(join_b.result.generation_id, generation + 1)
        self.assertEqual(join_b.result.leader, b)  # the leader A did not rejoin
        self.assertEqual({m.member_id for m in join_b.result.members}, {b, c})
        self.assertEqual(self.heartbeat(a, generation + 1), ErrorCode.UNKNOWN_MEMBER_ID)

    def test_leader_leaves(self) -> None:
        """When the leader leaves, the next member leads the next generation."""
        a, b, generation = self.stable_pair()
        self.assertEqual(self.membership.leave("g", [LeavingMember(a)]),
                         (ErrorCode.NONE, [ErrorCode.NONE]))
        self.assertIs(self.state(), GroupState.PREPARING_REBALANCE)
        rejoin = self.join(member_id=b)
        self.assertEqual(rejoin.result.leader, b)
        self.assertEqual(rejoin.result.generation_id, generation + 1)

    def test_last_member_leaves(self) -> None:
        """A group whose members all leave becomes Empty with a new generation."""
        a, b, generation = self.stable_pair()
        self.membership.leave("g", [LeavingMember(a), LeavingMember(b)])
        self.assertIs(self.state(), GroupState.EMPTY)
        self.assertEqual(self.groups["g"].generation_id, generation + 1)
        self.assertEqual(self.heartbeat(a, generation + 1), ErrorCode.UNKNOWN_MEMBER_ID)

    def test_leave_errors(self) -> None:
        """Leaving as an unknown member, or from an unknown group, is UNKNOWN_MEMBER_ID."""
        a, b, generation = self.stable_pair()
        self.assertEqual(self.membership.leave("g", [LeavingMember("x"), LeavingMember(b)]),
                         (ErrorCode.NONE, [ErrorCode.UNKNOWN_MEMBER_ID, ErrorCode.NONE]))
        self.assertEqual(self.membership.leave("other", [LeavingMember(a)]),
                         (ErrorCode.UNKNOWN_MEMBER_ID, []))
        self.assertEqual(self.membership.leave("", [LeavingMember(a)]),
                         (ErrorCode.INVALID_GROUP_ID, []))

    def test_leaving_member_waiting_to_join(self) -> None:
        """A member leaving while its JoinGroup waits gets that JoinGroup answered."""
        a, b, generation = self.stable_pair()
        join_b = self.join(member_id=b, protocols=[("range", b"changed")])
        self.assertFalse(join_b.done)
        self.membership.leave("g", [LeavingMember(b)])
        self.assertEqual(join_b.result.error, ErrorCode.UNKNOWN_MEMBER_ID)

    def test_pending_member_leaves(self) -> None:
        """A member id pending after MEMBER_ID_REQUIRED can leave; the rebalance need not wait for it."""
        a, b, generation = self.stable_pair()
        join_a = self.join(member_id=a)
        join_b = self.join(member_id=b)
        self.assertTrue(join_b.done)
        pending = self.join().result.member_id
        join_a2 = self.join(member_id=a)
        self.assertEqual(join_a2.result.error, ErrorCode.NONE)
        self.membership.leave("g", [LeavingMember(pending)])
        self.assertFalse(self.groups["g"].is_pending(pending))
        self.assertTrue(join_a.done)

    def test_delete_group(self) -> None:
        """Only empty groups can be deleted; unknown ones are GROUP_ID_NOT_FOUND."""
        a, b, generation = self.stable_pair()
        self.assertEqual(self.membership.delete("g"), ErrorCode.NON_EMPTY_GROUP)
        self.membership.leave("g", [LeavingMember(a), LeavingMember(b)])
        self.assertEqual(self.membership.delete("g"), ErrorCode.NONE)
        self.assertNotIn("g", self.groups)
        self.assertEqual(self.membership.delete("g"), ErrorCode.GROUP_ID_NOT_FOUND)


class StaticMemberTests(MembershipCase):
    """Static membership (group.instance.id, KIP-345)."""

    def static_pair(self) -> tuple[str, str, int]:
        """Members S1 (instance i1, leader) and S2 (instance i2), Stable; return ids and generation."""
        join_1 = self.join(instance="i1")
        join_2 = self.join(instance="i2")
        self.settle()
        s1, s2 = join_1.result.member_id, join_2.result.member_id
        self.assertTrue(s1.startswith("i1-"))
        generation = join_1.result.generation_id
        sync_2 = self.sync(s2, generation, instance="i2")
        self.sync(s1, generation, {s1: b"one", s2: b"two"}, instance="i1")
        self.assertEqual(sync_2.result.assignment, b"two")
        return s1, s2, generation

    def test_static_members_join_without_member_id_round_trip(self) -> None:
        """Static members get their id in the JoinGroup answer, without MEMBER_ID_REQUIRED."""
        s1, s2, generation = self.static_pair()
        self.assertEqual(self.groups["g"].static_members, {"i1": s1, "i2": s2})

    def test_rejoin_keeps_assignment_without_rebalance(self) -> None:
        """A static follower restarting (new member id) keeps its assignment; nobody rebalances."""
        s1, s2, generation = self.static_pair()
        rejoin = self.join(instance="i2")
        result = rejoin.result
        self.assertEqual(result.error, ErrorCode.NONE)
        new_id = result.member_id
        self.assertNotEqual(new_id, s2)
        self.assertEqual(result.generation_id, generation)
        self.assertEqual(result.leader, s1)
        self.assertIs(self.state(), GroupState.STABLE)
        self.assertEqual(self.sync(new_id, generation, instance="i2").result.assignment, b"two")
        self.assertEqual(self.heartbeat(s1, generation, "i1"), ErrorCode.NONE)

    def test_old_member_id_is_fenced(self) -> None:
        """After a static member rejoined, its old member id is FENCED_INSTANCE_ID."""
        s1, s2, generation = self.static_pair()
        self.join(instance="i2")
        self.assertEqual(self.heartbeat(s2, generation, "i2"), ErrorCode.FENCED_INSTANCE_ID)
        self.assertEqual(self.sync(s2, generation, instance="i2").result.error,
                         ErrorCode.FENCED_INSTANCE_ID)
        self.assertEqual(self.join(member_id=s2, instance="i2").result.error,
                         ErrorCode.FENCED_INSTANCE_ID)
        self.assertEqual(self.membership.leave("g", [LeavingMember(s2, "i2")]),
                         (ErrorCode.NONE, [ErrorCode.FENCED_INSTANCE_ID]))

    def test_waiting_old_member_fenced(self) -> None:
        """A JoinGroup of the old id still waiting is answered FENCED_INSTANCE_ID."""
        s1, s2, generation = self.static_pair()
        old_join = self.join(member_id=s2, instance="i2", protocols=[("range", b"new")])
        self.assertIs(self.state(), GroupState.PREPARING_REBALANCE)
        new_join = self.join(instance="i2", protocols=[("range", b"new")])
        self.assertEqual(old_join.result.error, ErrorCode.FENCED_INSTANCE_ID)
        self.join(member_id=s1, instance="i1")
        self.assertEqual(new_join.result.generation_id, generation + 1)

    def test_static_leader_rejoin_old_client(self) -> None:
        """A static leader rejoining (pre-v9) is told the old leader id, so it does not reassign."""
        s1, s2, generation = self.static_pair()
        result = self.join(instance="i1").result
        self.assertEqual(result.leader, s1)
        self.assertNotEqual(result.member_id, s1)
        self.assertEqual(result.members, ())
        self.assertFalse(result.skip_assignment)

    def test_static_leader_rejoin_skips_assignment(self) -> None:
        """JoinGroup v9: a static leader rejoining a stable group leads but skips the assignment."""
        s1, s2, generation = self.static_pair()
        result = self.join(instance="i1", skip=True).result
        self.assertEqual(result.leader, result.member_id)
        self.assertTrue(result.skip_assignment)
        self.assertEqual({m.group_instance_id for m in result.members}, {"i1", "i2"})
        self.assertIs(self.state(), GroupState.STABLE)

    def test_static_member_not_rejoining_is_kept(self) -> None:
        """A static member that misses a rebalance stays a member until its session expires."""
        s1, s2, generation = self.static_pair()
        join_1 = self.join(member_id=s1, instance="i1")  # the leader rejoins
        for _ in range(int(REBALANCE_MS / 1000 / 3)):
            self.assertEqual(self.heartbeat(s2, generation, "i2"),
                             ErrorCode.REBALANCE_IN_PROGRESS)
            self.clock.advance(3)
        self.assertIn(s2, self.groups["g"].members)
        self.assertEqual(join_1.result.generation_id, generation + 1)
        self.assertEqual(join_1.result.leader, s1)

    def test_leave_by_instance_id(self) -> None:
        """LeaveGroup may name a static member by its instance id alone."""
        s1, s2, generation = self.static_pair()
        self.assertEqual(self.membership.leave("g", [LeavingMember("", "i2"),
                                                     LeavingMember("", "i9")]),
                         (ErrorCode.NONE, [ErrorCode.NONE, ErrorCode.UNKNOWN_MEMBER_ID]))
        self.assertEqual(list(self.groups["g"].members), [s1])

    def test_unknown_instance(self) -> None:
        """A known member id with an instance id the group does not know is UNKNOWN_MEMBER_ID."""
        s1, s2, generation = self.static_pair()
        self.assertEqual(self.heartbeat(s1, generation, "i9"), ErrorCode.UNKNOWN_MEMBER_ID)


class ResultTests(SynchronousTestCase):
    """L{JoinResult} defaults describe a failed join."""

    def test_error_defaults(self) -> None:
        """A failed join has no generation, protocol or leader."""
        result = JoinResult(ErrorCode.UNKNOWN_MEMBER_ID, "m")
        self.assertEqual((result.generation_id, result.protocol_name, result.leader,
                          result.members), (-1, None, "", ()))
