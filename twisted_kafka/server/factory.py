# -*- test-case-name: tests.server.test_draining -*-
"""The protocol factory every listener serves, and draining its connections."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from twisted.internet import protocol
from twisted.internet.defer import Deferred, DeferredList, succeed

from twisted_kafka.server.connection import KafkaConnection

if TYPE_CHECKING:
    from twisted_kafka.broker import Broker


class KafkaServerFactory(protocol.Factory):
    """Builds a L{KafkaConnection} for each accepted client.

    @ivar connections: the connections currently open, for L{drain}.
    """

    noisy = False

    def __init__(self, broker: "Broker") -> None:
        self.broker = broker
        self.connections: set[KafkaConnection] = set()

    def drain(self, timeout: float) -> Deferred[None]:
        """Drain every open connection (see L{KafkaConnection.drain}).

        Fires once all have closed; connections still open after
        C{timeout} seconds are aborted.
        """
        connections = list(self.connections)
        if not connections:
            return succeed(None)
        done = DeferredList([c.drain() for c in connections], consumeErrors=True)

        def abort() -> None:
            for connection in list(self.connections):
                connection.log.warn("aborting connection from {peer}: still busy at shutdown",
                                    peer=connection.peer)
                connection.transport.abortConnection()

        timer = self.broker.reactor.callLater(timeout, abort)

        def finished(_: object) -> None:
            if timer.active():
                timer.cancel()

        done.addCallback(finished)
        return done  # type: ignore[return-value]

    def buildProtocol(self, addr: Any) -> KafkaConnection:
        """Return a connection bound to the broker."""
        connection = KafkaConnection(self.broker, self.connections)
        connection.factory = self
        return connection
