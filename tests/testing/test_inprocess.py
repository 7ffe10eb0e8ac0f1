# -*- test-case-name: tests.testing.test_inprocess -*-
"""Tests for L{twisted_kafka.testing.inprocess}: a broker on the test's own reactor.

The unit tests run it on a L{MemoryReactorClock}; the others on trial's
reactor, with real clients (confluent-kafka, kafka-python) in threads.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from typing import Any

from confluent_kafka import Consumer, Producer, TopicPartition
from kafka import KafkaConsumer, KafkaProducer
from kafka import TopicPartition as KafkaTopicPartition
from twisted.internet.defer import Deferred, ensureDeferred
from twisted.internet.testing import MemoryReactorClock
from twisted.internet.threads import deferToThread
from twisted.trial.unittest import SynchronousTestCase, TestCase

from twisted_kafka.testing import helpers
from twisted_kafka.testing.inprocess import InProcessBroker
from twisted_kafka.testing.settings import BrokerSettings, BrokerStartError


class MemoryReactorTests(SynchronousTestCase):
    """What the broker asks of its reactor: ephemeral ports on loopback."""

    def test_listens_on_ephemeral_loopback_ports(self) -> None:
        """TCP (and TLS) listen on port 0 of 127.0.0.1; start fires with the broker."""
        reactor = MemoryReactorClock()
        broker = InProcessBroker(reactor=reactor, tls=True)
        self.assertIs(self.successResultOf(broker.start()), broker)
        [(port, _, _, interface)] = reactor.tcpServers
        self.assertEqual((port, interface), (0, "127.0.0.1"))
        [(tls_port, _, _, _, tls_interface)] = reactor.sslServers
        self.assertEqual((tls_port, tls_interface), (0, "127.0.0.1"))
        self.assertIsNotNone(broker.service)
        self.successResultOf(broker.stop())
        self.assertIsNone(broker.service)

    def test_own_directory_removed(self) -> None:
        """A directory the broker made is removed by stop; a given one is kept."""
        reactor = MemoryReactorClock()
        made = InProcessBroker(reactor=reactor)
        given_directory = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, given_directory)
        given = InProcessBroker(reactor=reactor, directory=given_directory)
        self.successResultOf(made.start())
        self.successResultOf(given.start())
        self.assertTrue(os.path.isdir(made.data_dir))
        self.successResultOf(made.stop())
        self.successResultOf(given.stop())
        self.assertFalse(os.path.exists(made.directory))
        self.assertTrue(os.path.isdir(given.data_dir))

    def test_bad_setting(self) -> None:
        """A setting the broker refuses fails start with file, section and key."""
        broker = InProcessBroker(reactor=MemoryReactorClock(), store={"segment_bytes": "big"})
        self.addCleanup(broker.stop)
        failure = self.failureResultOf(broker.start(), BrokerStartError)
        message = str(failure.value)
        self.assertIn("twisted-kafka.ini", message)
        self.assertIn("[store] segment_bytes", message)

    def test_no_address_before_start(self) -> None:
        """The bootstrap addresses are errors until the broker listens."""
        broker = InProcessBroker(reactor=MemoryReactorClock())
        self.addCleanup(broker.stop)
        self.assertRaises(RuntimeError, lambda: broker.bootstrap)
        self.assertRaises(RuntimeError, lambda: broker.tls_bootstrap)

    def test_already_running(self) -> None:
        """Starting a running broker is an error."""
        broker = InProcessBroker(reactor=MemoryReactorClock())
        self.addCleanup(broker.stop)
        self.successResultOf(broker.start())
        self.failureResultOf(broker.start(), RuntimeError)


def _confluent_round_trip(bootstrap: str, topic: str) -> list[bytes | None]:
    """Produce two records with confluent-kafka, then read them back with it."""
    producer = Producer({"bootstrap.servers": bootstrap})
    producer.produce(topic, b"one")
    producer.produce(topic, b"two")
    assert producer.flush(10) == 0
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "g",
                         "enable.auto.commit": False})
    try:
        consumer.assign([TopicPartition(topic, 0, 0)])
        values: list[bytes | None] = []
        while len(values) < 2:
            message = consumer.poll(10)
            assert message is not None and message.error() is None, message
            values.append(message.value())
        return values
    finally:
        consumer.close()


class ReactorTests(TestCase):
    """The broker on trial's reactor, served while clients block in threads.

    Trial fails a test that leaves the reactor dirty, so each also checks
    that L{InProcessBroker.stop} closes every port, connection and timer.
    """

    async def _started(self, **options: Any) -> InProcessBroker:
        """Start a broker with C{options}, stopped after the test."""
        broker = InProcessBroker(BrokerSettings(**options))
        self.addCleanup(broker.stop)
        return await broker.start()

    def test_confluent_round_trip(self) -> Deferred[None]:
        """confluent-kafka produces to and consumes from the in-process broker."""
        async def run() -> None:
            broker = await self._started()
            self.assertNotEqual(broker.port, 0)
            values = await deferToThread(_confluent_round_trip, broker.bootstrap, "orders")
            self.assertEqual(values, [b"one", b"two"])
            await broker.stop()
            self.assertFalse(os.path.exists(broker.directory))
        return ensureDeferred(run())

    def test_restart_keeps_data_and_port(self) -> Deferred[None]:
        """After restart the broker answers on the same port with the records acknowledged."""
        async def run() -> None:
            broker = await self._started(partitions=2)
            await deferToThread(helpers.create_topic, broker.bootstrap, "kept", 2)
            await deferToThread(helpers.produce, broker.bootstrap, "kept", [b"a", b"b"], 1)
            port = broker.port
            await broker.restart()
            self.assertEqual(broker.port, port)
            records = await deferToThread(helpers.read_topic, broker.bootstrap, "kept")
            self.assertEqual([(r.partition, r.offset, r.value) for r in records],
                             [(1, 0, b"a"), (1, 1, b"b")])
        return ensureDeferred(run())

    def test_tls_kafka_python(self) -> Deferred[None]:
        """kafka-python round-trips over the TLS listener, trusting the generated CA."""
        def round_trip(broker: InProcessBroker) -> list[bytes]:
            assert broker.tls_files is not None
            ssl = {"security_protocol": "SSL", "ssl_cafile": broker.tls_files.ca_cert}
            producer = KafkaProducer(bootstrap_servers=broker.tls_bootstrap, **ssl)
            producer.send("secure", b"sealed").get(timeout=10)
            producer.close()
            consumer = KafkaConsumer(bootstrap_servers=broker.tls_bootstrap,
                                     consumer_timeout_ms=10000, **ssl)
            consumer.assign([KafkaTopicPartition("secure", 0)])
            consumer.seek(KafkaTopicPartition("secure", 0), 0)
            try:
                return [next(consumer).value]
            finally:
                consumer.close()

        async def run() -> None:
            broker = await self._started(tls=True)
            self.assertEqual(await deferToThread(round_trip, broker), [b"sealed"])
        return ensureDeferred(run())

    def test_port_in_use(self) -> Deferred[None]:
        """A port that cannot be bound fails start with the listener's line."""
        taken = socket.socket()
        self.addCleanup(taken.close)
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        directory = tempfile.mkdtemp()
        broker = InProcessBroker(directory=directory)
        self.addCleanup(broker.stop)
        self.addCleanup(shutil.rmtree, directory)
        reused = InProcessBroker.from_directory(directory, tls=False, port=taken.getsockname()[1])

        async def run() -> None:
            with self.assertRaises(BrokerStartError) as caught:
                await reused.start()
            self.assertIn(f"listener tcp:{taken.getsockname()[1]}", str(caught.exception))
            self.assertIsNone(reused.service)
        return ensureDeferred(run())
