# -*- test-case-name: tests.server.test_listeners -*-
"""Tests for L{twisted_kafka.server.listeners}: endpoints from config, loud failures."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from twisted.internet import defer, endpoints, error, protocol
from twisted.internet.testing import MemoryReactor, RaisingMemoryReactor
from twisted.logger import Logger, formatEvent
from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.config import BrokerConfig, ConfigError, KafkaConfig, TlsConfig
from twisted_kafka.server import listeners
from twisted_kafka.server.listeners import (
    Listener,
    ListenerFailed,
    ListenerService,
    build_listeners,
)

from twisted_kafka.testing.tls import write_tls_files


def _config(**kafka: Any) -> BrokerConfig:
    """Return a configuration with C{kafka} overriding C{[kafka]} defaults."""
    return BrokerConfig(kafka=replace(KafkaConfig(), **kafka), source="t.ini")


class BuildListenersTests(SynchronousTestCase):
    """L{build_listeners} makes exactly the endpoints the configuration names."""

    def test_default(self) -> None:
        """The defaults give one TCP listener on 127.0.0.1:9092."""
        reactor = MemoryReactor()
        [listener] = build_listeners(BrokerConfig(), reactor)
        self.assertEqual(listener.description, "tcp:9092:interface=127.0.0.1")
        self.assertIsInstance(listener.endpoint, endpoints.TCP4ServerEndpoint)
        listener.endpoint.listen(protocol.Factory())
        self.assertEqual([(p, i) for p, _, _, i in reactor.tcpServers], [(9092, "127.0.0.1")])

    def test_every_kind(self) -> None:
        """TCP, TLS, unix and extra strings, in that order."""
        files = write_tls_files(self.mktemp())
        config = replace(
            _config(port=19092, tls_port=19093, unix_path="/tmp/kafka.sock",
                    listeners=["tcp:19094:interface=127.0.0.2", "unix:/tmp/b.sock"]),
            tls=TlsConfig(cert=files.server_cert, key=files.server_key))
        reactor = MemoryReactor()
        built = build_listeners(config, reactor)
        self.assertEqual([b.description for b in built], [
            "tcp:19092:interface=127.0.0.1", "ssl:19093:interface=127.0.0.1",
            "unix:/tmp/kafka.sock:lockfile=1", "tcp:19094:interface=127.0.0.2",
            "unix:/tmp/b.sock"])
        for listener in built:
            listener.endpoint.listen(protocol.Factory())
        self.assertEqual([(p, i) for p, _, _, i in reactor.tcpServers],
                         [(19092, "127.0.0.1"), (19094, "127.0.0.2")])
        self.assertEqual([(p, i) for p, _, _, _, i in reactor.sslServers],
                         [(19093, "127.0.0.1")])
        self.assertEqual([(a, w) for a, _, _, _, w in reactor.unixServers],
                         [("/tmp/kafka.sock", True), ("/tmp/b.sock", True)])

    def test_backlog(self) -> None:
        """C{listen_backlog} is the backlog of the TCP, TLS and unix listeners."""
        files = write_tls_files(self.mktemp())
        config = replace(
            _config(port=19092, tls_port=19093, unix_path="/tmp/kafka.sock", listen_backlog=777),
            tls=TlsConfig(cert=files.server_cert, key=files.server_key))
        reactor = MemoryReactor()
        for listener in build_listeners(config, reactor):
            listener.endpoint.listen(protocol.Factory())
        self.assertEqual([b for _, _, b, _ in reactor.tcpServers], [777])
        self.assertEqual([b for _, _, _, b, _ in reactor.sslServers], [777])
        self.assertEqual([b for _, _, b, _, _ in reactor.unixServers], [777])

    def test_default_backlog(self) -> None:
        """The default backlog is 1024, not Twisted's 50."""
        reactor = MemoryReactor()
        [listener] = build_listeners(BrokerConfig(), reactor)
        listener.endpoint.listen(protocol.Factory())
        self.assertEqual([b for _, _, b, _ in reactor.tcpServers], [1024])

    def test_ipv6_bind(self) -> None:
        """An IPv6 bind address gets an IPv6 TCP endpoint."""
        [listener] = build_listeners(_config(bind="::1"), MemoryReactor())
        self.assertIsInstance(listener.endpoint, endpoints.TCP6ServerEndpoint)

    def test_bad_string(self) -> None:
        """An extra listener string that is no endpoint is a one-line error."""
        error_ = self.assertRaises(ConfigError, build_listeners,
                                   _config(listeners=["bogus:1"]), MemoryReactor())
        self.assertTrue(str(error_).startswith("listener bogus:1: "), str(error_))
        self.assertNotIn("\n", str(error_))

    def test_no_listener(self) -> None:
        """A configuration with every listener off is refused."""
        error_ = self.assertRaises(ConfigError, build_listeners,
                                   _config(port=-1), MemoryReactor())
        self.assertEqual(str(error_), "t.ini: no listener: set [kafka] port, tls_port, "
                                      "unix_path or listeners, or give --listen")


