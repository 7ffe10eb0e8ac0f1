# -*- test-case-name: tests.security.test_plain -*-
"""SASL/PLAIN (RFC 4616): the one client message, parsed.

The message is C{authzid NUL authcid NUL passwd}.  As in Kafka, an
authorization id other than the username is refused.  The password is
checked against the SCRAM credentials of the user (see
L{twisted_kafka.security.credentials}), so PLAIN needs no other store.
"""

from __future__ import annotations


class PlainError(Exception):
    """The message is not a PLAIN message this broker accepts."""


def parse_plain(message: bytes) -> tuple[str, str]:
    """Return the (username, password) of a PLAIN message.

    @raise PlainError: not three NUL-separated UTF-8 parts, an empty
        username or password, or an authorization id that is not the username.
    """
    parts = message.split(b"\x00")
    if len(parts) != 3:
        raise PlainError("invalid SASL/PLAIN message: expected authzid NUL authcid NUL passwd")
    try:
        authzid, username, password = (p.decode("utf-8") for p in parts)
    except UnicodeDecodeError:
        raise PlainError("invalid SASL/PLAIN message: not UTF-8") from None
    if not username:
        raise PlainError("authentication failed: username not specified")
    if not password:
        raise PlainError("authentication failed: password not specified")
    if authzid and authzid != username:
        raise PlainError("authentication failed: client requested an authorization id "
                         "that is different from the username")
    return username, password
