# -*- test-case-name: tests.server.test_draining -*-
"""The protocol factory every listener serves: connection limits, the request
budget, and draining its connections.

Every listener (TCP, TLS, unix, extra endpoints) serves one factory, so the
limits and the budget are broker-wide.  A connection over C{max_connections}
or C{max_connections_per_ip} gets a protocol that logs one line and aborts
it as soon as it is made (returning no protocol would do for TCP, but not
under TLS, whose wrapper needs one).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from twisted.internet import interfaces, protocol
from twisted.internet.defer import Deferred, DeferredList, succeed
from twisted.logger import Logger

from twisted_kafka.server.addresses import describe_address
from twisted_kafka.server.connection import KafkaConnection
from twisted_kafka.server.connection_limits import ConnectionLimits
from twisted_kafka.server.memory_trim import MemoryTrimmer, libc_malloc_trim
from twisted_kafka.server.request_budget import RequestBudget

if TYPE_CHECKING:
    from twisted_kafka.broker import Broker


class RefusedConnection(protocol.Protocol):
    """A connection over a limit: logs why and aborts as soon as it is made."""

    log = Logger()

    def __init__(self, peer: str, reason: str) -> None:
        self.peer = peer
        self.reason = reason

    def connectionMade(self) -> None:
        """Log the refusal and drop the connection at once."""
        self.log.warn("refusing connection from {peer}: {reason}",
                      peer=self.peer, reason=self.reason)
        self.transport.abortConnection()  # type: ignore[union-attr]


class ListenerFactory(protocol.Factory):
    """The broker's factory as one listener that is not PLAINTEXT serves it.

    Connections are the broker's (limits, budget, draining); each is told
    the listener's security protocol before it is made.
    """

    noisy = False

    def __init__(self, factory: interfaces.IProtocolFactory, security_protocol: str) -> None:
        self.factory = factory
        self.security_protocol = security_protocol

    def buildProtocol(self, addr: Any) -> Any:
        """Return the broker factory's connection, marked with the security protocol."""
        built = self.factory.buildProtocol(addr)
        if isinstance(built, KafkaConnection):
            built.security_protocol = self.security_protocol
        return built


class KafkaServerFactory(protocol.Factory):
    """Builds a L{KafkaConnection} for each accepted client.

    @ivar connections: the connections currently open, for L{drain}.
    @ivar limits: the L{ConnectionLimits} every accepted connection counts in.
    @ivar budget: the L{RequestBudget} of request bytes every connection shares.
    @ivar trimmer: the L{MemoryTrimmer} the budget's releases feed.
    """

    noisy = False

    def __init__(self, broker: "Broker", trim: Any = libc_malloc_trim) -> None:
        """
        @param trim: returns the heap-trimming function (or C{None}), see
            L{libc_malloc_trim}.
        """
        self.broker = broker
        self.connections: set[KafkaConnection] = set()
        kafka = broker.config.kafka
        self.limits = ConnectionLimits(kafka.max_connections, kafka.max_connections_per_ip)
        self.trimmer = MemoryTrimmer(broker.reactor, trim())
        self.budget = RequestBudget(kafka.queued_max_request_bytes, self.trimmer.released)

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

    def buildProtocol(self, addr: Any) -> protocol.Protocol:
        """Return a connection bound to the broker, or a refusal over a limit."""
        refused = self.limits.admit(addr)
        if refused is not None:
            return RefusedConnection(describe_address(addr), refused)
        connection = KafkaConnection(self.broker, self.connections, self.budget,
                                     lambda: self.limits.release(addr))
        connection.factory = self
        return connection
