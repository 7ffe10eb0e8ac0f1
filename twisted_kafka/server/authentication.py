# -*- test-case-name: tests.server.test_authentication -*-
"""A connection's authentication on an SSL or SASL listener.

A L{ConnectionAuthentication} belongs to one connection whose listener is
not C{PLAINTEXT} (a PLAINTEXT connection has none, and its requests pay
nothing for this).  The dispatcher asks it, until the connection has
authenticated, whether a request may be answered:

- on an C{SSL} listener, the first request fixes the principal from the
  client's certificate (C{User:ANONYMOUS} without one) and everything is
  answered from then on;
- on a C{SASL_PLAINTEXT} or C{SASL_SSL} listener, only ApiVersions,
  SaslHandshake and SaslAuthenticate are answered before a successful
  authentication; any other request closes the connection (logged), and
  frames are limited to C{sasl_max_receive_size} bytes.  After a SaslHandshake
  v0 the client sends the SASL tokens without Kafka headers, which are
  answered the same way.

The SASL responders (L{twisted_kafka.apis.sasl_apis}) drive the mechanism
(a L{SaslExchange}) and report the outcome here: L{succeeded} sets the
principal and vhost and, with a session lifetime (KIP-368), a timer that
closes the connection unless it re-authenticates first; L{failed} closes the
connection once the delayed answer has been written.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any, Callable, Protocol

from twisted.logger import Logger

from twisted_kafka.protocol.compiler import Chunk
from twisted_kafka.protocol.headers import API_VERSIONS_KEY
from twisted_kafka.protocol.messages import Fields
from twisted_kafka.server.authorizer import ANONYMOUS

SASL_HANDSHAKE_KEY = 17
SASL_AUTHENTICATE_KEY = 36
#: What a SASL connection may send before it has authenticated.
PRE_AUTHENTICATION_KEYS = frozenset({API_VERSIONS_KEY, SASL_HANDSHAKE_KEY, SASL_AUTHENTICATE_KEY})

_SIZE = struct.Struct(">i")


class SaslFailed(Exception):
    """The client's token fails the authentication; C{str()} is the reason."""


@dataclass(frozen=True)
class SaslStep:
    """What one client token led to.

    @ivar challenge: the server's token back (possibly empty).
    @ivar principal: set once the exchange has succeeded (C{User:name}).
    @ivar vhost: the vhost the login picked, once succeeded.
    @ivar login: the user as the client named it, for logs.
    """

    challenge: bytes
    principal: str | None = None
    vhost: str | None = None
    login: str | None = None


class SaslExchange(Protocol):
    """One SASL mechanism's server side, fed the client's tokens in turn."""

    mechanism: str

    def step(self, token: bytes) -> SaslStep:
        """Take the next client token.

        @raise SaslFailed: the authentication fails.
        """


