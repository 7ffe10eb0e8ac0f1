# -*- test-case-name: tests.apis.test_group_apis -*-
"""Tests for L{twisted_kafka.apis.find_coordinator} and L{twisted_kafka.apis.group_apis}, through the codec."""

from __future__ import annotations

from typing import Any

from twisted.trial.unittest import SynchronousTestCase

from tests.apis.support import call, make_broker, roundtrip
from twisted_kafka.apis.support.authorized_operations import GROUP_OPERATIONS, NOT_REQUESTED
from twisted_kafka.errors import ErrorCode
from twisted_kafka.groups.settings import GroupSettings
from twisted_kafka.protocol import messages
from twisted_kafka.server.reply import Waiting

FIND_COORDINATOR, JOIN, HEARTBEAT, LEAVE, SYNC = 10, 11, 12, 13, 14
DESCRIBE, LIST, DELETE = 15, 16, 42
SUBSCRIPTION = messages.encode_data("ConsumerProtocolSubscription", 0,
                                    {"topics": ["t"], "user_data": None})


def resolve(reply: Any) -> list[dict]:
    """Return the responses a reply produced so far (a L{Waiting} one may come later)."""
    if isinstance(reply, Waiting):
        answers: list[dict] = []
        reply.register(answers.append)
        return answers
    return [reply]


class GroupApiCase(SynchronousTestCase):
    """A real broker on a fake clock, with no initial rebalance delay."""

    def setUp(self) -> None:
        """Build the broker."""
        self.broker = make_broker(self)
        self.clock = self.broker.reactor
        self.broker.groups.settings = GroupSettings(group_initial_rebalance_delay_ms=0)

    def call(self, api_key: int, version: int, request: dict, vhost: str = "/") -> Any:
        """Call a responder through the codec."""
        return call(self.broker, api_key, version, request, vhost)

    def join(self, version: int, member_id: str = "", instance: str | None = None,
             group_id: str = "g", **extra: Any) -> list[dict]:
        """Send a JoinGroup; return the responses so far (the list fills in later)."""
        request = {"group_id": group_id, "session_timeout_ms": 10000,
                   "rebalance_timeout_ms": 20000, "member_id": member_id,
                   "group_instance_id": instance, "protocol_type": "consumer",
                   "protocols": [{"name": "range", "metadata": SUBSCRIPTION}], "reason": None}
        request.update(extra)
        return resolve(self.call(JOIN, version, request))

    def joined(self, version: int = 9, **kwargs: Any) -> dict:
        """Join as a new member (with the MEMBER_ID_REQUIRED round trip from v4); return the answer."""
        answers = self.join(version, **kwargs)
        if version >= 4 and kwargs.get("instance") is None:
            self.assertEqual(answers[0]["error_code"], ErrorCode.MEMBER_ID_REQUIRED)
            answers = self.join(version, member_id=answers[0]["member_id"], **kwargs)
        self.clock.advance(0)
        self.assertEqual(len(answers), 1)
        self.assertEqual(answers[0]["error_code"], ErrorCode.NONE)
        return answers[0]

    def sync(self, version: int, member_id: str, generation: int,
             assignments: list | None = None, **extra: Any) -> list[dict]:
        """Send a SyncGroup; return the responses so far."""
        request = {"group_id": "g", "generation_id": generation, "member_id": member_id,
                   "group_instance_id": None, "protocol_type": "consumer",
                   "protocol_name": "range", "assignments": assignments or []}
        request.update(extra)
        return resolve(self.call(SYNC, version, request))

    def stable(self) -> tuple[str, int]:
        """Make a one-member Stable group; return the member id and generation."""
        joined = self.joined()
        member, generation = joined["member_id"], joined["generation_id"]
        (synced,) = self.sync(5, member, generation,
                              [{"member_id": member, "assignment": b"mine"}])
        self.assertEqual(synced["assignment"], b"mine")
        return member, generation


