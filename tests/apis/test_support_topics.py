# -*- test-case-name: tests.apis.test_support_topics -*-
"""Tests for L{twisted_kafka.apis.support.topics}: finding the queue a request names."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from tests.apis.support import make_broker
from twisted_kafka.apis.support.topics import (
    NULL_TOPIC_ID, RequestedTopic, check_leader_epoch, find_partition, find_topic)
from twisted_kafka.errors import ErrorCode, KafkaError
from twisted_kafka.server.authorizer import ResourceType
from twisted_kafka.server.context import RequestContext


class _RefuseNamed:
    """A request access that refuses one topic name."""

    principal = "User:test"

    def __init__(self, name: str) -> None:
        self.name = name

    def refused(self, resource_type: ResourceType, name: str) -> bool:
        """Refuse the one topic."""
        return resource_type is ResourceType.TOPIC and name == self.name


class FindTests(SynchronousTestCase):
    """L{find_topic} and L{find_partition}."""

    def setUp(self) -> None:
        self.broker = make_broker(self)
        self.vhost = self.broker.store.vhost("/")
        self.topic = self.vhost.create_topic("orders", 2)

    def code(self, f: object, *args: object) -> ErrorCode:
        """Return the error code C{f(*args)} raises."""
        e = self.assertRaises(KafkaError, f, *args)
        return e.code

    def test_by_name(self) -> None:
        """A name finds its topic; an unknown one is UNKNOWN_TOPIC_OR_PARTITION."""
        self.assertIs(find_topic(self.vhost, "orders"), self.topic)
        self.assertEqual(self.code(find_topic, self.vhost, "nope"),
                         ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)

    def test_by_id(self) -> None:
        """With no name (or an empty one) the id finds the topic; an unknown id is UNKNOWN_TOPIC_ID."""
        self.assertIs(find_topic(self.vhost, None, self.topic.topic_id), self.topic)
        self.assertIs(find_topic(self.vhost, "", self.topic.topic_id), self.topic)
        self.assertEqual(self.code(find_topic, self.vhost, None, b"\1" * 16),
                         ErrorCode.UNKNOWN_TOPIC_ID)
        self.assertEqual(self.code(find_topic, self.vhost, None, NULL_TOPIC_ID),
                         ErrorCode.UNKNOWN_TOPIC_ID)

    def test_name_wins_over_null_id(self) -> None:
        """A name with the null id is looked up by name."""
        self.assertIs(find_topic(self.vhost, "orders", NULL_TOPIC_ID), self.topic)

    def test_partition(self) -> None:
        """Partitions 0..n-1 exist; others (negative included) are UNKNOWN_TOPIC_OR_PARTITION."""
        self.assertEqual(find_partition(self.topic, 1).index, 1)
        for index in (2, -1):
            self.assertEqual(self.code(find_partition, self.topic, index),
                             ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)


class RequestedTopicTests(SynchronousTestCase):
    """L{RequestedTopic}: found and allowed, or the error its partitions get."""

    def setUp(self) -> None:
        self.broker = make_broker(self)
        self.vhost = self.broker.store.vhost("/")
        self.topic = self.vhost.create_topic("orders", 1)

    def context(self, refuse: str | None = None) -> RequestContext:
        """A request context, refusing topic C{refuse} if given."""
        context = RequestContext(broker=self.broker, vhost=self.vhost, api_version=0,
                                 client_id=None, peer="test:1",
                                 advertised_host="127.0.0.1", advertised_port=9092)
        if refuse is not None:
            context.access = _RefuseNamed(refuse)
        return context

    def test_found(self) -> None:
        """A known topic gives its partitions."""
        requested = RequestedTopic(self.context(), "orders")
        self.assertIsNone(requested.error)
        self.assertEqual(requested.partition(0).index, 0)
        e = self.assertRaises(KafkaError, requested.partition, 1)
        self.assertEqual(e.code, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)

    def test_unknown(self) -> None:
        """An unknown topic's partitions all get its error."""
        requested = RequestedTopic(self.context(), "nope")
        assert requested.error is not None
        self.assertEqual(requested.error.code, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
        e = self.assertRaises(KafkaError, requested.partition, 0)
        self.assertIs(e, requested.error)

    def test_refused_before_existence(self) -> None:
        """A refused name is TOPIC_AUTHORIZATION_FAILED whether or not it exists."""
        for name in ("orders", "nope"):
            requested = RequestedTopic(self.context(refuse=name), name)
            assert requested.error is not None
            self.assertEqual(requested.error.code, ErrorCode.TOPIC_AUTHORIZATION_FAILED)

    def test_refused_by_id(self) -> None:
        """A topic named by id is refused once found, by its name."""
        requested = RequestedTopic(self.context(refuse="orders"), None, self.topic.topic_id)
        assert requested.error is not None
        self.assertEqual(requested.error.code, ErrorCode.TOPIC_AUTHORIZATION_FAILED)


class LeaderEpochTests(SynchronousTestCase):
    """L{check_leader_epoch} against this node's one epoch, 0."""

    def test_epochs(self) -> None:
        """-1 and 0 pass; newer is UNKNOWN_LEADER_EPOCH, older FENCED_LEADER_EPOCH."""
        check_leader_epoch(-1)
        check_leader_epoch(0)
        self.assertEqual(self.assertRaises(KafkaError, check_leader_epoch, 1).code,
                         ErrorCode.UNKNOWN_LEADER_EPOCH)
        self.assertEqual(self.assertRaises(KafkaError, check_leader_epoch, -2).code,
                         ErrorCode.FENCED_LEADER_EPOCH)
