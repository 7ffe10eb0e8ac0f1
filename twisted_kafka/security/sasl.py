# -*- test-case-name: tests.security.test_sasl -*-
"""The SASL mechanisms as exchanges the connection's authentication drives.

L{new_exchange} returns the server side of PLAIN, SCRAM-SHA-256 or
SCRAM-SHA-512 over the broker's L{CredentialStore}: each takes the client's
tokens in turn (L{SaslExchange.step}) and, once the client has proved its
password, names the principal (C{User:name}) and the vhost the login picked
(C{vhost:user}, else the user's default vhost).  What the client is told on
failure never says whether the user exists; the log line does.
"""

from __future__ import annotations

from twisted_kafka.security.credentials import CredentialStore
from twisted_kafka.security.plain import PlainError, parse_plain
from twisted_kafka.security.scram import MECHANISMS, ScramError, ScramMechanism, ScramServerExchange
from twisted_kafka.server.authentication import SaslExchange, SaslFailed, SaslStep


class PlainExchange:
    """SASL/PLAIN: one token with the password, checked against the SCRAM keys."""

    mechanism = "PLAIN"

    def __init__(self, credentials: CredentialStore) -> None:
        self._credentials = credentials
        self.login: str | None = None

    def step(self, token: bytes) -> SaslStep:
        """Check the username and password of the one PLAIN message."""
        try:
            login, password = parse_plain(token)
        except PlainError as e:
            raise SaslFailed(str(e)) from None
        self.login = login
        found = self._credentials.login(login)
        if found is None or not self._credentials.password_matches(login, password):
            raise SaslFailed("Invalid username or password")
        user, vhost = found
        return SaslStep(b"", user.principal, vhost, login)


class ScramExchange:
    """SCRAM-SHA-256/512: client-first, then client-final."""

    def __init__(self, mechanism: ScramMechanism, credentials: CredentialStore) -> None:
        self.mechanism = mechanism.name
        self._credentials = credentials
        self._server = ScramServerExchange(
            mechanism, lambda login: credentials.scram_credential(login, mechanism.name))
        self._first_done = False

    @property
    def login(self) -> str | None:
        """The user as the client named it, once its first message is in."""
        return self._server.username

    def step(self, token: bytes) -> SaslStep:
        """Answer the client's next SCRAM message."""
        try:
            if not self._first_done:
                self._first_done = True
                return SaslStep(self._server.first(token), login=self._server.username)
            final = self._server.final(token)
        except ScramError as e:
            raise SaslFailed(str(e)) from None
        login = self._server.username
        assert login is not None
        found = self._credentials.login(login)
        if found is None:
            raise SaslFailed(f"user {login!r} was removed during authentication")
        user, vhost = found
        return SaslStep(final, user.principal, vhost, login)


def new_exchange(mechanism: str, credentials: CredentialStore) -> SaslExchange:
    """Return the server side of one authentication with C{mechanism}.

    @raise KeyError: not a mechanism this broker implements.
    """
    if mechanism == "PLAIN":
        return PlainExchange(credentials)
    return ScramExchange(MECHANISMS[mechanism], credentials)
