# -*- test-case-name: tests.testing.test_contexts -*-
"""Tests for L{twisted_kafka.testing.contexts}: brokers and topics as context managers."""

from __future__ import annotations

import os

from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.testing import helpers
from twisted_kafka.testing.contexts import (
    BOOTSTRAP_ENV, ExternalBroker, external_bootstrap, shared_broker, topics)
from twisted_kafka.testing.process import KafkaBroker


class SharedBrokerTests(SynchronousTestCase):
    """L{shared_broker}: an external broker when named, else one of our own."""

    def setUp(self) -> None:
        """Remember and clear the environment variable."""
        saved = os.environ.pop(BOOTSTRAP_ENV, None)
        if saved is not None:
            self.addCleanup(os.environ.__setitem__, BOOTSTRAP_ENV, saved)
        self.addCleanup(os.environ.pop, BOOTSTRAP_ENV, None)

    def test_external(self) -> None:
        """KAFKA_BOOTSTRAP_SERVERS is used as given; nothing is started."""
        os.environ[BOOTSTRAP_ENV] = " kafka:9092,kafka2:9092 "
        with shared_broker() as broker:
            assert isinstance(broker, ExternalBroker)
            self.assertEqual(broker.bootstrap, "kafka:9092,kafka2:9092")
            self.assertRaises(RuntimeError, broker.restart)
            self.assertRaises(RuntimeError, lambda: broker.tls_bootstrap)

    def test_blank_is_unset(self) -> None:
        """A blank variable counts as unset."""
        os.environ[BOOTSTRAP_ENV] = "  "
        self.assertIsNone(external_bootstrap())

    def test_own(self) -> None:
        """Without the variable a broker is started, and stopped and removed at the end."""
        with shared_broker() as broker:
            assert isinstance(broker, KafkaBroker)
            helpers.create_topic(broker.bootstrap, "t")
            directory = broker.directory
        self.assertIsNone(broker.pid)
        self.assertFalse(os.path.exists(directory))


class TopicsTests(SynchronousTestCase):
    """L{topics}: unique topics, deleted at the end."""

    def test_created_and_deleted(self) -> None:
        """Each call makes a new topic named after the prefix; all go at the end."""
        with KafkaBroker() as broker:
            with topics(broker.bootstrap, prefix="orders") as make:
                first, second = make(), make(partitions=3, config={"retention.ms": "1000"})
                self.assertTrue(first.startswith("orders-"))
                self.assertNotEqual(first, second)
                self.assertEqual(helpers.wait_for_topic(broker.bootstrap, second), 3)
            for name in (first, second):
                self.assertRaises(
                    TimeoutError, helpers.wait_for_topic, broker.bootstrap, name, 0.1)
