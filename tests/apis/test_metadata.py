# -*- test-case-name: tests.apis.test_metadata -*-
"""Tests for L{twisted_kafka.apis.metadata}."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.errors import ErrorCode
from tests.apis.support import call, limit_open_files, make_broker, roundtrip

METADATA = 3


def topics_of(response: dict) -> dict[str, dict]:
    """Return the response's topics by name."""
    return {t["name"]: t for t in response["topics"]}


class MetadataTests(SynchronousTestCase):
    """Metadata answers as each version defines."""

    def setUp(self) -> None:
        """Start a broker with two topics."""
        self.broker = make_broker(self, kafka={"num_partitions": 3})
        vhost = self.broker.store.vhost("/")
        vhost.create_topic("alpha", 2)
        vhost.create_topic("beta", 1)

    def ask(self, version: int, topics: list | None, **extra: object) -> dict:
        """Send a Metadata request and return the decoded response."""
        if topics is not None:
            topics = [t if isinstance(t, dict) else {"name": t} for t in topics]
        request = {"topics": topics, **extra}
        return roundtrip(METADATA, version, call(self.broker, METADATA, version, request))

    def test_all_topics(self) -> None:
        """A null topic list (an empty one in v0) lists every topic."""
        for version in range(0, 14):
            topics = [] if version == 0 else None
            response = self.ask(version, topics)
            self.assertEqual(sorted(topics_of(response)), ["alpha", "beta"], version)
            alpha = topics_of(response)["alpha"]
            self.assertEqual([p["partition_index"] for p in alpha["partitions"]], [0, 1])
            self.assertEqual(response["brokers"][0]["node_id"], 0)
            self.assertEqual(response["brokers"][0]["port"], 9092)

    def test_empty_list_means_none(self) -> None:
        """From v1 an empty list asks for no topics."""
        for version in range(1, 14):
            self.assertEqual(self.ask(version, [])["topics"], [], version)

    def test_cluster_and_topic_ids(self) -> None:
        """Cluster id (v2+) and topic ids (v10+) come from the store."""
        response = self.ask(12, None)
        self.assertEqual(response["cluster_id"], self.broker.store.cluster_id)
        self.assertEqual(response["controller_id"], 0)
        alpha = topics_of(response)["alpha"]
        self.assertEqual(alpha["topic_id"], self.broker.store.vhost("/").topic("alpha").topic_id)
        self.assertEqual(alpha["partitions"][0]["leader_epoch"], 0)

    def test_auto_create(self) -> None:
        """A named unknown topic is created with num_partitions and listed at once."""
        response = self.ask(9, ["gamma"], allow_auto_topic_creation=True)
        gamma = topics_of(response)["gamma"]
        self.assertEqual(gamma["error_code"], ErrorCode.NONE)
        self.assertEqual(len(gamma["partitions"]), 3)
        self.assertIsNotNone(self.broker.store.vhost("/").topic("gamma"))

    def test_auto_create_beyond_open_file_budget(self) -> None:
        """A topic whose auto-creation would not fit the open-file limit is POLICY_VIOLATION and not created."""
        limit_open_files(self.broker, 3)
        response = self.ask(9, ["gamma", "delta"], allow_auto_topic_creation=True)
        self.assertEqual(topics_of(response)["gamma"]["error_code"], ErrorCode.NONE)
        self.assertEqual(topics_of(response)["delta"]["error_code"], ErrorCode.POLICY_VIOLATION)
        self.assertIsNone(self.broker.store.vhost("/").topic("delta"))

    def test_auto_create_not_allowed_by_request(self) -> None:
        """allow_auto_topic_creation=false gives UNKNOWN_TOPIC_OR_PARTITION."""
        response = self.ask(9, ["gamma"], allow_auto_topic_creation=False)
        self.assertEqual(topics_of(response)["gamma"]["error_code"],
                         ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
        self.assertIsNone(self.broker.store.vhost("/").topic("gamma"))

    def test_auto_create_off(self) -> None:
        """With auto_create_topics off an unknown topic is UNKNOWN_TOPIC_OR_PARTITION."""
        self.broker = make_broker(self, kafka={"auto_create_topics": False})
        response = self.ask(1, ["gamma"])
        self.assertEqual(topics_of(response)["gamma"]["error_code"],
                         ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)

    def test_invalid_name(self) -> None:
        """An invalid topic name is INVALID_TOPIC_EXCEPTION and creates nothing."""
        for name in ["bad name", "..", "x" * 250, "a/b"]:
            response = self.ask(4, [name])
            self.assertEqual(topics_of(response)[name]["error_code"],
                             ErrorCode.INVALID_TOPIC_EXCEPTION, name)

    def test_invalid_name_without_auto_create(self) -> None:
        """Without auto-creation an invalid name is still INVALID_TOPIC_EXCEPTION, as
        Kafka validates the names of missing topics it will not create."""
        response = self.ask(9, ["bad name"], allow_auto_topic_creation=False)
        self.assertEqual(topics_of(response)["bad name"]["error_code"],
                         ErrorCode.INVALID_TOPIC_EXCEPTION)
        self.broker = make_broker(self, kafka={"auto_create_topics": False})
        response = self.ask(1, ["a/b", "fine"])
        self.assertEqual(topics_of(response)["a/b"]["error_code"],
                         ErrorCode.INVALID_TOPIC_EXCEPTION)
        self.assertEqual(topics_of(response)["fine"]["error_code"],
                         ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)

    def test_internal_names_not_auto_created(self) -> None:
        """A name starting with C{__} is reserved: INVALID_TOPIC_EXCEPTION, nothing created."""
        response = self.ask(9, ["__mine"])
        self.assertEqual(topics_of(response)["__mine"]["error_code"],
                         ErrorCode.INVALID_TOPIC_EXCEPTION)
        self.assertIsNone(self.broker.store.vhost("/").topic("__mine"))

    def test_topic_by_id(self) -> None:
        """v10+: a topic can be named by id; an unknown id is UNKNOWN_TOPIC_ID."""
        topic_id = self.broker.store.vhost("/").topic("beta").topic_id
        response = self.ask(12, [{"name": None, "topic_id": topic_id},
                                 {"name": None, "topic_id": b"\1" * 16}])
        self.assertEqual(response["topics"][0]["name"], "beta")
        self.assertEqual(response["topics"][1]["error_code"], ErrorCode.UNKNOWN_TOPIC_ID)

    def test_authorized_operations(self) -> None:
        """v8+: authorized operations are reported only when asked for."""
        asked = self.ask(8, None, include_topic_authorized_operations=True)
        not_asked = self.ask(8, None)
        self.assertGreater(topics_of(asked)["alpha"]["topic_authorized_operations"], 0)
        self.assertEqual(topics_of(not_asked)["alpha"]["topic_authorized_operations"], -(2**31))

    def test_internal_topics_hidden(self) -> None:
        """Internal stream queues are not in the all-topics listing."""
        self.broker.store.vhost("/").create_topic("__consumer_offsets", 1)
        self.assertNotIn("__consumer_offsets", topics_of(self.ask(9, None)))

    def test_vhosts_are_separate(self) -> None:
        """A topic of one vhost is not listed in another."""
        response = roundtrip(METADATA, 9, call(self.broker, METADATA, 9, {"topics": None},
                                               vhost="other"))
        self.assertEqual(response["topics"], [])
