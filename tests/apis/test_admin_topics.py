# -*- test-case-name: tests.apis.test_admin_topics -*-
"""Tests for CreateTopics, DeleteTopics and CreatePartitions, through the codec."""

from __future__ import annotations

from typing import Any

from twisted.trial.unittest import SynchronousTestCase

from tests.apis.support import call, limit_open_files, make_broker, roundtrip
from twisted_kafka.apis import create_partitions, create_topics, delete_topics
from twisted_kafka.broker import Broker
from twisted_kafka.errors import ErrorCode
from twisted_kafka.store.service import StreamStore

NULL_ID = b"\0" * 16


def new_topic(name: str, num_partitions: int = 1, replication_factor: int = 1,
              configs: dict[str, str | None] | None = None,
              assignments: list[list[int]] | None = None) -> dict:
    """Return one CreateTopics request entry."""
    return {
        "name": name,
        "num_partitions": num_partitions,
        "replication_factor": replication_factor,
        "assignments": [{"partition_index": i, "broker_ids": ids}
                        for i, ids in enumerate(assignments or [])],
        "configs": [{"name": k, "value": v} for k, v in (configs or {}).items()],
    }


def reopen_store(case: SynchronousTestCase, broker: Broker) -> StreamStore:
    """Stop C{broker}'s store and return a new one started on the same files."""
    store = broker.store
    store.stopService()
    reopened = StreamStore(store.data_dir, store.config, reactor=broker.reactor)
    reopened.startService()
    case.addCleanup(reopened.stopService)
    return reopened


def create(broker: Broker, *topics: dict, version: int = 7, validate_only: bool = False) -> dict:
    """Send CreateTopics for C{topics}; return the decoded response."""
    response = call(broker, create_topics.API_KEY, version, {
        "topics": list(topics), "timeout_ms": 5000, "validate_only": validate_only})
    return roundtrip(create_topics.API_KEY, version, response)


def create_one(broker: Broker, *args: Any, version: int = 7, **kwargs: Any) -> dict:
    """Create one topic (see L{new_topic}); return its result entry."""
    validate_only = kwargs.pop("validate_only", False)
    response = create(broker, new_topic(*args, **kwargs), version=version,
                      validate_only=validate_only)
    [result] = response["topics"]
    return result


