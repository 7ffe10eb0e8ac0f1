# -*- test-case-name: tests.server.test_authorizer -*-
"""Tests for L{twisted_kafka.server.authorizer} and the dispatcher's use of it."""

from __future__ import annotations

from typing import Any

from twisted.trial.unittest import SynchronousTestCase

from tests.server.test_connection import HEARTBEAT, ConnectionTestMixin, read_responses, request_frame
from twisted_kafka.protocol import messages
from twisted_kafka.server.authorizer import (
    ALLOW_ALL, ANONYMOUS, CLUSTER_NAME, Access, AclOperation, AllowEverything, Need,
    RequestAccess, ResourceType, access_for, cluster)
from twisted_kafka.server.registry import ResponderRegistry

API_VERSIONS = 18


class RefusingAuthorizer:
    """Refuses the (resource type, name) pairs given; records every question.

    @ivar asked: (principal, operation, resource type, name) of every question.
    """

    def __init__(self, *refused: tuple[ResourceType, str]) -> None:
        self.refused = set(refused)
        self.asked: list[tuple[str, AclOperation, ResourceType, str]] = []

    def authorize(self, principal: str, operation: AclOperation,
                  resource_type: ResourceType, name: str) -> bool:
        """Allow unless (resource type, name) was given to refuse."""
        self.asked.append((principal, operation, resource_type, name))
        return (resource_type, name) not in self.refused


def _group(request: dict) -> list[str]:
    return [request["group_id"]]


class AccessTests(SynchronousTestCase):
    """An L{Access} asks about the request's resources with the declared operations."""

    def test_named_resources_asked_first(self) -> None:
        """Every resource a need's names function returns is asked about at once."""
        authorizer = RefusingAuthorizer((ResourceType.GROUP, "g"))
        access = Access(authorizer, "User:alice",
                        (Need(ResourceType.GROUP, AclOperation.READ, _group),
                         Need(ResourceType.CLUSTER, AclOperation.DESCRIBE, cluster)),
                        {"group_id": "g"})
        self.assertEqual(authorizer.asked, [
            ("User:alice", AclOperation.READ, ResourceType.GROUP, "g"),
            ("User:alice", AclOperation.DESCRIBE, ResourceType.CLUSTER, CLUSTER_NAME)])
        self.assertTrue(access.refused(ResourceType.GROUP, "g"))
        self.assertFalse(access.refused(ResourceType.CLUSTER, CLUSTER_NAME))
        self.assertEqual(len(authorizer.asked), 2, "answers are remembered")

    def test_later_resources_asked_with_declared_operation(self) -> None:
        """A resource learnt while answering is asked about with the API's operation."""
        authorizer = RefusingAuthorizer((ResourceType.TOPIC, "t"))
        access = Access(authorizer, ANONYMOUS,
                        (Need(ResourceType.TOPIC, AclOperation.WRITE),), {})
        self.assertEqual(authorizer.asked, [])
        self.assertTrue(access.refused(ResourceType.TOPIC, "t"))
        self.assertFalse(access.refused(ResourceType.TOPIC, "u"))
        self.assertEqual([q[1] for q in authorizer.asked], [AclOperation.WRITE] * 2)

    def test_undeclared_type_needs_nothing(self) -> None:
        """A resource type the API declared no need for is never refused nor asked about."""
        authorizer = RefusingAuthorizer((ResourceType.GROUP, "g"))
        access = Access(authorizer, ANONYMOUS, (Need(ResourceType.TOPIC, AclOperation.READ),), {})
        self.assertFalse(access.refused(ResourceType.GROUP, "g"))
        self.assertEqual(authorizer.asked, [])

    def test_allow_everything(self) -> None:
        """The default authorizer allows all, and then no question is asked at all."""
        self.assertTrue(AllowEverything().authorize(
            ANONYMOUS, AclOperation.DELETE, ResourceType.TOPIC, "t"))
        needs = (Need(ResourceType.TOPIC, AclOperation.READ),)
        self.assertIs(access_for(AllowEverything(), ANONYMOUS, needs, {}), ALLOW_ALL)
        self.assertFalse(ALLOW_ALL.refused(ResourceType.CLUSTER, CLUSTER_NAME))

    def test_no_needs(self) -> None:
        """An API that needs nothing is not asked about, whatever the authorizer."""
        authorizer = RefusingAuthorizer()
        self.assertIs(access_for(authorizer, ANONYMOUS, (), {}), ALLOW_ALL)
        self.assertEqual(authorizer.asked, [])


class DispatchTests(ConnectionTestMixin, SynchronousTestCase):
    """The connection asks the broker's authorizer before calling the responder."""

    def serve(self, authorizer: Any) -> tuple[list[RequestAccess], Any, Any]:
        """Serve Heartbeat (needing Group/Read) and return what responders saw."""
        seen: list[RequestAccess] = []

        def respond(request: dict, context: Any) -> dict:
            seen.append(context.access)
            refused = context.access.refused(ResourceType.GROUP, request["group_id"])
            return {"error_code": 30 if refused else 0}

        registry = ResponderRegistry()
        registry.register(HEARTBEAT, "Heartbeat", 0, 4, respond,
                          (Need(ResourceType.GROUP, AclOperation.READ, _group),))
        from twisted_kafka.apis import api_versions

        api_versions.register(registry)
        protocol, transport = self.connect(registry, authorizer=authorizer)
        return seen, protocol, transport

    def heartbeat(self, correlation_id: int, group_id: str) -> bytes:
        """Return a Heartbeat v0 frame for C{group_id}."""
        return request_frame(HEARTBEAT, 0, correlation_id,
                             {"group_id": group_id, "generation_id": 1, "member_id": "m"})

    def test_asked_before_responder(self) -> None:
        """The responder gets the authorizer's answers for the resources the request names."""
        authorizer = RefusingAuthorizer((ResourceType.GROUP, "secret"))
        seen, protocol, transport = self.serve(authorizer)
        protocol.dataReceived(self.heartbeat(1, "secret") + self.heartbeat(2, "open"))
        self.assertEqual(authorizer.asked, [
            (ANONYMOUS, AclOperation.READ, ResourceType.GROUP, "secret"),
            (ANONYMOUS, AclOperation.READ, ResourceType.GROUP, "open")])
        codes = [messages.response_decoder(HEARTBEAT, 0)(body, 0)["error_code"]
                 for _, body in read_responses(transport.value())]
        self.assertEqual(codes, [30, 0])

    def test_default_allows_all(self) -> None:
        """With the default authorizer every request gets L{ALLOW_ALL}."""
        seen, protocol, transport = self.serve(AllowEverything())
        protocol.dataReceived(self.heartbeat(1, "g"))
        self.assertEqual(seen, [ALLOW_ALL])

    def test_api_versions_needs_nothing(self) -> None:
        """ApiVersions declares no need: it is answered without asking the authorizer."""
        authorizer = RefusingAuthorizer()
        seen, protocol, transport = self.serve(authorizer)
        protocol.dataReceived(request_frame(API_VERSIONS, 0, 9, {}))
        [(correlation, body)] = read_responses(transport.value())
        self.assertEqual(correlation, 9)
        self.assertEqual(messages.response_decoder(API_VERSIONS, 0)(body, 0)["error_code"], 0)
        self.assertEqual(authorizer.asked, [])
