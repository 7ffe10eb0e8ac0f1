# -*- test-case-name: tests.apis.test_acl_apis -*-
"""Tests for L{twisted_kafka.apis.acl_apis} and for the ACL authorizer on every API."""

from __future__ import annotations

from typing import Any

from twisted.trial.unittest import SynchronousTestCase

from tests.apis.support import make_broker, roundtrip
from tests.apis.test_produce import batch, produce_request
from twisted_kafka.apis.support.authorized_operations import TOPIC_OPERATIONS
from twisted_kafka.errors import ErrorCode
from twisted_kafka.protocol import messages
from twisted_kafka.security.acl_authorizer import AclAuthorizer
from twisted_kafka.security.acl_store import AclStore
from twisted_kafka.server.authorizer import (
    AclOperation as Op, ResourceType as Rt, access_for)
from twisted_kafka.server.context import RequestContext

DESCRIBE_ACLS, CREATE_ACLS, DELETE_ACLS = 29, 30, 31
PRODUCE, METADATA, INIT_PRODUCER_ID = 0, 3, 22
ADMIN = "User:admin"


def creation(name: str, op: int, principal: str = "User:alice", permission: int = 3,
             rtype: int = 2, pattern: int = 3, host: str = "*") -> dict:
    """One CreateAcls creation."""
    return {"resource_type": rtype, "resource_name": name, "resource_pattern_type": pattern,
            "principal": principal, "host": host, "operation": op, "permission_type": permission}


def any_filter(**fields: Any) -> dict:
    """A filter matching everything, with C{fields} overridden."""
    return {"resource_type_filter": 1, "resource_name_filter": None, "pattern_type_filter": 1,
            "principal_filter": None, "host_filter": None, "operation": 1,
            "permission_type": 1} | fields


class AclCase(SynchronousTestCase):
    """A broker with the ACL authorizer, admin a super user, topics a and b in /."""

    def setUp(self) -> None:
        """Build it, its clock at the test batches' time (2023-11-14)."""
        self.broker = make_broker(self)
        self.broker.reactor.advance(1_700_000_000)  # type: ignore[attr-defined]
        self.broker.acls = AclStore.in_directory(self.mktemp(), durable=False)
        self.broker.authorizer = AclAuthorizer(self.broker.acls, frozenset({ADMIN}))
        vhost = self.broker.store.vhost("/")
        for name in ("a", "b"):
            vhost.create_topic(name, 1)

    def call(self, api_key: int, version: int, request: dict, principal: str = ADMIN,
             vhost: str = "/") -> Any:
        """Call a responder as C{principal} in C{vhost}, as the dispatcher would."""
        data = messages.request_encoder(api_key, version)(request)
        decoded = messages.request_decoder(api_key, version)(data, 0)
        served = self.broker.registry.get(api_key)
        assert served is not None
        authorizer = self.broker.authorizer.scoped(vhost, "10.0.0.1")
        context = RequestContext(
            broker=self.broker, vhost=self.broker.store.vhost(vhost), api_version=version,
            client_id="t", peer="10.0.0.1:1", advertised_host="127.0.0.1", advertised_port=9092,
            access=access_for(authorizer, principal, served.needs, decoded))
        return roundtrip(api_key, version, served.responder(decoded, context))

    def create(self, *creations: dict, principal: str = ADMIN, vhost: str = "/") -> list[int]:
        """CreateAcls v3; return the error codes."""
        response = self.call(CREATE_ACLS, 3, {"creations": list(creations)}, principal, vhost)
        return [r["error_code"] for r in response["results"]]