class ConnectionAuthentication:
    """The authentication state of one connection (see the module docstring).

    @ivar sasl: whether the listener is SASL_PLAINTEXT or SASL_SSL.
    @ivar authenticated: whether requests other than the SASL ones may be answered.
    @ivar principal: whom the connection is authenticated as.
    @ivar exchange: the SASL exchange in progress (set by SaslHandshake).
    @ivar raw_tokens: a SaslHandshake v0 was answered: tokens come unframed.
    @ivar failing: an authentication failed; the connection closes after
        its answer.
    @ivar expires_at: when the session ends (reactor seconds), or C{None}.
    """

    log = Logger()

    def __init__(self, security_protocol: str, peer: str, reactor: Any,
                 on_authenticated: Callable[[str, str | None], None],
                 close: Callable[[str], None],
                 certificate_principal: Callable[[], str] | None = None) -> None:
        """
        @param on_authenticated: called with the principal and the vhost
            (C{None}: keep the connection's) once authenticated.
        @param close: closes the connection, logging the reason.
        @param certificate_principal: returns the principal of the client's
            certificate (SSL listeners).
        """
        self.security_protocol = security_protocol
        self.sasl = security_protocol.startswith("SASL_")
        self.peer = peer
        self._reactor = reactor
        self._on_authenticated = on_authenticated
        self._close = close
        self._certificate_principal = certificate_principal
        self.authenticated = False
        self.principal = ANONYMOUS
        self.exchange: SaslExchange | None = None
        self.raw_tokens = False
        self.failing = False
        self.expires_at: float | None = None
        self._expiry: Any = None

    def admit(self, api_key: int) -> str | None:
        """Return why a request with C{api_key} must close the connection, or C{None}."""
        if not self.sasl:
            principal = (self._certificate_principal() if self._certificate_principal is not None
                         else ANONYMOUS)
            self.authenticated = True
            self.principal = principal
            self._on_authenticated(principal, None)
            return None
        if self.failing:
            return f"request (api key {api_key}) after a failed authentication"
        if api_key in PRE_AUTHENTICATION_KEYS:
            return None
        return (f"request (api key {api_key}) before SASL authentication on a "
                f"{self.security_protocol} listener")

    def succeeded(self, step: SaslStep, lifetime_ms: int) -> None:
        """The exchange succeeded: authenticate the connection as C{step.principal}.

        A re-authentication must keep the principal (Kafka's rule); another
        one closes the connection.

        @param lifetime_ms: the session's lifetime; 0 for no expiry.
        """
        assert step.principal is not None, "a step without a principal did not succeed"
        mechanism = self.exchange.mechanism if self.exchange is not None else "SASL"
        self.exchange = None
        self.raw_tokens = False
        if self.authenticated and step.principal != self.principal:
            self._close(f"re-authentication as {step.principal} on a connection "
                        f"authenticated as {self.principal}")
            return
        first = not self.authenticated
        self.authenticated = True
        self.principal = step.principal
        self._stop_expiry()
        if lifetime_ms > 0:
            self.expires_at = self._reactor.seconds() + lifetime_ms / 1000.0
            self._expiry = self._reactor.callLater(lifetime_ms / 1000.0, self._expired)
        else:
            self.expires_at = None
        if first:
            self.log.info("{peer} authenticated as {principal} ({mechanism}, vhost {vhost})",
                          peer=self.peer, principal=step.principal, vhost=step.vhost,
                          mechanism=mechanism)
            self._on_authenticated(step.principal, step.vhost)

    def failed(self, login: str | None, reason: str) -> None:
        """The authentication failed: log it (never the password) and refuse what follows."""
        self.exchange = None
        self.failing = True
        self.log.warn("failed authentication from {peer} (user {user}): {reason}",
                      peer=self.peer, user=login if login is not None else "?", reason=reason)

    def close_now(self, reason: str) -> None:
        """Close the connection (after a failed authentication's answer)."""
        self._stop_expiry()
        self._close(reason)

    def lost(self) -> None:
        """The connection is gone: stop the session timer."""
        self._stop_expiry()

    def _stop_expiry(self) -> None:
        timer, self._expiry = self._expiry, None
        if timer is not None and timer.active():
            timer.cancel()

    def _expired(self) -> None:
        self._expiry = None
        self._close(f"SASL session of {self.principal} expired without re-authentication")

    def raw_token(self, frame: bytes) -> tuple[Fields, Callable[[Fields], list[Chunk]]]:
        """Answer a SASL token sent without Kafka headers (after SaslHandshake v0).

        @raise SaslFailed: the token fails the authentication (the
            connection closes, as Kafka's does for v0 clients).
        """
        exchange = self.exchange
        if exchange is None:
            raise SaslFailed("a SASL token before SaslHandshake")
        try:
            step = exchange.step(frame)
        except SaslFailed as e:
            self.failed(None, str(e))
            raise
        if step.principal is not None:
            self.succeeded(step, 0)
        return {"auth_bytes": step.challenge}, _raw_frame


def _raw_frame(body: Fields) -> list[Chunk]:
    """Frame a SASL token without a Kafka header: its size, then its bytes."""
    token: bytes = body["auth_bytes"]
    return [_SIZE.pack(len(token)), token]
