# -*- test-case-name: tests.apis.test_authorization -*-
"""A refusing authorizer gets each API's authorization error, and nothing is done.

The responders are called as the dispatcher calls them (the broker's
authorizer is asked about what the request names, see
L{twisted_kafka.server.authorizer}); with the default authorizer the same
requests succeed, which the other tests of C{tests.apis} show throughout.
"""

from __future__ import annotations

from typing import Any

from twisted.trial.unittest import SynchronousTestCase

from tests.apis.support import call, make_broker, roundtrip
from tests.apis.test_admin_topics import new_topic
from tests.apis.test_fetch import fetch_request
from tests.apis.test_offset_apis import commit_request
from tests.apis.test_produce import batch, produce_request
from tests.server.test_authorizer import RefusingAuthorizer
from twisted_kafka.errors import ErrorCode
from twisted_kafka.server.authorizer import CLUSTER_NAME, AclOperation, ResourceType

PRODUCE, FETCH, LIST_OFFSETS, METADATA = 0, 1, 2, 3
OFFSET_COMMIT, FIND_COORDINATOR, JOIN_GROUP, HEARTBEAT = 8, 10, 11, 12
DESCRIBE_GROUPS, DELETE_GROUPS = 15, 42
CREATE_TOPICS, DELETE_TOPICS, DELETE_RECORDS = 19, 20, 21
DESCRIBE_CONFIGS, CREATE_PARTITIONS, DESCRIBE_CLUSTER = 32, 37, 60
TOPIC_CONFIG, BROKER_CONFIG = 2, 4

SECRET = (ResourceType.TOPIC, "secret")
TAF = ErrorCode.TOPIC_AUTHORIZATION_FAILED
GAF = ErrorCode.GROUP_AUTHORIZATION_FAILED
CAF = ErrorCode.CLUSTER_AUTHORIZATION_FAILED


class AuthorizationCase(SynchronousTestCase):
    """A broker with topics C{open} and C{secret} (one record each)."""

    def setUp(self) -> None:
        """Build the broker (its clock at the test batches' time) and the topics."""
        self.broker = make_broker(self)
        self.broker.reactor.advance(1_700_000_000)  # type: ignore[attr-defined]
        vhost = self.broker.store.vhost("/")
        for name in ("open", "secret"):
            vhost.create_topic(name, 1).partitions[0].append(batch(1))

    def refuse(self, *refused: tuple[ResourceType, str]) -> RefusingAuthorizer:
        """Make the broker's authorizer refuse C{refused}; return it."""
        authorizer = RefusingAuthorizer(*refused)
        self.broker.authorizer = authorizer
        return authorizer

    def call(self, api_key: int, version: int, request: dict) -> Any:
        """Call a responder as the dispatcher would; return the decoded response."""
        return roundtrip(api_key, version, call(self.broker, api_key, version, request))