class FindCoordinatorTests(GroupApiCase):
    """FindCoordinator names this broker for groups, and refuses transactions clearly."""

    def test_every_version(self) -> None:
        """v0-3 answer one key, v4+ a batch; every answer encodes."""
        for version in range(0, 7):
            if version >= 4:
                request = {"key_type": 0, "coordinator_keys": ["a", "b"]}
            else:
                request = {"key": "a", "key_type": 0}
            response = roundtrip(FIND_COORDINATOR, version,
                                 self.call(FIND_COORDINATOR, version, request))
            if version >= 4:
                self.assertEqual([(c["key"], c["node_id"], c["host"], c["port"], c["error_code"])
                                  for c in response["coordinators"]],
                                 [("a", 0, "127.0.0.1", 9092, 0), ("b", 0, "127.0.0.1", 9092, 0)])
            else:
                self.assertEqual((response["error_code"], response["node_id"], response["host"],
                                  response["port"]), (0, 0, "127.0.0.1", 9092))

    def test_transactions_refused(self) -> None:
        """A transactional id gets TRANSACTIONAL_ID_AUTHORIZATION_FAILED with a reason."""
        response = self.call(FIND_COORDINATOR, 3, {"key": "tx", "key_type": 1})
        self.assertEqual(response["error_code"], ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
        self.assertIn("not supported", response["error_message"])
        (coordinator,) = self.call(FIND_COORDINATOR, 4,
                                   {"key_type": 1, "coordinator_keys": ["tx"]})["coordinators"]
        self.assertEqual(coordinator["error_code"], ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)

    def test_share_and_unknown_key_types(self) -> None:
        """Share groups and unknown key types are INVALID_REQUEST."""
        for key_type in (2, 9):
            (coordinator,) = self.call(FIND_COORDINATOR, 6, {
                "key_type": key_type, "coordinator_keys": ["x"]})["coordinators"]
            self.assertEqual(coordinator["error_code"], ErrorCode.INVALID_REQUEST)


class JoinSyncTests(GroupApiCase):
    """JoinGroup and SyncGroup across their versions."""

    def test_join_waits_for_rebalance(self) -> None:
        """A JoinGroup is answered when the rebalance completes (a L{Waiting} reply)."""
        self.broker.groups.settings = GroupSettings(group_initial_rebalance_delay_ms=100)
        (first,) = self.join(9)
        answers = self.join(9, member_id=first["member_id"])
        self.assertEqual(answers, [])
        self.clock.advance(0.1)
        response = roundtrip(JOIN, 9, answers[0])
        self.assertEqual((response["error_code"], response["generation_id"], response["leader"],
                          response["protocol_type"], response["protocol_name"]),
                         (0, 1, first["member_id"], "consumer", "range"))
        self.assertEqual([(m["member_id"], m["metadata"]) for m in response["members"]],
                         [(first["member_id"], SUBSCRIPTION)])

    def test_every_join_version(self) -> None:
        """Each JoinGroup version joins (v4+ with the member id round trip) and encodes."""
        for version in range(0, 10):
            response = roundtrip(JOIN, version, self.joined(version, group_id=f"g{version}"))
            self.assertEqual(response["protocol_name"], "range")
            self.assertEqual(response["leader"], response["member_id"])
            self.assertEqual(response["generation_id"], 1)

    def test_join_error_encodes(self) -> None:
        """Errors carry no protocol: null from v7, empty before."""
        for version in (6, 7):
            (response,) = self.join(version, member_id="stranger")
            self.assertEqual(response["error_code"], ErrorCode.UNKNOWN_MEMBER_ID)
            decoded = roundtrip(JOIN, version, response)
            self.assertEqual(decoded["protocol_name"], None if version >= 7 else "")
            self.assertEqual(decoded["generation_id"], -1)

    def test_v0_uses_session_timeout_for_rebalance(self) -> None:
        """JoinGroup v0 has no rebalance timeout: the session timeout stands in."""
        response = self.joined(0)
        member = self.broker.groups.for_vhost(self.broker.store.vhost("/")).groups["g"].members[
            response["member_id"]]
        self.assertEqual(member.rebalance_timeout_ms, 10000)
        self.assertEqual(member.client_host, "/test")

    def test_static_member(self) -> None:
        """v5+ static members join without the round trip."""
        response = self.joined(5, instance="i-1")
        self.assertTrue(response["member_id"].startswith("i-1-"))
        members = roundtrip(JOIN, 5, response)["members"]
        self.assertEqual(members[0]["group_instance_id"], "i-1")

    def test_sync_versions(self) -> None:
        """SyncGroup v0-5 return the assignment; v5 also the protocol."""
        member, generation = self.stable()
        for version in range(0, 6):
            (response,) = self.sync(version, member, generation)
            decoded = roundtrip(SYNC, version, response)
            self.assertEqual(decoded["assignment"], b"mine")
            if version >= 5:
                self.assertEqual((decoded["protocol_type"], decoded["protocol_name"]),
                                 ("consumer", "range"))

    def test_sync_v5_requires_protocol(self) -> None:
        """SyncGroup v5 without protocol type or name is INCONSISTENT_GROUP_PROTOCOL."""
        member, generation = self.stable()
        (response,) = self.sync(5, member, generation, protocol_name=None)
        self.assertEqual(response["error_code"], ErrorCode.INCONSISTENT_GROUP_PROTOCOL)

    def test_follower_sync_waits(self) -> None:
        """A follower's SyncGroup is answered when the leader's arrives."""
        self.broker.groups.settings = GroupSettings(group_initial_rebalance_delay_ms=100)
        leader = self.join(4)[0]["member_id"]
        follower = self.join(4)[0]["member_id"]
        leader_join = self.join(4, member_id=leader)
        follower_join = self.join(4, member_id=follower)
        self.clock.advance(0.1)
        self.clock.advance(0.1)
        generation = leader_join[0]["generation_id"]
        self.assertEqual(follower_join[0]["leader"], leader)
        waiting = self.sync(3, follower, generation)
        self.assertEqual(waiting, [])
        self.sync(3, leader, generation, [{"member_id": follower, "assignment": b"yours"}])
        self.assertEqual(waiting[0]["assignment"], b"yours")


class MembershipApiTests(GroupApiCase):
    """Heartbeat, LeaveGroup, DescribeGroups, ListGroups, DeleteGroups."""

    def test_heartbeat(self) -> None:
        """Heartbeats of every version; errors for strangers and old generations."""
        member, generation = self.stable()
        for version in range(0, 5):
            response = self.call(HEARTBEAT, version, {
                "group_id": "g", "generation_id": generation, "member_id": member,
                "group_instance_id": None})
            self.assertEqual(roundtrip(HEARTBEAT, version, response)["error_code"], 0)
        response = self.call(HEARTBEAT, 4, {"group_id": "g", "generation_id": generation + 1,
                                            "member_id": member})
        self.assertEqual(response["error_code"], ErrorCode.ILLEGAL_GENERATION)

    def test_leave_v0_reports_member_error(self) -> None:
        """LeaveGroup v0-2 report the member's error as the request's."""
        member, generation = self.stable()
        response = self.call(LEAVE, 1, {"group_id": "g", "member_id": "stranger"})
        self.assertEqual(response["error_code"], ErrorCode.UNKNOWN_MEMBER_ID)
        response = self.call(LEAVE, 2, {"group_id": "g", "member_id": member})
        self.assertEqual(roundtrip(LEAVE, 2, response)["error_code"], 0)

    def test_leave_batch(self) -> None:
        """LeaveGroup v3+ take several members, each with its own error."""
        member, generation = self.stable()
        response = self.call(LEAVE, 5, {"group_id": "g", "members": [
            {"member_id": member, "group_instance_id": None, "reason": "bye"},
            {"member_id": "stranger", "group_instance_id": None, "reason": None}]})
        decoded = roundtrip(LEAVE, 5, response)
        self.assertEqual(decoded["error_code"], 0)
        self.assertEqual([(m["member_id"], m["error_code"]) for m in decoded["members"]],
                         [(member, 0), ("stranger", ErrorCode.UNKNOWN_MEMBER_ID)])

    def test_describe(self) -> None:
        """A Stable group shows its protocol, members' metadata and assignments."""
        member, generation = self.stable()
        for version in range(0, 7):
            response = roundtrip(DESCRIBE, version, self.call(DESCRIBE, version, {
                "groups": ["g"], "include_authorized_operations": True}))
            (group,) = response["groups"]
            self.assertEqual((group["error_code"], group["group_state"], group["protocol_type"],
                              group["protocol_data"]), (0, "Stable", "consumer", "range"))
            (described,) = group["members"]
            self.assertEqual((described["member_id"], described["client_id"],
                              described["member_metadata"], described["member_assignment"]),
                             (member, "test", SUBSCRIPTION, b"mine"))
            if version >= 3:
                self.assertEqual(group["authorized_operations"], GROUP_OPERATIONS)

    def test_describe_rebalancing(self) -> None:
        """Outside Stable there is no protocol data, metadata or assignment."""
        self.broker.groups.settings = GroupSettings(group_initial_rebalance_delay_ms=100)
        (first,) = self.join(9)
        self.assertEqual(self.join(9, member_id=first["member_id"]), [])
        (group,) = self.call(DESCRIBE, 5, {"groups": ["g"]})["groups"]
        self.assertEqual((group["group_state"], group["protocol_data"]),
                         ("PreparingRebalance", ""))
        self.assertEqual(group["members"][0]["member_assignment"], b"")
        self.assertEqual(group["authorized_operations"], NOT_REQUESTED)

    def test_describe_unknown(self) -> None:
        """An unknown group is Dead; v6 says GROUP_ID_NOT_FOUND."""
        (group,) = self.call(DESCRIBE, 5, {"groups": ["nope"]})["groups"]
        self.assertEqual((group["error_code"], group["group_state"]), (0, "Dead"))
        (group,) = roundtrip(DESCRIBE, 6, self.call(DESCRIBE, 6, {"groups": ["nope"]}))["groups"]
        self.assertEqual(group["error_code"], ErrorCode.GROUP_ID_NOT_FOUND)

    def test_list(self) -> None:
        """ListGroups lists every group; v4 filters by state, v5 by type (case-insensitive)."""
        self.stable()
        self.call(8, 8, {"group_id": "simple", "generation_id_or_member_epoch": -1,
                         "member_id": "", "topics": []})
        self.broker.store.vhost("/").create_topic("t", 1)
        self.call(8, 8, {"group_id": "simple", "generation_id_or_member_epoch": -1,
                         "member_id": "", "topics": [{"name": "t", "partitions": [
                             {"partition_index": 0, "committed_offset": 1,
                              "committed_metadata": None}]}]})
        for version in range(0, 6):
            groups = roundtrip(LIST, version, self.call(LIST, version, {}))["groups"]
            self.assertEqual(sorted((g["group_id"], g["protocol_type"]) for g in groups),
                             [("g", "consumer"), ("simple", "")])
        groups = self.call(LIST, 4, {"states_filter": ["stable"]})["groups"]
        self.assertEqual([(g["group_id"], g["group_state"]) for g in groups], [("g", "Stable")])
        groups = roundtrip(LIST, 5, self.call(LIST, 5, {"types_filter": ["Classic"]}))["groups"]
        self.assertEqual({g["group_type"] for g in groups}, {"classic"})
        self.assertEqual(self.call(LIST, 5, {"types_filter": ["consumer"]})["groups"], [])

    def test_delete(self) -> None:
        """DeleteGroups removes empty groups only."""
        member, generation = self.stable()
        response = self.call(DELETE, 2, {"groups_names": ["g", "nope"]})
        self.assertEqual([(r["group_id"], r["error_code"]) for r in
                          roundtrip(DELETE, 2, response)["results"]],
                         [("g", ErrorCode.NON_EMPTY_GROUP), ("nope", ErrorCode.GROUP_ID_NOT_FOUND)])
        self.call(LEAVE, 0, {"group_id": "g", "member_id": member})
        self.assertEqual(self.call(DELETE, 0, {"groups_names": ["g"]})["results"][0]["error_code"],
                         0)
        self.assertEqual(self.call(LIST, 0, {})["groups"], [])

    def test_vhosts_are_separate(self) -> None:
        """Groups of one vhost are not seen from another."""
        self.stable()
        self.assertEqual(self.call(LIST, 3, {}, vhost="other")["groups"], [])
