# -*- test-case-name: tests.server.test_draining -*-
"""Tests for draining connections at shutdown (L{KafkaConnection.drain})."""

from __future__ import annotations

from typing import Any

from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.server.draining import ConnectionDrainService
from twisted_kafka.server.registry import ResponderRegistry
from twisted_kafka.server.reply import AfterSync, LongPoll
from tests.server.test_connection import (
    HEARTBEAT, ConnectionTestMixin, _Partition, read_responses, request_frame)


def heartbeat(correlation_id: int) -> bytes:
    """A Heartbeat v0 frame whose generation id is its correlation id."""
    return request_frame(HEARTBEAT, 0, correlation_id,
                         {"group_id": "g", "generation_id": correlation_id, "member_id": "m"})


class DrainTests(ConnectionTestMixin, SynchronousTestCase):
    """In-flight requests are answered, new ones are not read, then the connection closes."""

    def serve(self, respond: Any) -> tuple[Any, Any]:
        """Connect with Heartbeat answered by C{respond}; return connection and transport."""
        registry = ResponderRegistry()
        registry.register(HEARTBEAT, "Heartbeat", 0, 4, respond)
        return self.connect(registry)

    def lose(self, protocol: Any, transport: Any) -> None:
        """Finish what loseConnection started on a StringTransport."""
        self.assertTrue(transport.disconnecting)
        protocol.connectionLost(None)

    def test_waits_for_sync_then_closes(self) -> None:
        """An acks=all answer waiting for fsync is written before the connection closes."""
        protocol, transport = self.serve(lambda request, context: AfterSync({"error_code": 0}))
        protocol.dataReceived(heartbeat(1))
        drained = protocol.drain()
        self.assertFalse(transport.disconnecting)
        self.assertNoResult(drained)
        self.store.syncs[0].callback(None)
        self.assertEqual([c for c, _ in read_responses(transport.value())], [1])
        self.lose(protocol, transport)
        self.successResultOf(drained)

    def test_long_poll_answered_at_once(self) -> None:
        """A pending long poll is answered with its final response when draining."""
        finals: list[bool] = []

        def respond(request: dict, context: Any) -> Any:
            def retry(final: bool) -> dict | None:
                finals.append(final)
                return {"error_code": 0} if final else None
            return LongPoll([_Partition()], 30_000, retry)

        protocol, transport = self.serve(respond)
        protocol.dataReceived(heartbeat(4))
        protocol.drain()
        self.assertEqual(finals, [True])
        self.assertEqual([c for c, _ in read_responses(transport.value())], [4])
        self.lose(protocol, transport)
        self.assertEqual(self.clock.getDelayedCalls(), [], "the poll's timer is cancelled")

    def test_no_new_requests(self) -> None:
        """Requests arriving after drain() are neither processed nor answered."""
        seen: list[int] = []

        def respond(request: dict, context: Any) -> Any:
            seen.append(request["generation_id"])
            return AfterSync({"error_code": 0})

        protocol, transport = self.serve(respond)
        protocol.dataReceived(heartbeat(1))
        protocol.drain()
        protocol.dataReceived(heartbeat(2))
        self.store.syncs[0].callback(None)
        self.assertEqual(seen, [1])
        self.assertEqual([c for c, _ in read_responses(transport.value())], [1])

    def test_idle_connection_closes_at_once(self) -> None:
        """A connection with nothing in flight closes as soon as it is drained."""
        protocol, transport = self.serve(lambda request, context: {"error_code": 0})
        drained = protocol.drain()
        self.lose(protocol, transport)
        self.successResultOf(drained)

    def test_close_releases_the_transport(self) -> None:
        """Closing a drained connection unregisters it as producer and reads again.

        A TLS transport sends its close_notify only once its producer is
        gone, and closes when it reads the peer's: with reading paused by
        the drain and the producer kept, a TLS connection stayed open until
        the drain timeout aborted it.
        """
        protocol, transport = self.serve(lambda request, context: {"error_code": 0})
        self.assertIs(transport.producer, protocol)
        protocol.drain()
        self.assertTrue(transport.disconnecting)
        self.assertIsNone(transport.producer)
        self.assertEqual(transport.producerState, "producing")

    def test_factory_aborts_after_timeout(self) -> None:
        """A connection that cannot finish in time (its fsync never ends) is aborted."""
        protocol, transport = self.serve(lambda request, context: AfterSync({"error_code": 0}))
        protocol.dataReceived(heartbeat(1))
        service = ConnectionDrainService(protocol.factory, timeout=5)
        service.startService()
        stopped = service.stopService()
        self.clock.advance(4.9)
        self.assertFalse(transport.disconnecting)
        self.clock.advance(0.1)
        self.assertTrue(transport.disconnected, "aborted")
        protocol.connectionLost(None)
        self.successResultOf(stopped)

    def test_factory_without_connections(self) -> None:
        """Draining a factory with no connections is immediate."""
        protocol, transport = self.serve(lambda request, context: {"error_code": 0})
        protocol.connectionLost(None)
        self.successResultOf(ConnectionDrainService(protocol.factory).stopService())
