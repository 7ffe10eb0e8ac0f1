# -*- test-case-name: tests.server.test_connection_waiting -*-
"""Tests for the L{Waiting} reply of L{twisted_kafka.server.connection}."""

from __future__ import annotations

from typing import Any, Callable

from twisted.trial.unittest import SynchronousTestCase

from tests.server.test_connection import ConnectionTestMixin, read_responses, request_frame
from twisted_kafka.protocol import messages
from twisted_kafka.server.registry import ResponderRegistry
from twisted_kafka.server.reply import Waiting

HEARTBEAT = 12


class WaitingTests(ConnectionTestMixin, SynchronousTestCase):
    """A L{Waiting} reply is written when answered, holding the requests after it."""

    def setUp(self) -> None:
        """Serve Heartbeat with a responder that waits for generation 1."""
        self.seen: list[int] = []
        self.answers: list[Callable[[dict], None]] = []

        def respond(request: dict, context: Any) -> Any:
            self.seen.append(request["generation_id"])
            if request["generation_id"] == 1:
                return Waiting(self.answers.append)
            return {"error_code": 0}

        registry = ResponderRegistry()
        registry.register(HEARTBEAT, "Heartbeat", 0, 4, respond)
        self.protocol, self.transport = self.connect(registry)

    def heartbeat(self, correlation_id: int, version: int = 0) -> bytes:
        """Return a Heartbeat request frame whose generation is its correlation id."""
        return request_frame(HEARTBEAT, version, correlation_id,
                             {"group_id": "g", "generation_id": correlation_id,
                              "member_id": "m"})

    def test_answer_written_and_later_requests_held(self) -> None:
        """Nothing after a waiting request is processed until it is answered, then all go in order."""
        self.protocol.dataReceived(self.heartbeat(1) + self.heartbeat(2))
        self.protocol.dataReceived(self.heartbeat(3))
        self.assertEqual(self.seen, [1])
        self.assertEqual(self.transport.value(), b"")
        self.assertEqual(self.transport.producerState, "paused")
        self.answers[0]({"error_code": 27})
        self.assertEqual(self.seen, [1, 2, 3])
        responses = read_responses(self.transport.value())
        self.assertEqual([c for c, _ in responses], [1, 2, 3])
        decode = messages.response_decoder(HEARTBEAT, 0)
        self.assertEqual(decode(responses[0][1], 0)["error_code"], 27)
        self.assertEqual(self.transport.producerState, "producing")

    def test_answer_from_register(self) -> None:
        """A marker answered while the connection registers is written at once."""

        def respond(request: dict, context: Any) -> Any:
            return Waiting(lambda answer: answer({"error_code": 0}))

        registry = ResponderRegistry()
        registry.register(HEARTBEAT, "Heartbeat", 0, 4, respond)
        protocol, transport = self.connect(registry)
        protocol.dataReceived(self.heartbeat(5) + self.heartbeat(6))
        self.assertEqual([c for c, _ in read_responses(transport.value())], [5, 6])

    def test_second_answer_ignored(self) -> None:
        """Only the first answer is written."""
        self.protocol.dataReceived(self.heartbeat(1))
        self.answers[0]({"error_code": 0})
        self.answers[0]({"error_code": 27})
        self.assertEqual(len(read_responses(self.transport.value())), 1)

    def test_answer_after_disconnect_ignored(self) -> None:
        """An answer arriving after the client went away writes nothing."""
        self.protocol.dataReceived(self.heartbeat(1))
        self.protocol.connectionLost()
        self.answers[0]({"error_code": 0})
        self.assertEqual(self.transport.value(), b"")

    def test_flexible_version(self) -> None:
        """The answer is encoded with the request's version (here a flexible one)."""
        self.protocol.dataReceived(self.heartbeat(1, version=4))
        self.answers[0]({"error_code": 22, "throttle_time_ms": 0})
        (correlation_id, body), = read_responses(self.transport.value())
        self.assertEqual(correlation_id, 1)
        # Response header v1 (flexible) has a tag section after the correlation id.
        decoded = messages.response_decoder(HEARTBEAT, 4)(body, 1)
        self.assertEqual(decoded["error_code"], 22)
