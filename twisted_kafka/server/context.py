# -*- test-case-name: tests.server.test_connection -*-
"""What a responder knows about the request it is answering."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from twisted_kafka.broker import Broker


@dataclass
class RequestContext:
    """The per-request facts a responder may need.

    @ivar broker: the broker (store, config, coordinators).
    @ivar vhost: the stream-queue namespace this connection works in.
    @ivar api_key: the request's api key.
    @ivar api_version: the request's version; responders shape their answer
        by it only where the codec cannot (the codec already drops fields the
        version does not have).
    @ivar correlation_id: the client's correlation id.
    @ivar client_id: the client's id string, possibly C{None}.
    @ivar peer: the peer's address, for logs.
    @ivar advertised_host: the host Metadata should tell this client.
    @ivar advertised_port: the port Metadata should tell this client.
    @ivar connection: the connection the request came in on.
    """

    broker: "Broker"
    vhost: Any
    api_key: int
    api_version: int
    correlation_id: int
    client_id: str | None
    peer: str
    advertised_host: str
    advertised_port: int
    connection: Any = None
