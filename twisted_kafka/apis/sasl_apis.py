# -*- test-case-name: tests.apis.test_sasl_apis -*-
"""SaslHandshake (v0-1) and SaslAuthenticate (v0-2): logging in on a SASL listener.

SaslHandshake picks the mechanism (one of C{[security] sasl_mechanisms},
else UNSUPPORTED_SASL_MECHANISM with the enabled list); SaslAuthenticate
carries the mechanism's tokens (after a v0 handshake they come without Kafka
headers instead, see L{twisted_kafka.server.authentication}).  A successful
exchange authenticates the connection; from v1 the answer carries the
session lifetime (KIP-368, C{[security] max_reauth_ms}), before whose end
the client re-authenticates with a new handshake and exchange on the same
connection, as the same principal.  A failed one is answered
SASL_AUTHENTICATION_FAILED after C{failed_authentication_delay_ms}, and the
connection is closed.  On a listener without SASL both answer
ILLEGAL_SASL_STATE.
"""

from __future__ import annotations

from typing import Callable

from twisted_kafka.errors import ErrorCode
from twisted_kafka.protocol.messages import Fields
from twisted_kafka.security.sasl import new_exchange
from twisted_kafka.server.authentication import SASL_AUTHENTICATE_KEY, SASL_HANDSHAKE_KEY, SaslFailed
from twisted_kafka.server.context import RequestContext
from twisted_kafka.server.registry import ResponderRegistry
from twisted_kafka.server.reply import Reply, Waiting


def sasl_handshake(request: Fields, context: RequestContext) -> Reply:
    """Start an exchange with the requested mechanism."""
    enabled = list(context.settings.sasl_mechanisms)
    auth = context.authentication
    if auth is None or not auth.sasl:
        return {"error_code": ErrorCode.ILLEGAL_SASL_STATE, "mechanisms": []}
    if auth.authenticated and context.api_version < 1:
        # Re-authentication needs SaslHandshake v1 (KIP-368).
        return {"error_code": ErrorCode.ILLEGAL_SASL_STATE, "mechanisms": enabled}
    mechanism = request["mechanism"]
    if mechanism not in enabled:
        return {"error_code": ErrorCode.UNSUPPORTED_SASL_MECHANISM, "mechanisms": enabled}
    auth.exchange = new_exchange(mechanism, context.broker.credentials)
    auth.raw_tokens = context.api_version == 0 and not auth.authenticated
    return {"error_code": ErrorCode.NONE, "mechanisms": enabled}


def sasl_authenticate(request: Fields, context: RequestContext) -> Reply:
    """Feed the client's token to the exchange; answer its challenge or outcome."""
    auth = context.authentication
    exchange = auth.exchange if auth is not None else None
    if auth is None or exchange is None:
        return {"error_code": ErrorCode.ILLEGAL_SASL_STATE,
                "error_message": "SaslAuthenticate before a SaslHandshake", "auth_bytes": b""}
    try:
        step = exchange.step(request["auth_bytes"])
    except SaslFailed as e:
        auth.failed(getattr(exchange, "login", None), str(e))
        body: Fields = {
            "error_code": ErrorCode.SASL_AUTHENTICATION_FAILED,
            "error_message": (f"Authentication failed during authentication due to invalid "
                              f"credentials with SASL mechanism {exchange.mechanism}"),
            "auth_bytes": b""}
        return Waiting(_after(context, body, auth.close_now))
    lifetime = 0
    if step.principal is not None:
        lifetime = context.settings.max_reauth_ms
        auth.succeeded(step, lifetime)
    return {"error_code": ErrorCode.NONE, "error_message": None, "auth_bytes": step.challenge,
            "session_lifetime_ms": lifetime}


def _after(context: RequestContext, body: Fields,
           close: Callable[[str], None]) -> Callable[[Callable[[Fields], None]], None]:
    """Answer C{body} after the failed-authentication delay, then close."""
    delay = context.settings.failed_authentication_delay_ms / 1000.0

    def register(answer: Callable[[Fields], None]) -> None:
        def answer_and_close() -> None:
            answer(body)
            close("authentication failed")

        if delay > 0:
            context.broker.reactor.callLater(delay, answer_and_close)
        else:
            answer_and_close()

    return register


def register(registry: ResponderRegistry) -> None:
    """Serve SaslHandshake v0-1 and SaslAuthenticate v0-2 (no ACL needed: they log in)."""
    registry.register(SASL_HANDSHAKE_KEY, "SaslHandshake", 0, 1, sasl_handshake)
    registry.register(SASL_AUTHENTICATE_KEY, "SaslAuthenticate", 0, 2, sasl_authenticate)
