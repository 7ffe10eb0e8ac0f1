# -*- test-case-name: tests.server.test_connection -*-
"""What a responder knows about the request it is answering."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from twisted_kafka.server.authorizer import ALLOW_ALL, RequestAccess

if TYPE_CHECKING:
    from twisted_kafka.broker import Broker, ResponderSettings
    from twisted_kafka.server.authentication import ConnectionAuthentication
    from twisted_kafka.store.interfaces import IVhost


@dataclass
class RequestContext:
    """The per-request facts a responder may need.

    @ivar broker: the broker (store, config, coordinators).
    @ivar vhost: the stream-queue namespace this connection works in.
    @ivar api_version: the request's version; responders shape their answer
        by it only where the codec cannot (the codec already drops fields the
        version does not have).
    @ivar client_id: the client's id string, possibly C{None}.
    @ivar peer: the peer's address, for logs.
    @ivar advertised_host: the host Metadata should tell this client.
    @ivar advertised_port: the port Metadata should tell this client.
    @ivar access: what the authorizer allows this request; a responder
        answers a refused resource with its API's authorization error.
    @ivar authentication: the connection's authentication on an SSL or
        SASL listener (what the SASL responders drive), else C{None}.
    """

    broker: "Broker"
    vhost: "IVhost"
    api_version: int
    client_id: str | None
    peer: str
    advertised_host: str
    advertised_port: int
    access: RequestAccess = ALLOW_ALL
    authentication: ConnectionAuthentication | None = None

    @property
    def settings(self) -> ResponderSettings:
        """The configuration responders act on (the broker's L{ResponderSettings})."""
        return self.broker.settings