class AclApiTests(AclCase):
    """Create, describe and delete, per vhost."""

    def test_create_describe_delete(self) -> None:
        """ACLs come back grouped by resource; deleted ones are returned."""
        self.assertEqual(self.create(creation("a", Op.READ), creation("a", Op.WRITE),
                                     creation("g-", Op.READ, rtype=3, pattern=4)), [0, 0, 0])
        described = self.call(DESCRIBE_ACLS, 3, any_filter())
        self.assertEqual([(r["resource_type"], r["resource_name"], r["pattern_type"],
                           [a["operation"] for a in r["acls"]]) for r in described["resources"]],
                         [(2, "a", 3, [3, 4]), (3, "g-", 4, [3])])
        deleted = self.call(DELETE_ACLS, 3, {"filters": [any_filter(operation=4)]})
        [matched] = [f["matching_acls"] for f in deleted["filter_results"]]
        self.assertEqual([(m["resource_name"], m["operation"]) for m in matched], [("a", 4)])
        self.assertEqual(len(self.call(DESCRIBE_ACLS, 2, any_filter())["resources"]), 2)

    def test_invalid_creations(self) -> None:
        """Each invalid creation is INVALID_REQUEST; the valid ones are stored."""
        codes = self.create(creation("a", Op.READ, principal="alice"), creation("a", Op.READ),
                            creation("x", Op.ALTER, rtype=4))
        self.assertEqual(codes, [ErrorCode.INVALID_REQUEST, 0, ErrorCode.INVALID_REQUEST])

    def test_vhosts_apart(self) -> None:
        """ACLs of vhost v are invisible from /."""
        self.create(creation("a", Op.READ), vhost="v")
        self.assertEqual(self.call(DESCRIBE_ACLS, 3, any_filter())["resources"], [])
        self.assertEqual(len(self.call(DESCRIBE_ACLS, 3, any_filter(), vhost="v")["resources"]), 1)

    def test_needs_cluster_alter(self) -> None:
        """A user without Cluster/Alter gets CLUSTER_AUTHORIZATION_FAILED; with it, may create."""
        self.assertEqual(self.create(creation("a", Op.READ), principal="User:alice"),
                         [ErrorCode.CLUSTER_AUTHORIZATION_FAILED])
        self.create(creation("kafka-cluster", Op.ALTER, rtype=4))
        self.assertEqual(self.create(creation("b", Op.READ), principal="User:alice"), [0])
        self.assertEqual(self.call(DESCRIBE_ACLS, 3, any_filter(), "User:bob")["error_code"],
                         ErrorCode.CLUSTER_AUTHORIZATION_FAILED)

    def test_security_disabled(self) -> None:
        """Without an authorizer: SECURITY_DISABLED."""
        self.broker.acls = None
        self.assertEqual(self.create(creation("a", Op.READ)), [ErrorCode.SECURITY_DISABLED])
        self.assertEqual(self.call(DESCRIBE_ACLS, 3, any_filter())["error_code"],
                         ErrorCode.SECURITY_DISABLED)


class AuthorizedApiTests(AclCase):
    """What ACLs let a user do through the other APIs."""

    def metadata(self, principal: str = "User:alice", topics: list[str] | None = None,
                 **request: Any) -> dict:
        """Metadata v12 as C{principal}."""
        body = {"topics": None if topics is None else [{"name": t} for t in topics],
                "allow_auto_topic_creation": True} | request
        return self.call(METADATA, 12, body, principal)

    def test_metadata_lists_describable_topics(self) -> None:
        """Topics the user may not describe are left out; READ implies DESCRIBE."""
        self.assertEqual(self.metadata()["topics"], [])
        self.create(creation("a", Op.READ))
        self.assertEqual([t["name"] for t in self.metadata()["topics"]], ["a"])
        self.assertEqual([t["name"] for t in self.metadata(ADMIN)["topics"]], ["a", "b"])

    def test_authorized_operations(self) -> None:
        """The topic's bit set is what the ACLs allow (READ, and DESCRIBE implied)."""
        self.create(creation("a", Op.READ))
        [topic] = self.metadata(topics=["a"], include_topic_authorized_operations=True)["topics"]
        self.assertEqual(topic["topic_authorized_operations"], (1 << Op.READ) | (1 << Op.DESCRIBE))
        [topic] = self.metadata(ADMIN, ["a"], include_topic_authorized_operations=True)["topics"]
        self.assertEqual(topic["topic_authorized_operations"], TOPIC_OPERATIONS)

    def test_auto_create_needs_create(self) -> None:
        """Auto-creation needs Create on the topic or the cluster."""
        self.create(creation("new", Op.DESCRIBE))
        [topic] = self.metadata(topics=["new"])["topics"]
        self.assertEqual(topic["error_code"], ErrorCode.TOPIC_AUTHORIZATION_FAILED)
        self.create(creation("new", Op.CREATE))
        [topic] = self.metadata(topics=["new"])["topics"]
        self.assertEqual(topic["error_code"], 0)

    def test_produce_allowed_and_denied(self) -> None:
        """WRITE allows produce; a DENY wins over ALL."""
        self.create(creation("a", Op.ALL), creation("a", Op.WRITE, permission=2, host="10.0.0.1"),
                    creation("b", Op.WRITE))
        request = produce_request({0: batch(1)}, topic="a")
        request["topic_data"] += produce_request({0: batch(1)}, topic="b")["topic_data"]
        response = self.call(PRODUCE, 9, request, "User:alice")
        codes = [t["partition_responses"][0]["error_code"] for t in response["responses"]]
        self.assertEqual(codes, [ErrorCode.TOPIC_AUTHORIZATION_FAILED, 0])

    def test_idempotent_producer_needs_some_write(self) -> None:
        """InitProducerId without a transactional id: Write on some topic, else CLUSTER_AUTHORIZATION_FAILED."""
        request = {"transactional_id": None, "transaction_timeout_ms": 60000}
        self.assertEqual(self.call(INIT_PRODUCER_ID, 4, request, "User:alice")["error_code"],
                         ErrorCode.CLUSTER_AUTHORIZATION_FAILED)
        self.create(creation("logs-", Op.WRITE, pattern=4))
        self.assertEqual(self.call(INIT_PRODUCER_ID, 4, request, "User:alice")["error_code"], 0)


