# -*- test-case-name: tests.server.test_request_stats -*-
"""Tests for L{twisted_kafka.server.request_stats}: what a connection counts per request."""

from __future__ import annotations

from typing import Any

from twisted.internet.testing import StringTransport
from twisted.trial.unittest import SynchronousTestCase

from tests.server.test_connection import HEARTBEAT, ConnectionTestMixin, request_frame
from twisted_kafka.server.registry import ResponderRegistry
from twisted_kafka.server.reply import AfterSync
from twisted_kafka.server.request_stats import RequestStats


class _Clock:
    """A settable clock for latency."""

    now = 100.0

    def __call__(self) -> float:
        return self.now


class ConnectionCountingTests(ConnectionTestMixin, SynchronousTestCase):
    """A connection of a broker with request statistics counts what it answers."""

    def connect_counting(self, responder: Any) -> tuple[Any, Any, RequestStats]:
        """A connection serving Heartbeat with C{responder}, its transport and the stats."""
        registry = ResponderRegistry()
        registry.register(HEARTBEAT, "Heartbeat", 0, 4, responder)
        self.time = _Clock()
        stats = RequestStats(clock=self.time)
        protocol, transport = self.connect(registry)
        protocol.broker.request_stats = stats
        # rebuild: the connection reads the broker's statistics when made
        protocol = protocol.factory.buildProtocol(None)
        transport = StringTransport()
        protocol.makeConnection(transport)
        return protocol, transport, stats

    def heartbeat(self, correlation_id: int) -> bytes:
        """A Heartbeat v0 request frame."""
        return request_frame(HEARTBEAT, 0, correlation_id,
                             {"group_id": "g", "generation_id": 1, "member_id": "m"})

    def test_requests_errors_bytes(self) -> None:
        """Requests by version, error codes and bytes both ways are counted."""
        protocol, transport, stats = self.connect_counting(lambda request, context: {"error_code": 25})
        frame = self.heartbeat(1)
        protocol.dataReceived(frame + self.heartbeat(2))
        [(api, version, counts)] = stats.version_counts()
        self.assertEqual((api, version, counts.requests), (HEARTBEAT, 0, 2))
        self.assertEqual(counts.request_bytes, 2 * (len(frame) - 4))
        self.assertEqual(counts.response_bytes, len(transport.value()))
        self.assertEqual(protocol.bytes_out, len(transport.value()))
        self.assertEqual(protocol.bytes_in, 2 * len(frame))
        self.assertEqual(stats.error_counts(), [(HEARTBEAT, 25, 2)])
        self.assertEqual(protocol.client_id, "test-client")

    def test_latency_until_written(self) -> None:
        """Latency runs until the response is handed over, after its fsync."""
        protocol, transport, stats = self.connect_counting(
            lambda request, context: AfterSync({"error_code": 0}))
        protocol.dataReceived(self.heartbeat(1))
        self.assertEqual(stats.latency, {})
        self.time.now += 0.02
        self.store.syncs[0].callback(None)
        histogram = stats.latency[HEARTBEAT]
        self.assertEqual(histogram.counts[histogram.bounds.index(0.025)], 1)
        self.assertAlmostEqual(histogram.total, 0.02)

    def test_off_by_default(self) -> None:
        """Without statistics on the broker nothing is counted or timed."""
        registry = ResponderRegistry()
        registry.register(HEARTBEAT, "Heartbeat", 0, 4, lambda request, context: {"error_code": 0})
        protocol, transport = self.connect(registry)
        protocol.dataReceived(self.heartbeat(1))
        self.assertIsNone(protocol.broker.request_stats)
        self.assertEqual(protocol.bytes_out, 0)
        self.assertTrue(transport.value())
