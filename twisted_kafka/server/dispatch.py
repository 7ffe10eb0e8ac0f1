# -*- test-case-name: tests.server.test_connection -*-
"""From one request frame to its responder's reply.

L{RequestDispatcher} decodes the request header, looks the API up in the
responder registry, checks the version, decodes the body, builds the
L{RequestContext} and calls the responder synchronously.  Anything that
must close the connection (a malformed header or body, an unknown api key,
an unsupported version other than ApiVersions's, a responder that raised)
is raised as L{RequestRefused}, carrying the reason to log.  Before the
responder runs, the broker's authorizer is asked about the resources the
request names (see L{twisted_kafka.server.authorizer}).  On an SSL or SASL
listener the connection's L{ConnectionAuthentication} first decides whether
the request may be answered at all (see L{twisted_kafka.server.authentication}).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from twisted.logger import Logger

from twisted_kafka.protocol import headers as wire_headers
from twisted_kafka.protocol.errors import DecodeError
from twisted_kafka.protocol.headers import API_VERSIONS_KEY
from twisted_kafka.protocol.messages import Fields
from twisted_kafka.server.authentication import ConnectionAuthentication, SaslFailed
from twisted_kafka.server.authorizer import (
    ALLOW_ALL, ANONYMOUS, AllowEverything, Authorizer, VhostScopedAuthorizer, access_for)
from twisted_kafka.server.codecs import ResponseFramer, codec_for, response_framer
from twisted_kafka.server.context import RequestContext

if TYPE_CHECKING:
    from twisted_kafka.broker import Broker
    from twisted_kafka.server.reply import Reply
    from twisted_kafka.store.interfaces import IVhost



class RequestRefused(Exception):
    """The request cannot be answered; the connection must close.

    @ivar reason: what to log with the peer.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RequestDispatcher:
    """Calls the registered responder for each request frame.

    @ivar principal: whom this connection's requests are authorized as.
    @ivar authentication: the connection's authentication on an SSL or SASL
        listener; C{None} on a PLAINTEXT one.
    @ivar client_id: the client id of the latest request.
    @ivar client_software: the client software name and version its latest
        ApiVersions (v3+) request gave, if any.
    """

    log = Logger()
    principal = ANONYMOUS
    authentication: ConnectionAuthentication | None = None
    client_id: str | None = None
    client_software: tuple[str, str] | None = None

    def __init__(self, broker: "Broker") -> None:
        """
        @param broker: what every request context carries; its registry
            names the responders.
        """
        self.broker = broker
        self._authorizer = broker.authorizer
        self._allow_all = isinstance(broker.authorizer, AllowEverything)

    def bind(self, principal: str, vhost: str, host: str) -> None:
        """Authorize this connection's requests as C{principal} in C{vhost} from C{host}.

        An authorizer whose rules are per vhost (ACLs) is narrowed to
        C{vhost} and C{host} once here, not per request.
        """
        self.principal = principal
        authorizer: Authorizer = self.broker.authorizer
        if isinstance(authorizer, VhostScopedAuthorizer):
            authorizer = authorizer.scoped(vhost, host)
        self._authorizer = authorizer

    def dispatch(self, frame: bytes, vhost: IVhost, peer: str, advertised_host: str,
                 advertised_port: int) -> tuple[Reply, ResponseFramer] | None:
        """Answer one request frame.

        @param vhost: the connection's vhost.
        @param peer: the connection's peer, for logs.
        @param advertised_host: the host Metadata tells this client.
        @param advertised_port: the port Metadata tells this client.
        @return: the responder's reply and the framer of its response body,
            or C{None} when there is no response (the responder returned
            C{None}).
        @raise RequestRefused: when the connection must close.
        """
        gate = self.authentication
        if gate is not None and not gate.authenticated and gate.raw_tokens:
            try:
                return gate.raw_token(frame)
            except SaslFailed as e:
                raise RequestRefused(f"SASL authentication failed: {e}") from None
        try:
            header, body_offset = wire_headers.decode_request_header(frame)
        except DecodeError as e:
            raise RequestRefused(f"malformed request header: {e}") from None
        api_key = header.api_key
        version = header.api_version
        if gate is not None and not gate.authenticated:
            refusal = gate.admit(api_key)
            if refusal is not None:
                raise RequestRefused(refusal)
        self.client_id = header.client_id
        served = self.broker.registry.get(api_key)
        if served is None:
            raise RequestRefused(f"unknown api key {api_key} (version {version})")
        encode_version = version
        if not served.serves(version):
            if api_key != API_VERSIONS_KEY:
                raise RequestRefused(
                    f"unsupported version {version} of {served.name} (api key {api_key}); "
                    f"served {served.min_version}-{served.max_version}"
                )
            # KIP-511: answer with a v0 body carrying UNSUPPORTED_VERSION.
            request: Fields = {}
            encode_version = 0
        else:
            try:
                request = codec_for(api_key, version)[0](frame, body_offset)
            except DecodeError as e:
                raise RequestRefused(f"malformed {served.name} v{version} request: {e}") from None
            if api_key == API_VERSIONS_KEY and version >= 3:
                self.client_software = (request.get("client_software_name") or "",
                                        request.get("client_software_version") or "")
        if self._allow_all or not served.needs:
            access = ALLOW_ALL
        else:
            access = access_for(self._authorizer, self.principal, served.needs, request)
        context = RequestContext(
            broker=self.broker,
            vhost=vhost,
            api_version=version,
            client_id=header.client_id,
            peer=peer,
            advertised_host=advertised_host,
            advertised_port=advertised_port,
            access=access,
            authentication=gate,
        )
        try:
            reply = served.responder(request, context)
        except Exception:
            self.log.failure(
                "{api} v{version} responder failed for {peer}",
                api=served.name, version=version, peer=peer,
            )
            raise RequestRefused(f"internal error answering {served.name} v{version}") from None
        if reply is None:
            return None
        return reply, response_framer(header.correlation_id, api_key, encode_version)