class DeclaredNeedsTests(SynchronousTestCase):
    """Every API declares what Kafka's KafkaApis checks for it."""

    #: api key -> (resource type, operation) pairs declared, as Kafka checks them.
    EXPECTED = {
        0: {(Rt.TOPIC, Op.WRITE)}, 1: {(Rt.TOPIC, Op.READ)}, 2: {(Rt.TOPIC, Op.DESCRIBE)},
        3: {(Rt.TOPIC, Op.DESCRIBE)},
        8: {(Rt.GROUP, Op.READ), (Rt.TOPIC, Op.READ)},
        9: {(Rt.GROUP, Op.DESCRIBE), (Rt.TOPIC, Op.DESCRIBE)},
        10: {(Rt.GROUP, Op.DESCRIBE)},
        11: {(Rt.GROUP, Op.READ)}, 12: {(Rt.GROUP, Op.READ)}, 13: {(Rt.GROUP, Op.READ)},
        14: {(Rt.GROUP, Op.READ)}, 15: {(Rt.GROUP, Op.DESCRIBE)},
        16: {(Rt.CLUSTER, Op.DESCRIBE), (Rt.GROUP, Op.DESCRIBE)},
        17: set(), 18: set(), 36: set(),
        19: {(Rt.CLUSTER, Op.CREATE), (Rt.TOPIC, Op.CREATE)},
        20: {(Rt.TOPIC, Op.DELETE)}, 21: {(Rt.TOPIC, Op.DELETE)},
        22: {(Rt.TRANSACTIONAL_ID, Op.WRITE)}, 23: {(Rt.TOPIC, Op.DESCRIBE)},
        29: {(Rt.CLUSTER, Op.DESCRIBE)}, 30: {(Rt.CLUSTER, Op.ALTER)}, 31: {(Rt.CLUSTER, Op.ALTER)},
        32: {(Rt.TOPIC, Op.DESCRIBE_CONFIGS), (Rt.CLUSTER, Op.DESCRIBE_CONFIGS)},
        33: {(Rt.TOPIC, Op.ALTER_CONFIGS), (Rt.CLUSTER, Op.ALTER_CONFIGS)},
        37: {(Rt.TOPIC, Op.ALTER)}, 42: {(Rt.GROUP, Op.DELETE)},
        44: {(Rt.TOPIC, Op.ALTER_CONFIGS), (Rt.CLUSTER, Op.ALTER_CONFIGS)},
        47: {(Rt.GROUP, Op.DELETE), (Rt.TOPIC, Op.READ)},
        50: {(Rt.CLUSTER, Op.DESCRIBE)}, 51: {(Rt.CLUSTER, Op.ALTER)},
        60: {(Rt.CLUSTER, Op.DESCRIBE)},
    }

    def test_declared_needs(self) -> None:
        """The registry's needs, API by API (a new API must be added here)."""
        registry = make_broker(self).registry
        declared = {api.api_key: {(n.resource_type, n.operation) for n in api.needs}
                    for api in registry.served()}
        for key, expected in self.EXPECTED.items():
            if key in declared:
                self.assertEqual(declared[key], expected, f"api key {key}")
        self.assertEqual(sorted(set(declared) - set(self.EXPECTED)), [])