class ListenerServiceTests(SynchronousTestCase):
    """L{ListenerService} logs where it listens and fails loudly."""

    def setUp(self) -> None:
        """Set up what each test here uses."""
        self.events: list[dict] = []
        self.patch(listeners, "log", Logger(observer=self.events.append))

    def test_listening_logged(self) -> None:
        """Once listening, one line names the listener and its address."""
        reactor = MemoryReactor()
        [listener] = build_listeners(_config(unix_path="/tmp/k.sock", port=-1), reactor)
        service = ListenerService(listener, protocol.Factory(), reactor)
        service.startService()
        self.assertEqual([formatEvent(e) for e in self.events],
                         ["Kafka listener unix:/tmp/k.sock:lockfile=1 listening on "
                          "unix:/tmp/k.sock"])
        self.assertEqual(len(reactor.unixServers), 1)
        self.successResultOf(service.stopService())

    def test_address_in_use(self) -> None:
        """A port in use is one line naming the listener, raised as L{ListenerFailed}."""
        reactor = RaisingMemoryReactor(listenException=error.CannotListenError(
            "127.0.0.1", 9092, OSError(98, "Address already in use")))
        [listener] = build_listeners(BrokerConfig(), reactor)
        service = ListenerService(listener, protocol.Factory(), reactor)
        failed = self.assertRaises(ListenerFailed, service.privilegedStartService)
        self.assertEqual(str(failed), "listener tcp:9092:interface=127.0.0.1: "
                                      "Address already in use")
        self.assertIsInstance(failed, SystemExit)
        self.assertIsInstance(failed, Exception)
        self.assertEqual(failed.code, str(failed))

    def test_late_failure_stops_reactor(self) -> None:
        """A listener failing after start-up is logged as critical and stops the reactor."""
        waiting: defer.Deferred = defer.Deferred()

        class Slow:
            def listen(self, factory: object) -> defer.Deferred:
                return waiting

        reactor = MemoryReactor()
        service = ListenerService(Listener("slow:1", Slow()), protocol.Factory(), reactor)
        service.startService()
        self.assertFalse(reactor.hasStopped)
        waiting.errback(RuntimeError("gone"))
        self.assertTrue(reactor.hasStopped)
        self.assertEqual([(formatEvent(e), e["log_level"].name) for e in self.events],
                         [("listener slow:1: gone", "critical")])
        self.successResultOf(service.stopService())


class SecurityProtocolTests(SynchronousTestCase):
    """Each listener carries its security protocol; SASL ones mark their connections."""

    def test_protocols(self) -> None:
        """The *_security_protocol keys and PROTOCOL:// prefixes; no prefix: by endpoint."""
        files = write_tls_files(self.mktemp())
        config = replace(
            _config(port=19092, tls_port=19093, unix_path="/tmp/kafka.sock",
                    port_security_protocol="SASL_PLAINTEXT",
                    tls_port_security_protocol="SASL_SSL",
                    listeners=["SASL_PLAINTEXT://tcp:19094", "tcp:19095",
                               f"ssl:19096:privateKey={files.server_key}:certKey={files.server_cert}"]),
            tls=TlsConfig(cert=files.server_cert, key=files.server_key))
        built = build_listeners(config, MemoryReactor())
        self.assertEqual([b.security_protocol for b in built],
                         ["SASL_PLAINTEXT", "SASL_SSL", "PLAINTEXT", "SASL_PLAINTEXT",
                          "PLAINTEXT", "SSL"])
        self.assertEqual(built[3].description, "SASL_PLAINTEXT://tcp:19094")

    def test_sasl_listener_marks_connections(self) -> None:
        """A SASL listener's factory tells each connection its protocol."""
        from tests.apis.support import make_broker
        from twisted_kafka.server.factory import KafkaServerFactory, ListenerFactory

        broker = make_broker(self)
        reactor = MemoryReactor()
        listener = build_listeners(_config(listeners=["SASL_PLAINTEXT://tcp:19097"]), reactor)[-1]
        service = ListenerService(listener, KafkaServerFactory(broker), reactor)
        self.assertIsInstance(service.factory, ListenerFactory)
        connection = service.factory.buildProtocol(None)
        self.assertEqual(connection.security_protocol, "SASL_PLAINTEXT")