class TopicApiTests(AuthorizationCase):
    """Partition-addressed APIs answer a refused topic with TOPIC_AUTHORIZATION_FAILED."""

    def test_produce(self) -> None:
        """Produce needs Topic/Write: the refused topic stores nothing, the other appends."""
        authorizer = self.refuse(SECRET)
        request = produce_request({0: batch(2)}, topic="secret")
        request["topic_data"] += produce_request({0: batch(2)}, topic="open")["topic_data"]
        response = self.call(PRODUCE, 9, request)
        codes = [t["partition_responses"][0]["error_code"] for t in response["responses"]]
        self.assertEqual(codes, [TAF, ErrorCode.NONE])
        vhost = self.broker.store.vhost("/")
        self.assertEqual(vhost.topic("secret").partitions[0].high_watermark, 1)
        self.assertEqual(vhost.topic("open").partitions[0].high_watermark, 3)
        self.assertIn(("User:ANONYMOUS", AclOperation.WRITE, ResourceType.TOPIC, "secret"),
                      authorizer.asked)

    def test_produce_by_topic_id(self) -> None:
        """Produce v13 names topics by id: the topic found is checked."""
        self.refuse(SECRET)
        topic_id = self.broker.store.vhost("/").topic("secret").topic_id
        request = produce_request({0: batch(1)}, topic="")
        request["topic_data"][0]["topic_id"] = topic_id
        response = self.call(PRODUCE, 13, request)
        self.assertEqual(response["responses"][0]["partition_responses"][0]["error_code"], TAF)

    def test_fetch(self) -> None:
        """Fetch needs Topic/Read."""
        self.refuse(SECRET)
        for topic, code in (("secret", TAF), ("open", ErrorCode.NONE)):
            response = self.call(FETCH, 12, fetch_request({0: 0}, topic=topic))
            partition = response["responses"][0]["partitions"][0]
            self.assertEqual(partition["error_code"], code)
        self.assertEqual(partition["records"][:8], b"\0" * 8)

    def test_fetch_by_topic_id(self) -> None:
        """Fetch v13 names topics by id: the topic found is checked."""
        self.refuse(SECRET)
        request = fetch_request({0: 0}, topic="")
        request["topics"][0]["topic_id"] = self.broker.store.vhost("/").topic("secret").topic_id
        response = self.call(FETCH, 13, request)
        self.assertEqual(response["responses"][0]["partitions"][0]["error_code"], TAF)

    def test_unknown_topic_refused_first(self) -> None:
        """A refused topic that does not exist answers TOPIC_AUTHORIZATION_FAILED too."""
        self.refuse((ResourceType.TOPIC, "missing"))
        response = self.call(FETCH, 12, fetch_request({0: 0}, topic="missing"))
        self.assertEqual(response["responses"][0]["partitions"][0]["error_code"], TAF)

    def test_list_offsets(self) -> None:
        """ListOffsets needs Topic/Describe."""
        authorizer = self.refuse(SECRET)
        request = {"replica_id": -1, "isolation_level": 0, "topics": [
            {"name": "secret", "partitions": [{"partition_index": 0, "timestamp": -1,
                                               "current_leader_epoch": -1}]}]}
        response = self.call(LIST_OFFSETS, 8, request)
        self.assertEqual(response["topics"][0]["partitions"][0]["error_code"], TAF)
        self.assertEqual(authorizer.asked[0][1], AclOperation.DESCRIBE)

    def test_delete_records(self) -> None:
        """DeleteRecords needs Topic/Delete; the refused partition keeps its records."""
        authorizer = self.refuse(SECRET)
        request = {"topics": [{"name": "secret", "partitions": [
            {"partition_index": 0, "offset": -1}]}], "timeout_ms": 1000}
        response = self.call(DELETE_RECORDS, 2, request)
        self.assertEqual(response["topics"][0]["partitions"][0]["error_code"], TAF)
        self.assertEqual(
            self.broker.store.vhost("/").topic("secret").partitions[0].log_start_offset, 0)
        self.assertEqual(authorizer.asked[0][1], AclOperation.DELETE)

    def test_metadata(self) -> None:
        """Metadata: a refused topic asked for by name errs; a listing of all leaves it out."""
        self.refuse(SECRET)
        named = self.call(METADATA, 12, {"topics": [{"name": "secret", "topic_id": b"\0" * 16}],
                                         "allow_auto_topic_creation": True,
                                         "include_topic_authorized_operations": False})
        self.assertEqual([(t["name"], t["error_code"]) for t in named["topics"]],
                         [("secret", TAF)])
        listed = self.call(METADATA, 12, {"topics": None, "allow_auto_topic_creation": True,
                                          "include_topic_authorized_operations": False})
        self.assertEqual([t["name"] for t in listed["topics"]], ["open"])


class AdminApiTests(AuthorizationCase):
    """Admin APIs answer refused topics and the refused cluster with their errors."""

    def test_delete_topics(self) -> None:
        """DeleteTopics needs Topic/Delete; the refused topic stays."""
        self.refuse(SECRET)
        response = self.call(DELETE_TOPICS, 5, {"topic_names": ["secret", "open"],
                                                "timeout_ms": 1000})
        self.assertEqual([(r["name"], r["error_code"]) for r in response["responses"]],
                         [("secret", TAF), ("open", ErrorCode.NONE)])
        vhost = self.broker.store.vhost("/")
        self.assertIsNotNone(vhost.topic("secret"))
        self.assertIsNone(vhost.topic("open"))

    def test_create_topics(self) -> None:
        """CreateTopics needs Cluster/Create, or else Topic/Create on each topic."""
        self.refuse((ResourceType.CLUSTER, CLUSTER_NAME), (ResourceType.TOPIC, "new-secret"))
        response = self.call(CREATE_TOPICS, 7, {
            "topics": [new_topic("new-secret"), new_topic("new-open")],
            "timeout_ms": 1000, "validate_only": False})
        self.assertEqual([(t["name"], t["error_code"]) for t in response["topics"]],
                         [("new-secret", TAF), ("new-open", ErrorCode.NONE)])
        self.assertIsNone(self.broker.store.vhost("/").topic("new-secret"))

    def test_create_topics_cluster_allowed(self) -> None:
        """Create on the cluster is enough, whatever the topic's own answer."""
        self.refuse((ResourceType.TOPIC, "new-secret"))
        response = self.call(CREATE_TOPICS, 7, {
            "topics": [new_topic("new-secret")], "timeout_ms": 1000, "validate_only": False})
        self.assertEqual(response["topics"][0]["error_code"], ErrorCode.NONE)

    def test_create_partitions(self) -> None:
        """CreatePartitions needs Topic/Alter."""
        self.refuse(SECRET)
        response = self.call(CREATE_PARTITIONS, 3, {"topics": [
            {"name": "secret", "count": 3, "assignments": None}],
            "timeout_ms": 1000, "validate_only": False})
        self.assertEqual(response["results"][0]["error_code"], TAF)
        self.assertEqual(len(self.broker.store.vhost("/").topic("secret").partitions), 1)

    def test_describe_configs(self) -> None:
        """DescribeConfigs: Topic/DescribeConfigs; broker configs need the cluster's."""
        authorizer = self.refuse(SECRET, (ResourceType.CLUSTER, CLUSTER_NAME))
        response = self.call(DESCRIBE_CONFIGS, 4, {"resources": [
            {"resource_type": TOPIC_CONFIG, "resource_name": "secret", "configuration_keys": None},
            {"resource_type": BROKER_CONFIG, "resource_name": "0", "configuration_keys": None},
            {"resource_type": TOPIC_CONFIG, "resource_name": "open", "configuration_keys": None},
        ], "include_synonyms": False, "include_documentation": False})
        self.assertEqual([r["error_code"] for r in response["results"]],
                         [TAF, CAF, ErrorCode.NONE])
        self.assertEqual(response["results"][0]["configs"], [])
        self.assertEqual({q[1] for q in authorizer.asked}, {AclOperation.DESCRIBE_CONFIGS})

    def test_describe_cluster(self) -> None:
        """DescribeCluster needs Cluster/Describe."""
        self.refuse((ResourceType.CLUSTER, CLUSTER_NAME))
        response = self.call(DESCRIBE_CLUSTER, 1, {"include_cluster_authorized_operations": False,
                                                   "endpoint_type": 1})
        self.assertEqual(response["error_code"], CAF)
        self.assertEqual(response["brokers"], [])


