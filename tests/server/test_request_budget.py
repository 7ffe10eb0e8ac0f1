# -*- test-case-name: tests.server.test_request_budget -*-
"""Tests for L{twisted_kafka.server.request_budget} and how connections use it:
the broker-wide budget of request bytes, and the request completion timeout."""

from __future__ import annotations

import dataclasses
import struct
from typing import Any

from twisted.internet.address import IPv4Address
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.broker import Broker
from twisted_kafka.config import BrokerConfig
from twisted_kafka.server.factory import KafkaServerFactory
from twisted_kafka.server.registry import ResponderRegistry
from twisted_kafka.server.request_budget import RequestBudget
from tests.server.test_connection import HEARTBEAT, _Store, read_responses, request_frame


class RequestBudgetTests(SynchronousTestCase):
    """The accounting object on its own."""

    def test_reserve_while_room_left(self) -> None:
        """A reservation is granted while the budget is not spent, even past it."""
        budget = RequestBudget(100)
        self.assertTrue(budget.reserve(60))
        self.assertTrue(budget.reserve(60))
        self.assertEqual(budget.used, 120)
        self.assertFalse(budget.reserve(1))
        self.assertEqual(budget.used, 120)

    def test_no_limit(self) -> None:
        """A limit of 0 or less grants everything."""
        for limit in (0, -1):
            budget = RequestBudget(limit)
            self.assertTrue(budget.reserve(10**12))
            self.assertTrue(budget.reserve(1))

    def test_release_wakes_waiters_in_order(self) -> None:
        """Released bytes wake waiters first come, first served, while room is left."""
        budget = RequestBudget(100)
        budget.reserve(150)
        woken: list[str] = []

        def waiter(name: str, size: int) -> Any:
            def wake() -> None:
                woken.append(name)
                if not budget.reserve(size):
                    budget.wait(name, wake)
            return wake

        budget.wait("a", waiter("a", 100))
        budget.wait("b", waiter("b", 100))
        budget.wait("c", waiter("c", 100))
        budget.release(100)
        # 50 used: "a" gets its 100 (150 used), nobody else is woken.
        self.assertEqual(woken, ["a"])
        self.assertEqual(budget.waiting(), 2)
        budget.release(150)
        self.assertEqual(woken, ["a", "b"])
        budget.cancel("c")
        budget.release(100)
        self.assertEqual(woken, ["a", "b"])
        self.assertEqual(budget.used, 0)

    def test_released_callback(self) -> None:
        """Every release is reported with its size."""
        released: list[int] = []
        budget = RequestBudget(100, released.append)
        budget.hold(30)
        budget.release(30)
        self.assertEqual(released, [30])


def heartbeat(correlation_id: int) -> bytes:
    """Return a Heartbeat v0 request frame."""
    return request_frame(HEARTBEAT, 0, correlation_id,
                         {"group_id": "g", "generation_id": correlation_id, "member_id": "m"})


class FactoryMixin:
    """Builds a factory (Heartbeat answered at once) and connections of it."""

    def setUp(self) -> None:
        """Record heap trims instead of trimming."""
        self.trims: list[None] = []

    def factory(self, **kafka: Any) -> KafkaServerFactory:
        """Return a factory over a broker with C{kafka} config overrides."""
        config = BrokerConfig()
        config = dataclasses.replace(config, kafka=dataclasses.replace(config.kafka, **kafka))
        self.clock = Clock()
        registry = ResponderRegistry()
        registry.register(HEARTBEAT, "Heartbeat", 0, 4, lambda request, context: {"error_code": 0})
        broker = Broker(config, _Store(), self.clock, registry=registry)
        return KafkaServerFactory(broker, trim=lambda: lambda: self.trims.append(None))

    def connect(self, factory: KafkaServerFactory, port: int = 1) -> tuple[Any, StringTransport]:
        """Return a new connection of C{factory} and its transport."""
        protocol = factory.buildProtocol(IPv4Address("TCP", "127.0.0.1", port))
        transport = StringTransport()
        protocol.makeConnection(transport)
        return protocol, transport


