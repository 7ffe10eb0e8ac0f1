# -*- test-case-name: tests.server.test_connection -*-
"""Tests for L{twisted_kafka.server.connection}: ordering, waiting, closing."""

from __future__ import annotations

import struct
from typing import Any, Callable

from twisted.internet.defer import Deferred, succeed
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.broker import Broker
from twisted_kafka.config import BrokerConfig
from twisted_kafka.protocol import headers, messages
from twisted_kafka.server.factory import KafkaServerFactory
from twisted_kafka.server.registry import ResponderRegistry
from twisted_kafka.server.reply import AfterSync, CloseAfter, LongPoll

API_VERSIONS = 18
METADATA = 3
HEARTBEAT = 12


class _Partition:
    """A watchable partition: what L{LongPoll} needs of a stream queue."""

    def __init__(self) -> None:
        self.watchers: list[Callable[[], None]] = []

    def watch(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call C{callback} on each L{append}; return the unsubscribe function."""
        self.watchers.append(callback)
        return lambda: self.watchers.remove(callback)

    def append(self) -> None:
        """Pretend a batch was appended."""
        for w in list(self.watchers):
            w()


class _Store:
    """The slice of the store a connection touches: vhosts and sync()."""

    cluster_id = "test-cluster"

    def __init__(self) -> None:
        self.syncs: list[Deferred[None]] = []

    def vhost(self, name: str) -> str:
        """Return the vhost's name as its handle."""
        return name

    def sync(self) -> Deferred[None]:
        """Return a Deferred the test fires to finish the fsync."""
        d: Deferred[None] = Deferred()
        self.syncs.append(d)
        return d


def request_frame(api_key: int, version: int, correlation_id: int, body: dict) -> bytes:
    """Encode a whole request frame as a client would."""
    header = headers.encode_request_header(
        headers.RequestHeader(api_key, version, correlation_id, "test-client"))
    payload = header + messages.request_encoder(api_key, version)(body)
    return struct.pack(">i", len(payload)) + payload


def read_responses(data: bytes) -> list[tuple[int, bytes]]:
    """Split written bytes into (correlation id, rest of frame) pairs."""
    out = []
    pos = 0
    while pos < len(data):
        (size,) = struct.unpack_from(">i", data, pos)
        frame = data[pos + 4: pos + 4 + size]
        out.append((struct.unpack_from(">i", frame)[0], frame[4:]))
        pos += 4 + size
    return out


class ConnectionTestMixin:
    """Builds a connection over a StringTransport with test responders."""

    def connect(self, registry: ResponderRegistry, authorizer: Any = None,
                **kafka: Any) -> tuple[Any, StringTransport]:
        """Return a connected L{KafkaConnection} and its transport.

        @param authorizer: the broker's authorizer (the default allows all).
        @param kafka: overrides of L{KafkaConfig} fields.
        """
        import dataclasses

        config = BrokerConfig()
        config = dataclasses.replace(config, kafka=dataclasses.replace(config.kafka, **kafka))
        self.clock = Clock()
        self.store = _Store()
        broker = Broker(config, self.store, self.clock, registry=registry, authorizer=authorizer)
        protocol = KafkaServerFactory(broker).buildProtocol(None)
        transport = StringTransport()
        protocol.makeConnection(transport)
        return protocol, transport


class OrderingTests(ConnectionTestMixin, SynchronousTestCase):
    """Responses leave in request order whatever makes them wait."""

    def registry(self, responder: Callable[[dict, Any], Any]) -> ResponderRegistry:
        """Return a registry serving Heartbeat v0-4 with C{responder}."""
        registry = ResponderRegistry()
        registry.register(HEARTBEAT, "Heartbeat", 0, 4, responder)
        return registry

    def heartbeat(self, correlation_id: int) -> bytes:
        """Return a Heartbeat v0 request frame."""
        return request_frame(HEARTBEAT, 0, correlation_id,
                             {"group_id": "g", "generation_id": correlation_id, "member_id": "m"})

    def test_after_sync_holds_later_responses(self) -> None:
        """A response waiting for fsync holds back the ones after it, then all go."""

        def respond(request: dict, context: Any) -> Any:
            if request["generation_id"] == 1:
                return AfterSync({"error_code": 0})
            return {"error_code": 0}

        protocol, transport = self.connect(self.registry(respond))
        protocol.dataReceived(self.heartbeat(1) + self.heartbeat(2) + self.heartbeat(3))
        self.assertEqual(transport.value(), b"")
        self.assertEqual(len(self.store.syncs), 1)
        self.store.syncs[0].callback(None)
        self.assertEqual([c for c, _ in read_responses(transport.value())], [1, 2, 3])

    def test_one_sync_per_round(self) -> None:
        """Many acks=all replies share one store sync; later ones wait for the next."""
        protocol, transport = self.connect(
            self.registry(lambda request, context: AfterSync({"error_code": 0})))
        protocol.dataReceived(self.heartbeat(1) + self.heartbeat(2) + self.heartbeat(3))
        self.assertEqual(len(self.store.syncs), 1)
        protocol.dataReceived(self.heartbeat(4))
        self.assertEqual(len(self.store.syncs), 1, "no second sync while one is pending")
        self.store.syncs[0].callback(None)
        self.assertEqual([c for c, _ in read_responses(transport.value())], [1, 2, 3])
        self.assertEqual(len(self.store.syncs), 2, "the later reply asks for its own sync")
        self.store.syncs[1].callback(None)
        self.assertEqual([c for c, _ in read_responses(transport.value())], [1, 2, 3, 4])

    def test_sync_failure_closes(self) -> None:
        """A failed fsync closes the connection without acknowledging."""
        protocol, transport = self.connect(
            self.registry(lambda request, context: AfterSync({"error_code": 0})))
        protocol.dataReceived(self.heartbeat(1))
        self.store.syncs[0].errback(OSError("EIO"))
        self.assertEqual(transport.value(), b"")
        self.assertTrue(transport.disconnecting)
        self.flushLoggedErrors(OSError)

    def test_long_poll_answers_at_timeout(self) -> None:
        """A long poll is answered at its timeout with the final response."""
        calls: list[bool] = []

        def respond(request: dict, context: Any) -> Any:
            def retry(final: bool) -> dict | None:
                calls.append(final)
                return {"error_code": 0} if final else None
            return LongPoll([_Partition()], 500, retry)

        protocol, transport = self.connect(self.registry(respond))
        protocol.dataReceived(self.heartbeat(7))
        self.clock.advance(0.499)
        self.assertEqual(transport.value(), b"")
        self.clock.advance(0.001)
        self.assertEqual([c for c, _ in read_responses(transport.value())], [7])
        self.assertEqual(calls, [True])

    def test_long_poll_wakes_on_append(self) -> None:
        """An append to a watched partition re-checks, and a ready answer goes out."""
        partition = _Partition()

        def respond(request: dict, context: Any) -> Any:
            if request["generation_id"] == 1:
                return LongPoll([partition], 10_000, lambda final: {"error_code": 0})
            return {"error_code": 0}

        protocol, transport = self.connect(self.registry(respond))
        protocol.dataReceived(self.heartbeat(1) + self.heartbeat(2))
        self.assertEqual(transport.value(), b"")
        partition.append()
        partition.append()
        self.clock.advance(0)
        self.assertEqual([c for c, _ in read_responses(transport.value())], [1, 2])
        self.assertEqual(partition.watchers, [])
        self.assertEqual(self.clock.getDelayedCalls(), [] if not protocol.timeOut else
                         [protocol._TimeoutMixin__timeoutCall])

    def test_long_poll_holds_later_requests(self) -> None:
        """Requests after a pending long poll are not processed until it answers."""
        seen: list[int] = []
        partition = _Partition()

        def respond(request: dict, context: Any) -> Any:
            seen.append(request["generation_id"])
            if request["generation_id"] == 1:
                return LongPoll([partition], 1000, lambda final: {"error_code": 0} if final else None)
            return {"error_code": 0}

        protocol, transport = self.connect(self.registry(respond))
        protocol.dataReceived(self.heartbeat(1) + self.heartbeat(2))
        protocol.dataReceived(self.heartbeat(3))
        self.assertEqual(seen, [1])
        self.assertEqual(transport.producerState, "paused")
        self.clock.advance(1)
        self.assertEqual(seen, [1, 2, 3])
        self.assertEqual([c for c, _ in read_responses(transport.value())], [1, 2, 3])
        self.assertEqual(transport.producerState, "producing")

    def test_write_buffer_full_holds_requests(self) -> None:
        """While the transport asks us to pause, requests wait; resume processes them."""
        seen: list[int] = []

        def respond(request: dict, context: Any) -> Any:
            seen.append(request["generation_id"])
            return {"error_code": 0}

        protocol, transport = self.connect(self.registry(respond))
        protocol.pauseProducing()
        protocol.dataReceived(self.heartbeat(1))
        self.assertEqual(seen, [])
        protocol.resumeProducing()
        self.assertEqual(seen, [1])

    def test_close_after(self) -> None:
        """L{CloseAfter} without a response closes the connection without writing."""
        protocol, transport = self.connect(
            self.registry(lambda request, context: CloseAfter(None, "acks=0 failed")))
        protocol.dataReceived(self.heartbeat(1))
        self.assertEqual(transport.value(), b"")
        self.assertTrue(transport.disconnecting)

    def test_unencodable_response_closes(self) -> None:
        """A response that cannot be encoded closes the connection with one WARN line."""
        from twisted.logger import LogLevel, globalLogPublisher

        events: list[dict] = []
        globalLogPublisher.addObserver(events.append)
        self.addCleanup(globalLogPublisher.removeObserver, events.append)
        protocol, transport = self.connect(
            self.registry(lambda request, context: {"error_code": 70000}))
        protocol.dataReceived(self.heartbeat(1) + self.heartbeat(2))
        self.assertEqual(transport.value(), b"")
        self.assertTrue(transport.disconnecting)
        warnings = [e for e in events if e["log_level"] is LogLevel.warn]
        self.assertEqual(len(warnings), 1)
        self.assertIn("cannot encode response", warnings[0]["reason"])
        self.assertFalse([e for e in events if "log_failure" in e])

    def test_tcp_nodelay(self) -> None:
        """A TCP connection gets TCP_NODELAY; a transport that is not TCP is left alone."""
        from twisted.internet.interfaces import ITCPTransport
        from zope.interface import directlyProvides

        registry = self.registry(lambda request, context: None)
        protocol, transport = self.connect(registry)
        self.assertFalse(ITCPTransport.providedBy(transport))
        tcp = StringTransport()
        directlyProvides(tcp, ITCPTransport)
        calls: list[bool] = []
        tcp.setTcpNoDelay = calls.append  # type: ignore[attr-defined]
        protocol.makeConnection(tcp)
        self.assertEqual(calls, [True])

    def test_no_response(self) -> None:
        """A responder returning C{None} sends nothing and keeps the connection."""
        protocol, transport = self.connect(self.registry(lambda request, context: None))
        protocol.dataReceived(self.heartbeat(1))
        self.assertEqual(transport.value(), b"")
        self.assertFalse(transport.disconnecting)


class _FlowControlledTransport(StringTransport):
    """A transport that pauses its producer when more than C{limit} bytes wait unsent."""

    limit = 64 * 1024

    def writeSequence(self, data: Any) -> None:
        """Buffer C{data}; ask the producer to pause when over the limit."""
        super().writeSequence(data)
        if len(self.value()) - getattr(self, "sent", 0) > self.limit and self.producer:
            self.producer.pauseProducing()

    def drain(self) -> None:
        """Pretend everything buffered went out; let the producer resume."""
        self.sent = len(self.value())
        self.producer.resumeProducing()


class FlowControlTests(ConnectionTestMixin, SynchronousTestCase):
    """A large response is handed to the transport as it drains, not at once."""

    def test_large_response_written_as_transport_drains(self) -> None:
        """Records chunks wait in the connection while the transport is paused."""
        partitions = [{"partition_index": i, "records": bytes([i]) * 300_000} for i in range(4)]
        registry = ResponderRegistry()
        registry.register(1, "Fetch", 4, 17, lambda request, context: {
            "responses": [{"topic": "t", "partitions": partitions}]})
        self.clock = Clock()
        protocol, _ = self.connect(registry)
        transport = _FlowControlledTransport()
        protocol.makeConnection(transport)
        fetch = {"max_wait_ms": 0, "min_bytes": 0, "topics": []}
        protocol.dataReceived(request_frame(1, 12, 9, fetch) + request_frame(1, 12, 10, fetch))
        self.assertLess(len(transport.value()), 400_000, "written before the transport drained")
        for _ in range(20):
            transport.drain()
        responses = read_responses(transport.value())
        self.assertEqual([c for c, _ in responses], [9, 10])
        decoded = messages.response_decoder(1, 12)(responses[0][1][1:], 0)
        self.assertEqual([p["records"] for p in decoded["responses"][0]["partitions"]],
                         [p["records"] for p in partitions])


class RefusalTests(ConnectionTestMixin, SynchronousTestCase):
    """Bad input closes the connection with a logged reason."""

    def setUp(self) -> None:
        """Connect with the broker's real registry."""
        from twisted_kafka.apis import build_registry

        self.protocol, self.transport = self.connect(build_registry(), max_request_size=1000)

    def assertClosed(self, reason_part: str) -> None:
        """Assert the connection is closing and a warning mentioned C{reason_part}."""
        self.assertTrue(self.transport.disconnecting)

    def test_unknown_api_key(self) -> None:
        """An unknown api key closes the connection."""
        payload = struct.pack(">hhih", 999, 0, 1, -1)
        self.protocol.dataReceived(struct.pack(">i", len(payload)) + payload)
        self.assertTrue(self.transport.disconnecting)
        self.assertEqual(self.transport.value(), b"")

    def test_close_unregisters_producer(self) -> None:
        """Closing stops being the transport's producer, so a paused one cannot hold the close up."""
        self.assertIs(self.transport.producer, self.protocol)
        payload = struct.pack(">hhih", 999, 0, 1, -1)
        self.protocol.dataReceived(struct.pack(">i", len(payload)) + payload)
        self.assertTrue(self.transport.disconnecting)
        self.assertIsNone(self.transport.producer)

    def test_unsupported_version(self) -> None:
        """An unsupported version of an API other than ApiVersions closes."""
        payload = struct.pack(">hhih", METADATA, 99, 1, -1)
        self.protocol.dataReceived(struct.pack(">i", len(payload)) + payload)
        self.assertTrue(self.transport.disconnecting)

    def test_oversized_frame(self) -> None:
        """A size prefix over max_request_size closes before any payload arrives."""
        self.protocol.dataReceived(struct.pack(">i", 1001))
        self.assertTrue(self.transport.disconnecting)

    def test_negative_frame(self) -> None:
        """A negative size prefix closes the connection."""
        self.protocol.dataReceived(struct.pack(">i", -5))
        self.assertTrue(self.transport.disconnecting)

    def test_malformed_body(self) -> None:
        """A body that does not decode closes the connection."""
        payload = struct.pack(">hhih", METADATA, 1, 1, -1) + struct.pack(">i", 1_000_000)
        self.protocol.dataReceived(struct.pack(">i", len(payload)) + payload)
        self.assertTrue(self.transport.disconnecting)

    def test_api_versions_unsupported_version(self) -> None:
        """KIP-511: a too-new ApiVersions gets a v0 UNSUPPORTED_VERSION answer."""
        payload = struct.pack(">hhih", API_VERSIONS, 99, 5, -1) + b"\0\0\0"
        self.protocol.dataReceived(struct.pack(">i", len(payload)) + payload)
        self.assertFalse(self.transport.disconnecting)
        [(correlation, body)] = read_responses(self.transport.value())
        self.assertEqual(correlation, 5)
        decoded = messages.response_decoder(API_VERSIONS, 0)(body, 0)
        self.assertEqual(decoded["error_code"], 35)
        keys = {k["api_key"]: (k["min_version"], k["max_version"]) for k in decoded["api_keys"]}
        self.assertEqual(keys[API_VERSIONS], (0, 4))

    def test_idle_timeout(self) -> None:
        """A connection idle for idle_timeout seconds is closed."""
        protocol, transport = self.connect(ResponderRegistry(), idle_timeout=30)
        self.clock.advance(29)
        self.assertFalse(transport.disconnecting)
        self.clock.advance(1)
        self.assertTrue(transport.disconnecting)