class CreateTopicsTests(SynchronousTestCase):
    """CreateTopics creates topics as Kafka does, on a single node."""

    def setUp(self) -> None:
        """Set up what each test here uses."""
        self.broker = make_broker(self, kafka={"num_partitions": 3})
        self.vhost = self.broker.store.vhost("/")

    def test_create(self) -> None:
        """A topic is created with its partitions and configs; v7 returns its id."""
        result = create_one(self.broker, "orders", 4, 1, configs={"retention.ms": "60000"})
        self.assertEqual(result["error_code"], ErrorCode.NONE)
        self.assertIsNone(result["error_message"])
        topic = self.vhost.topic("orders")
        self.assertEqual(len(topic.partitions), 4)
        self.assertEqual(topic.configs, {"retention.ms": "60000"})
        self.assertEqual(result["topic_id"], topic.topic_id)
        self.assertEqual(result["num_partitions"], 4)
        self.assertEqual(result["replication_factor"], 1)

    def test_v5_configs(self) -> None:
        """From v5 the result lists every topic config with its value and source."""
        result = create_one(self.broker, "t", 1, 1, configs={"retention.ms": "60000"})
        configs = {c["name"]: c for c in result["configs"]}
        self.assertEqual(configs["retention.ms"]["value"], "60000")
        self.assertEqual(configs["retention.ms"]["config_source"], 1)
        self.assertEqual(configs["segment.bytes"]["value"], str(1 << 30))
        self.assertEqual(configs["segment.bytes"]["config_source"], 5)
        self.assertFalse(configs["retention.ms"]["read_only"])
        self.assertIn("cleanup.policy", configs)

    def test_v2(self) -> None:
        """v2 (the oldest served) creates topics; its results carry no partition count."""
        result = create_one(self.broker, "old", 2, 1, version=2)
        self.assertEqual(result["error_code"], ErrorCode.NONE)
        self.assertEqual(len(self.vhost.topic("old").partitions), 2)
        self.assertEqual(result["num_partitions"], -1)

    def test_defaults(self) -> None:
        """-1 partitions means [kafka] num_partitions; -1 replication factor means 1."""
        result = create_one(self.broker, "d", -1, -1)
        self.assertEqual(result["error_code"], ErrorCode.NONE)
        self.assertEqual(result["num_partitions"], 3)
        self.assertEqual(result["replication_factor"], 1)
        self.assertEqual(len(self.vhost.topic("d").partitions), 3)

    def test_replication_factor_too_high(self) -> None:
        """A replication factor above 1 is refused, saying this is a single node."""
        result = create_one(self.broker, "r", 1, 3)
        self.assertEqual(result["error_code"], ErrorCode.INVALID_REPLICATION_FACTOR)
        self.assertIn("single-node", result["error_message"])
        self.assertIsNone(self.vhost.topic("r"))

    def test_replication_factor_zero(self) -> None:
        """Replication factor 0 or below -1 is INVALID_REPLICATION_FACTOR."""
        for factor in (0, -2):
            result = create_one(self.broker, "r", 1, factor)
            self.assertEqual(result["error_code"], ErrorCode.INVALID_REPLICATION_FACTOR)

    def test_bad_partition_count(self) -> None:
        """0 or fewer than -1 partitions is INVALID_PARTITIONS."""
        for count in (0, -2):
            result = create_one(self.broker, "p", count, 1)
            self.assertEqual(result["error_code"], ErrorCode.INVALID_PARTITIONS)
            self.assertEqual(result["num_partitions"], -1)
        self.assertIsNone(self.vhost.topic("p"))

    def test_already_exists(self) -> None:
        """Creating an existing topic is TOPIC_ALREADY_EXISTS, with Kafka's message."""
        create_one(self.broker, "x")
        result = create_one(self.broker, "x")
        self.assertEqual(result["error_code"], ErrorCode.TOPIC_ALREADY_EXISTS)
        self.assertEqual(result["error_message"], "Topic 'x' already exists.")

    def test_invalid_name(self) -> None:
        """An illegal name is INVALID_TOPIC_EXCEPTION."""
        result = create_one(self.broker, "bad name")
        self.assertEqual(result["error_code"], ErrorCode.INVALID_TOPIC_EXCEPTION)
        self.assertIn("illegal", result["error_message"])

    def test_internal_name(self) -> None:
        """Names starting with __ are reserved for internal stream queues."""
        result = create_one(self.broker, "__mine")
        self.assertEqual(result["error_code"], ErrorCode.POLICY_VIOLATION)
        self.assertIn("reserved", result["error_message"])
        self.assertIsNone(self.vhost.topic("__mine"))

    def test_unknown_config(self) -> None:
        """An unknown config is INVALID_CONFIG naming the key; nothing is created."""
        result = create_one(self.broker, "c", configs={"no.such.config": "1"})
        self.assertEqual(result["error_code"], ErrorCode.INVALID_CONFIG)
        self.assertIn("no.such.config", result["error_message"])
        self.assertIsNone(self.vhost.topic("c"))

    def test_malformed_config(self) -> None:
        """A malformed value is INVALID_CONFIG naming the key."""
        result = create_one(self.broker, "c", configs={"retention.ms": "soon"})
        self.assertEqual(result["error_code"], ErrorCode.INVALID_CONFIG)
        self.assertIn("retention.ms", result["error_message"])

    def test_compaction(self) -> None:
        """cleanup.policy=compact creates a compacted topic; an unknown policy is INVALID_CONFIG."""
        result = create_one(self.broker, "c", configs={"cleanup.policy": "compact"})
        self.assertEqual(result["error_code"], ErrorCode.NONE)
        topic = self.broker.store.vhost("/").topic("c")
        assert topic is not None
        self.assertTrue(topic.partitions[0].requires_keys)
        result = create_one(self.broker, "d", configs={"cleanup.policy": "compact,forever"})
        self.assertEqual(result["error_code"], ErrorCode.INVALID_CONFIG)
        self.assertIn("cleanup.policy", result["error_message"])

    def test_null_config(self) -> None:
        """A config with a null value is INVALID_CONFIG naming it."""
        result = create_one(self.broker, "c", configs={"retention.ms": None})
        self.assertEqual(result["error_code"], ErrorCode.INVALID_CONFIG)
        self.assertIn("retention.ms", result["error_message"])

    def test_duplicate_config(self) -> None:
        """A config given twice is INVALID_REQUEST."""
        topic = new_topic("c")
        topic["configs"] = [{"name": "retention.ms", "value": "1000"},
                            {"name": "retention.ms", "value": "2000"}]
        [result] = create(self.broker, topic)["topics"]
        self.assertEqual(result["error_code"], ErrorCode.INVALID_REQUEST)

    def test_duplicate_name(self) -> None:
        """A name given twice gets one INVALID_REQUEST result; the others proceed."""
        response = create(self.broker, new_topic("a"), new_topic("a"), new_topic("b"))
        results = {t["name"]: t for t in response["topics"]}
        self.assertEqual(len(response["topics"]), 2)
        self.assertEqual(results["a"]["error_code"], ErrorCode.INVALID_REQUEST)
        self.assertEqual(results["a"]["error_message"], "Duplicate topic name.")
        self.assertEqual(results["b"]["error_code"], ErrorCode.NONE)
        self.assertIsNone(self.vhost.topic("a"))

    def test_validate_only(self) -> None:
        """validate_only answers as a creation would and creates nothing."""
        result = create_one(self.broker, "v", 5, 1, configs={"retention.bytes": "1000"},
                            validate_only=True)
        self.assertEqual(result["error_code"], ErrorCode.NONE)
        self.assertEqual(result["num_partitions"], 5)
        self.assertIsNone(self.vhost.topic("v"))
        bad = create_one(self.broker, "v", 5, 1, configs={"retention.bytes": "x"},
                         validate_only=True)
        self.assertEqual(bad["error_code"], ErrorCode.INVALID_CONFIG)

    def test_manual_assignment(self) -> None:
        """Assignments onto this broker, one replica each, set the partition count."""
        result = create_one(self.broker, "m", -1, -1, assignments=[[0], [0]])
        self.assertEqual(result["error_code"], ErrorCode.NONE)
        self.assertEqual(len(self.vhost.topic("m").partitions), 2)

    def test_manual_assignment_other_broker(self) -> None:
        """An assignment naming another broker is INVALID_REPLICA_ASSIGNMENT."""
        result = create_one(self.broker, "m", -1, -1, assignments=[[0], [1]])
        self.assertEqual(result["error_code"], ErrorCode.INVALID_REPLICA_ASSIGNMENT)
        self.assertIn("broker 1", result["error_message"])

    def test_manual_assignment_two_replicas(self) -> None:
        """Naming this broker twice in one partition is INVALID_REPLICA_ASSIGNMENT."""
        result = create_one(self.broker, "m", -1, -1, assignments=[[0, 0]])
        self.assertEqual(result["error_code"], ErrorCode.INVALID_REPLICA_ASSIGNMENT)
        self.assertIn("more than once", result["error_message"])

    def test_manual_assignment_empty(self) -> None:
        """An empty replica list is INVALID_REPLICA_ASSIGNMENT."""
        result = create_one(self.broker, "m", -1, -1, assignments=[[]])
        self.assertEqual(result["error_code"], ErrorCode.INVALID_REPLICA_ASSIGNMENT)

    def test_manual_assignment_gap(self) -> None:
        """Partition indexes of an assignment must be 0..n-1."""
        topic = new_topic("m", -1, -1)
        topic["assignments"] = [{"partition_index": 0, "broker_ids": [0]},
                                {"partition_index": 2, "broker_ids": [0]}]
        [result] = create(self.broker, topic)["topics"]
        self.assertEqual(result["error_code"], ErrorCode.INVALID_REPLICA_ASSIGNMENT)
        topic["assignments"][1]["partition_index"] = 0
        [result] = create(self.broker, topic)["topics"]
        self.assertEqual(result["error_code"], ErrorCode.INVALID_REPLICA_ASSIGNMENT)

    def test_manual_assignment_with_counts(self) -> None:
        """Assignments with a partition count or replication factor set: INVALID_REQUEST."""
        result = create_one(self.broker, "m", 1, -1, assignments=[[0]])
        self.assertEqual(result["error_code"], ErrorCode.INVALID_REQUEST)
        result = create_one(self.broker, "m", -1, 1, assignments=[[0]])
        self.assertEqual(result["error_code"], ErrorCode.INVALID_REQUEST)

    def test_too_many_partitions(self) -> None:
        """More than 10000 partitions in one request: POLICY_VIOLATION for every topic."""
        response = create(self.broker, new_topic("a", 6000), new_topic("b", 6000))
        self.assertEqual([t["error_code"] for t in response["topics"]],
                         [ErrorCode.POLICY_VIOLATION] * 2)
        self.assertEqual(self.vhost.topics(), [])

    def test_open_file_budget(self) -> None:
        """A topic whose partitions would not fit the open-file limit is POLICY_VIOLATION, validate-only too; others in the request are created."""
        limit_open_files(self.broker, 4)
        response = create(self.broker, new_topic("fits", 3), new_topic("over", 2),
                          new_topic("last", 1))
        self.assertEqual([(t["name"], t["error_code"]) for t in response["topics"]],
                         [("fits", ErrorCode.NONE), ("over", ErrorCode.POLICY_VIOLATION),
                          ("last", ErrorCode.NONE)])
        self.assertIn("open-file limit", response["topics"][1]["error_message"])
        result = create_one(self.broker, "more", 1, validate_only=True)
        self.assertEqual(result["error_code"], ErrorCode.POLICY_VIOLATION)
        self.assertEqual([t.name for t in self.vhost.topics()], ["fits", "last"])