class BudgetedConnectionTests(FactoryMixin, SynchronousTestCase):
    """Connections of one factory share its budget."""

    def test_incomplete_frame_reserves_its_size(self) -> None:
        """Once its prefix is in, an incomplete frame counts with its whole size."""
        factory = self.factory(queued_max_request_bytes=10_000)
        protocol, transport = self.connect(factory)
        protocol.dataReceived(struct.pack(">i", 5000) + b"x" * 10)
        self.assertEqual(factory.budget.used, 5004)
        protocol.dataReceived(b"x" * 100)
        self.assertEqual(factory.budget.used, 5004)

    def test_complete_frames_hold_nothing(self) -> None:
        """Requests answered at once leave the budget untouched."""
        factory = self.factory(queued_max_request_bytes=10_000)
        protocol, transport = self.connect(factory)
        frame = heartbeat(1)
        protocol.dataReceived(frame[:3])
        self.assertEqual(factory.budget.used, 3)
        protocol.dataReceived(frame[3:] + heartbeat(2))
        self.assertEqual([c for c, _ in read_responses(transport.value())], [1, 2])
        self.assertEqual(factory.budget.used, 0)

    def test_spent_budget_pauses_reading_until_released(self) -> None:
        """Past the budget a connection stops reading; it resumes once bytes are freed."""
        factory = self.factory(queued_max_request_bytes=10_000)
        first, first_transport = self.connect(factory, 1)
        second, second_transport = self.connect(factory, 2)
        first.dataReceived(struct.pack(">i", 20_000) + b"x" * 100)
        self.assertEqual(first_transport.producerState, "producing")
        second.dataReceived(struct.pack(">i", 5000) + b"y" * 10)
        self.assertEqual(second_transport.producerState, "paused")
        # Only the payload bytes it read count for the waiting one.
        self.assertEqual(factory.budget.used, 20_004 + 10)
        self.assertEqual(factory.budget.waiting(), 1)
        first.connectionLost()
        self.assertEqual(second_transport.producerState, "producing")
        self.assertEqual(factory.budget.used, 5004)
        self.assertEqual(factory.budget.waiting(), 0)

    def test_frame_larger_than_budget_passes_alone(self) -> None:
        """A frame larger than the whole budget is received when nothing else is held."""
        factory = self.factory(queued_max_request_bytes=1000)
        protocol, transport = self.connect(factory)
        frame = request_frame(HEARTBEAT, 0, 7, {"group_id": "g" * 3000, "generation_id": 1,
                                                "member_id": "m"})
        protocol.dataReceived(frame[:100])
        self.assertEqual(transport.producerState, "producing")
        protocol.dataReceived(frame[100:])
        self.assertEqual([c for c, _ in read_responses(transport.value())], [7])
        self.assertEqual(factory.budget.used, 0)

    def test_held_back_frames_count(self) -> None:
        """Complete frames held back behind a waiting request count until processed."""
        factory = self.factory(queued_max_request_bytes=10_000)
        protocol, transport = self.connect(factory)
        transport.producerState = "paused"
        protocol.pauseProducing()  # the write buffer is full: requests wait
        frames = heartbeat(1) + heartbeat(2)
        protocol.dataReceived(frames)
        # Their payloads: the size prefixes are gone once a frame is whole.
        self.assertEqual(factory.budget.used, len(frames) - 8)
        protocol.resumeProducing()
        self.assertEqual([c for c, _ in read_responses(transport.value())], [1, 2])
        self.assertEqual(factory.budget.used, 0)

    def test_close_releases_and_trims(self) -> None:
        """A closed connection gives back its share; a large release trims the heap."""
        factory = self.factory(queued_max_request_bytes=100 << 20)
        protocol, transport = self.connect(factory)
        protocol.dataReceived(struct.pack(">i", 50 << 20) + b"x" * 65536)
        self.assertEqual(factory.budget.used, (50 << 20) + 4)
        protocol.connectionLost()
        self.assertEqual(factory.budget.used, 0)
        self.assertEqual(self.trims, [])
        self.clock.advance(0)
        self.assertEqual(self.trims, [None])


class CompletionTimeoutTests(FactoryMixin, SynchronousTestCase):
    """C{request_completion_timeout_ms}: an incomplete request is not kept forever."""

    def test_trickled_bytes_do_not_extend_it(self) -> None:
        """Bytes arriving one by one neither reset the timer nor save the connection."""
        factory = self.factory(request_completion_timeout_ms=10_000, idle_timeout=5)
        protocol, transport = self.connect(factory)
        protocol.dataReceived(struct.pack(">i", 1000))
        for _ in range(9):
            self.clock.advance(1)
            protocol.dataReceived(b"x")
        self.assertFalse(transport.disconnecting)
        self.clock.advance(1)
        self.assertTrue(transport.disconnecting)

    def test_completed_request_stops_it(self) -> None:
        """A request that completes in time cancels its timer; the next starts anew."""
        factory = self.factory(request_completion_timeout_ms=10_000)
        protocol, transport = self.connect(factory)
        frame = heartbeat(1)
        protocol.dataReceived(frame[:5])
        self.clock.advance(9)
        protocol.dataReceived(frame[5:] + heartbeat(2)[:5])
        self.clock.advance(9)
        self.assertFalse(transport.disconnecting)
        self.clock.advance(1)
        self.assertTrue(transport.disconnecting)

    def test_whole_frames_start_nothing(self) -> None:
        """Complete requests leave no timer behind."""
        factory = self.factory(request_completion_timeout_ms=10_000)
        protocol, transport = self.connect(factory)
        protocol.dataReceived(heartbeat(1) + heartbeat(2))
        self.assertEqual(self.clock.getDelayedCalls(), [
            c for c in self.clock.getDelayedCalls() if c.func != protocol._request_timed_out])
        self.clock.advance(100)
        self.assertFalse(transport.disconnecting)

    def test_paused_time_does_not_count(self) -> None:
        """While the broker does not read the connection, the timer is stopped."""
        factory = self.factory(request_completion_timeout_ms=10_000, queued_max_request_bytes=1000)
        first, _ = self.connect(factory, 1)
        second, second_transport = self.connect(factory, 2)
        first.dataReceived(struct.pack(">i", 5000))
        second.dataReceived(struct.pack(">i", 100))
        self.assertEqual(second_transport.producerState, "paused")
        self.clock.advance(9)
        first.connectionLost()
        self.clock.advance(9)
        self.assertFalse(second_transport.disconnecting)
        self.clock.advance(1)
        self.assertTrue(second_transport.disconnecting)

    def test_zero_disables(self) -> None:
        """With 0 an incomplete request waits for the idle timer only."""
        factory = self.factory(request_completion_timeout_ms=0, idle_timeout=0)
        protocol, transport = self.connect(factory)
        protocol.dataReceived(struct.pack(">i", 1000))
        self.clock.advance(10**6)
        self.assertFalse(transport.disconnecting)