class GroupApiTests(AuthorizationCase):
    """Group APIs answer a refused group with GROUP_AUTHORIZATION_FAILED."""

    def test_join_and_heartbeat(self) -> None:
        """JoinGroup and Heartbeat need Group/Read; no member joins."""
        authorizer = self.refuse((ResourceType.GROUP, "g"))
        join = call(self.broker, JOIN_GROUP, 5, {
            "group_id": "g", "session_timeout_ms": 10000, "rebalance_timeout_ms": 20000,
            "member_id": "", "group_instance_id": None, "protocol_type": "consumer",
            "protocols": [{"name": "range", "metadata": b""}]})
        self.assertEqual(join["error_code"], GAF)
        heartbeat = self.call(HEARTBEAT, 4, {"group_id": "g", "generation_id": 1,
                                             "member_id": "m", "group_instance_id": None})
        self.assertEqual(heartbeat["error_code"], GAF)
        self.assertEqual({q[1:] for q in authorizer.asked},
                         {(AclOperation.READ, ResourceType.GROUP, "g")})
        self.assertNotIn("g", self.broker.groups.for_vhost(self.broker.store.vhost("/")).groups)

    def test_offset_commit(self) -> None:
        """OffsetCommit needs Group/Read: every partition errs and nothing is committed."""
        self.refuse((ResourceType.GROUP, "g"))
        response = self.call(OFFSET_COMMIT, 8, commit_request(offsets={("open", 0): 1}))
        self.assertEqual(response["topics"][0]["partitions"][0]["error_code"], GAF)
        fetched = self.call(9, 7, {"group_id": "h", "topics": None, "require_stable": False})
        self.assertEqual(fetched["error_code"], ErrorCode.NONE)
        refused = self.call(9, 7, {"group_id": "g", "topics": None, "require_stable": False})
        self.assertEqual(refused["error_code"], GAF)

    def test_find_coordinator(self) -> None:
        """FindCoordinator for a group needs Group/Describe."""
        self.refuse((ResourceType.GROUP, "g"))
        response = self.call(FIND_COORDINATOR, 4, {"key_type": 0, "coordinator_keys": ["g", "h"]})
        self.assertEqual([c["error_code"] for c in response["coordinators"]],
                         [GAF, ErrorCode.NONE])

    def test_describe_and_delete_groups(self) -> None:
        """DescribeGroups needs Group/Describe, DeleteGroups Group/Delete, per group."""
        self.refuse((ResourceType.GROUP, "g"))
        described = self.call(DESCRIBE_GROUPS, 5, {"groups": ["g", "h"],
                                                   "include_authorized_operations": False})
        self.assertEqual([g["error_code"] for g in described["groups"]], [GAF, ErrorCode.NONE])
        deleted = self.call(DELETE_GROUPS, 2, {"groups_names": ["g"]})
        self.assertEqual(deleted["results"][0]["error_code"], GAF)
