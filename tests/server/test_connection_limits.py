# -*- test-case-name: tests.server.test_connection_limits -*-
"""Tests for L{twisted_kafka.server.connection_limits} and the factory refusing
connections over C{max_connections} / C{max_connections_per_ip}."""

from __future__ import annotations

from twisted.internet.address import IPv4Address, UNIXAddress
from twisted.internet.testing import StringTransport
from twisted.logger import LogLevel, globalLogPublisher
from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.server.connection import KafkaConnection
from twisted_kafka.server.connection_limits import ConnectionLimits
from twisted_kafka.server.factory import RefusedConnection
from tests.server.test_request_budget import FactoryMixin


def tcp(host: str, port: int) -> IPv4Address:
    """Return a TCP peer address."""
    return IPv4Address("TCP", host, port)


class ConnectionLimitsTests(SynchronousTestCase):
    """The counting on its own."""

    def test_total(self) -> None:
        """Past max_connections every new connection is refused, until one closes."""
        limits = ConnectionLimits(2, 0)
        self.assertIsNone(limits.admit(tcp("10.0.0.1", 1)))
        self.assertIsNone(limits.admit(UNIXAddress(None)))
        self.assertEqual(limits.admit(tcp("10.0.0.2", 1)), "max_connections (2) reached")
        limits.release(UNIXAddress(None))
        self.assertIsNone(limits.admit(tcp("10.0.0.2", 1)))
        self.assertEqual(limits.open, 2)

    def test_per_ip(self) -> None:
        """Past max_connections_per_ip only that address is refused."""
        limits = ConnectionLimits(0, 2)
        self.assertIsNone(limits.admit(tcp("10.0.0.1", 1)))
        self.assertIsNone(limits.admit(tcp("10.0.0.1", 2)))
        self.assertEqual(limits.admit(tcp("10.0.0.1", 3)),
                         "max_connections_per_ip (2) reached for 10.0.0.1")
        self.assertIsNone(limits.admit(tcp("10.0.0.2", 1)))
        limits.release(tcp("10.0.0.1", 1))
        self.assertIsNone(limits.admit(tcp("10.0.0.1", 3)))

    def test_unix_counts_toward_total_only(self) -> None:
        """Unix-socket connections have no IP and are never refused per IP."""
        limits = ConnectionLimits(0, 1)
        for _ in range(5):
            self.assertIsNone(limits.admit(UNIXAddress(b"/tmp/k.sock")))
        self.assertEqual(limits.open, 5)

    def test_no_limits(self) -> None:
        """0 means no limit."""
        limits = ConnectionLimits(0, 0)
        for port in range(100):
            self.assertIsNone(limits.admit(tcp("10.0.0.1", port)))


class FactoryLimitTests(FactoryMixin, SynchronousTestCase):
    """The factory closes a connection over a limit at once, with one log line."""

    def test_refused_connection_aborted_with_one_line(self) -> None:
        """A connection over max_connections_per_ip is aborted and logged once."""
        events: list[dict] = []
        globalLogPublisher.addObserver(events.append)
        self.addCleanup(globalLogPublisher.removeObserver, events.append)
        factory = self.factory(max_connections_per_ip=1)
        first, first_transport = self.connect(factory, 1)
        self.assertIsInstance(first, KafkaConnection)
        second = factory.buildProtocol(tcp("127.0.0.1", 2))
        self.assertIsInstance(second, RefusedConnection)
        transport = StringTransport()
        second.makeConnection(transport)
        self.assertTrue(transport.disconnected)
        warnings = [e for e in events if e.get("log_level") == LogLevel.warn]
        self.assertEqual(len(warnings), 1)
        self.assertEqual(warnings[0]["peer"], "127.0.0.1:2")
        self.assertIn("max_connections_per_ip (1)", warnings[0]["reason"])
        self.assertFalse(first_transport.disconnecting)

    def test_closed_connection_frees_its_place(self) -> None:
        """Once a connection is lost, a new one from that address is accepted."""
        factory = self.factory(max_connections=1)
        first, _ = self.connect(factory, 1)
        self.assertIsInstance(factory.buildProtocol(tcp("127.0.0.1", 2)), RefusedConnection)
        first.connectionLost()
        self.assertIsInstance(factory.buildProtocol(tcp("127.0.0.1", 3)), KafkaConnection)
        self.assertEqual(factory.limits.open, 1)
