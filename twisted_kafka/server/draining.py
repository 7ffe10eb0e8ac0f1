# -*- test-case-name: tests.server.test_draining -*-
"""Shutting down without dropping answers: drain client connections.

The broker's service stops its children in reverse order: the listeners
first (no new connections), then L{ConnectionDrainService}, then the group
coordinator and the store.  Draining stops reading requests, answers what
is in flight (acks=all produces get their fsync from the still-running
store, long polls answer with what there is) and closes each connection
once its transport has written everything, so a SIGTERM loses no response
that was already owed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from twisted.application.service import Service
from twisted.internet.defer import Deferred

if TYPE_CHECKING:
    from twisted_kafka.server.factory import KafkaServerFactory

#: Seconds shutdown waits for connections to finish before aborting them.
DRAIN_TIMEOUT = 10.0


class ConnectionDrainService(Service):
    """A service whose stop drains every connection of a factory.

    @ivar factory: the L{twisted_kafka.server.factory.KafkaServerFactory}.
    @ivar timeout: seconds to wait before aborting connections still open.
    """

    def __init__(self, factory: KafkaServerFactory, timeout: float = DRAIN_TIMEOUT) -> None:
        self.setName("connections")
        self.factory = factory
        self.timeout = timeout

    def stopService(self) -> Deferred[None]:
        """Drain the connections; fires when all are closed."""
        Service.stopService(self)
        return self.factory.drain(self.timeout)