def delete(broker: Broker, names: list[str] | None = None,
           topics: list[tuple[str | None, bytes]] | None = None, version: int = 6) -> dict:
    """Send DeleteTopics by C{names} (any version) or (name, id) pairs (v6)."""
    if topics is None:
        topics = [(name, NULL_ID) for name in names or []]
    request = {"topics": [{"name": n, "topic_id": i} for n, i in topics],
               "topic_names": names or [], "timeout_ms": 1000}
    response = call(broker, delete_topics.API_KEY, version, request)
    return roundtrip(delete_topics.API_KEY, version, response)


class DeleteTopicsTests(SynchronousTestCase):
    """DeleteTopics removes topics by name, and from v6 by id."""

    def setUp(self) -> None:
        """Set up what each test here uses."""
        self.broker = make_broker(self)
        self.vhost = self.broker.store.vhost("/")
        create(self.broker, new_topic("a"), new_topic("b", 2))

    def test_by_name(self) -> None:
        """v1 deletes by name."""
        [result] = delete(self.broker, ["a"], version=1)["responses"]
        self.assertEqual((result["name"], result["error_code"]), ("a", ErrorCode.NONE))
        self.assertIsNone(self.vhost.topic("a"))
        self.assertIsNotNone(self.vhost.topic("b"))

    def test_by_id(self) -> None:
        """v6 deletes by id and names the deleted topic."""
        topic_id = self.vhost.topic("b").topic_id
        [result] = delete(self.broker, topics=[(None, topic_id)])["responses"]
        self.assertEqual(result["error_code"], ErrorCode.NONE)
        self.assertEqual((result["name"], result["topic_id"]), ("b", topic_id))
        self.assertIsNone(self.vhost.topic("b"))

    def test_unknown_name(self) -> None:
        """An unknown name is UNKNOWN_TOPIC_OR_PARTITION (v5 has a message)."""
        [result] = delete(self.broker, ["nope"], version=5)["responses"]
        self.assertEqual(result["error_code"], ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
        self.assertIn("nope", result["error_message"])

    def test_unknown_id(self) -> None:
        """An unknown id is UNKNOWN_TOPIC_ID."""
        [result] = delete(self.broker, topics=[(None, b"\1" * 16)])["responses"]
        self.assertEqual(result["error_code"], ErrorCode.UNKNOWN_TOPIC_ID)

    def test_name_and_id(self) -> None:
        """Naming a topic by both name and id is INVALID_REQUEST."""
        topic_id = self.vhost.topic("a").topic_id
        [result] = delete(self.broker, topics=[("a", topic_id)])["responses"]
        self.assertEqual(result["error_code"], ErrorCode.INVALID_REQUEST)
        self.assertIsNotNone(self.vhost.topic("a"))

    def test_neither(self) -> None:
        """Naming a topic by neither name nor id is INVALID_REQUEST."""
        [result] = delete(self.broker, topics=[(None, NULL_ID)])["responses"]
        self.assertEqual(result["error_code"], ErrorCode.INVALID_REQUEST)

    def test_duplicate(self) -> None:
        """A name given twice is INVALID_REQUEST once, and the topic stays."""
        response = delete(self.broker, ["a", "a"], version=4)
        self.assertEqual([r["error_code"] for r in response["responses"]],
                         [ErrorCode.INVALID_REQUEST])
        self.assertIsNotNone(self.vhost.topic("a"))

    def test_internal(self) -> None:
        """Internal stream queues cannot be deleted: POLICY_VIOLATION."""
        self.vhost.create_topic("__internal", 1)
        [result] = delete(self.broker, ["__internal"])["responses"]
        self.assertEqual(result["error_code"], ErrorCode.POLICY_VIOLATION)
        self.assertIn("internal", result["error_message"])
        self.assertIsNotNone(self.vhost.topic("__internal"))

    def test_recreate(self) -> None:
        """A deleted topic's name can be used again, with a new id and empty log."""
        old_id = self.vhost.topic("b").topic_id
        delete(self.broker, ["b"])
        result = create_one(self.broker, "b", 1)
        self.assertEqual(result["error_code"], ErrorCode.NONE)
        self.assertNotEqual(self.vhost.topic("b").topic_id, old_id)
        self.assertEqual(self.vhost.topic("b").partitions[0].high_watermark, 0)


def add_partitions(broker: Broker, name: str, count: int,
                   assignments: list[list[int]] | None = None, version: int = 3,
                   validate_only: bool = False) -> dict:
    """Send CreatePartitions for one topic; return its result entry."""
    request = {
        "topics": [{"name": name, "count": count,
                    "assignments": None if assignments is None else
                    [{"broker_ids": ids} for ids in assignments]}],
        "timeout_ms": 1000, "validate_only": validate_only,
    }
    response = call(broker, create_partitions.API_KEY, version, request)
    [result] = roundtrip(create_partitions.API_KEY, version, response)["results"]
    return result


class CreatePartitionsTests(SynchronousTestCase):
    """CreatePartitions grows topics."""

    def setUp(self) -> None:
        """Set up what each test here uses."""
        self.broker = make_broker(self)
        self.vhost = self.broker.store.vhost("/")
        create(self.broker, new_topic("t", 2))

    def test_grow(self) -> None:
        """The topic gets the new total of partitions."""
        result = add_partitions(self.broker, "t", 5, version=0)
        self.assertEqual(result["error_code"], ErrorCode.NONE)
        self.assertEqual(len(self.vhost.topic("t").partitions), 5)

    def test_assignments(self) -> None:
        """Assignments naming this broker, one per new partition, are accepted."""
        result = add_partitions(self.broker, "t", 4, assignments=[[0], [0]])
        self.assertEqual(result["error_code"], ErrorCode.NONE)
        self.assertEqual(len(self.vhost.topic("t").partitions), 4)

    def test_assignment_count(self) -> None:
        """Too few assignments is INVALID_REPLICA_ASSIGNMENT."""
        result = add_partitions(self.broker, "t", 4, assignments=[[0]])
        self.assertEqual(result["error_code"], ErrorCode.INVALID_REPLICA_ASSIGNMENT)
        self.assertEqual(len(self.vhost.topic("t").partitions), 2)

    def test_assignment_other_broker(self) -> None:
        """An assignment naming another broker is INVALID_REPLICA_ASSIGNMENT."""
        result = add_partitions(self.broker, "t", 3, assignments=[[7]])
        self.assertEqual(result["error_code"], ErrorCode.INVALID_REPLICA_ASSIGNMENT)

    def test_same_count(self) -> None:
        """The current count is INVALID_PARTITIONS."""
        result = add_partitions(self.broker, "t", 2)
        self.assertEqual(result["error_code"], ErrorCode.INVALID_PARTITIONS)
        self.assertEqual(result["error_message"], "Topic already has 2 partition(s).")

    def test_shrink(self) -> None:
        """A smaller count is INVALID_PARTITIONS."""
        result = add_partitions(self.broker, "t", 1)
        self.assertEqual(result["error_code"], ErrorCode.INVALID_PARTITIONS)
        self.assertIn("would not be an increase", result["error_message"])

    def test_unknown(self) -> None:
        """An unknown topic is UNKNOWN_TOPIC_OR_PARTITION."""
        result = add_partitions(self.broker, "nope", 3)
        self.assertEqual(result["error_code"], ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)

    def test_validate_only(self) -> None:
        """validate_only changes nothing."""
        result = add_partitions(self.broker, "t", 9, validate_only=True)
        self.assertEqual(result["error_code"], ErrorCode.NONE)
        self.assertEqual(len(self.vhost.topic("t").partitions), 2)

    def test_too_many(self) -> None:
        """Adding more than 10000 partitions at once is POLICY_VIOLATION."""
        result = add_partitions(self.broker, "t", 10003)
        self.assertEqual(result["error_code"], ErrorCode.POLICY_VIOLATION)

    def test_open_file_budget(self) -> None:
        """Partitions that would not fit the open-file limit are POLICY_VIOLATION, validate-only too."""
        limit_open_files(self.broker, 3)
        for validate_only in (True, False):
            result = add_partitions(self.broker, "t", 6, validate_only=validate_only)
            self.assertEqual(result["error_code"], ErrorCode.POLICY_VIOLATION)
            self.assertIn("open-file limit", result["error_message"])
        self.assertEqual(len(self.vhost.topic("t").partitions), 2)
        result = add_partitions(self.broker, "t", 5)
        self.assertEqual(result["error_code"], ErrorCode.NONE)

    def test_internal(self) -> None:
        """Internal stream queues cannot be grown: POLICY_VIOLATION."""
        self.vhost.create_topic("__internal", 1)
        result = add_partitions(self.broker, "__internal", 2)
        self.assertEqual(result["error_code"], ErrorCode.POLICY_VIOLATION)
        self.assertEqual(len(self.vhost.topic("__internal").partitions), 1)

    def test_duplicate(self) -> None:
        """A topic named twice is INVALID_REQUEST and is not grown."""
        request = {"topics": [{"name": "t", "count": 3, "assignments": None}] * 2,
                   "timeout_ms": 1000, "validate_only": False}
        response = call(self.broker, create_partitions.API_KEY, 1, request)
        [result] = roundtrip(create_partitions.API_KEY, 1, response)["results"]
        self.assertEqual(result["error_code"], ErrorCode.INVALID_REQUEST)
        self.assertEqual(len(self.vhost.topic("t").partitions), 2)

    def test_persists(self) -> None:
        """The new partition count survives a restart of the store."""
        add_partitions(self.broker, "t", 3)
        topic = reopen_store(self, self.broker).vhost("/").topic("t")
        assert topic is not None
        self.assertEqual(len(topic.partitions), 3)
