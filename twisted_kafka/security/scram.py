# -*- test-case-name: tests.security.test_scram -*-
"""SCRAM (RFC 5802, RFC 7677): stored keys and the server side of an exchange.

A credential is what the broker keeps of a password: a salt, an iteration
count and two keys derived from C{SaltedPassword = Hi(password, salt, i)}
(C{StoredKey = H(HMAC(SaltedPassword, "Client Key"))} and C{ServerKey =
HMAC(SaltedPassword, "Server Key")}); the password itself is never stored.
L{ScramServerExchange} is one authentication: the client-first message in,
the server-first out; the client-final in, the server-final out.  Channel
binding is not offered (a C{p=} GS2 header is refused), as in Kafka, and
Kafka's C{tokenauth} extension (delegation tokens) is refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass
from typing import Callable

#: The fewest and most iterations a stored credential may use (Kafka's bounds).
MIN_ITERATIONS = 4096
MAX_ITERATIONS = 16384


@dataclass(frozen=True)
class ScramMechanism:
    """One SCRAM mechanism: its SASL name, hash, and Kafka's code for it.

    @ivar code: Kafka's C{ScramMechanism} type (1: SHA-256, 2: SHA-512), as
        AlterUserScramCredentials and DescribeUserScramCredentials carry it.
    """

    name: str
    hash_name: str
    code: int

    def hmac(self, key: bytes, message: bytes) -> bytes:
        """Return C{HMAC(key, message)} with this mechanism's hash."""
        return hmac.new(key, message, self.hash_name).digest()

    def hash(self, data: bytes) -> bytes:
        """Return C{H(data)}."""
        return hashlib.new(self.hash_name, data).digest()

    def salted_password(self, password: str, salt: bytes, iterations: int) -> bytes:
        """Return C{Hi(Normalize(password), salt, i)} (PBKDF2 with this hash)."""
        return hashlib.pbkdf2_hmac(self.hash_name, password.encode("utf-8"), salt, iterations)

    def credential(self, salted_password: bytes, salt: bytes, iterations: int) -> ScramCredential:
        """Return the stored credential of C{salted_password}."""
        client_key = self.hmac(salted_password, b"Client Key")
        return ScramCredential(
            salt=salt, iterations=iterations, stored_key=self.hash(client_key),
            server_key=self.hmac(salted_password, b"Server Key"))

    def new_credential(self, password: str, iterations: int = MIN_ITERATIONS,
                       salt: bytes | None = None) -> ScramCredential:
        """Return a credential for C{password} with a fresh random salt."""
        salt = os.urandom(32) if salt is None else salt
        return self.credential(self.salted_password(password, salt, iterations), salt, iterations)

    def password_matches(self, credential: ScramCredential, password: str) -> bool:
        """Return whether C{password} is the one C{credential} was made from (SASL/PLAIN)."""
        salted = self.salted_password(password, credential.salt, credential.iterations)
        stored = self.hash(self.hmac(salted, b"Client Key"))
        return hmac.compare_digest(stored, credential.stored_key)


SCRAM_SHA_256 = ScramMechanism("SCRAM-SHA-256", "sha256", 1)
SCRAM_SHA_512 = ScramMechanism("SCRAM-SHA-512", "sha512", 2)
#: The SCRAM mechanisms served, by SASL name.
MECHANISMS = {m.name: m for m in (SCRAM_SHA_256, SCRAM_SHA_512)}
#: The same, by Kafka's mechanism code.
MECHANISMS_BY_CODE = {m.code: m for m in MECHANISMS.values()}


@dataclass(frozen=True)
class ScramCredential:
    """What is stored of one password for one mechanism."""

    salt: bytes
    iterations: int
    stored_key: bytes
    server_key: bytes


class ScramError(Exception):
    """The exchange failed; C{str()} is the reason to give the client and log."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _attributes(message: str) -> list[tuple[str, str]]:
    """Split C{a=1,b=2} into its attributes, or raise L{ScramError}."""
    out = []
    for part in message.split(","):
        if len(part) < 2 or part[1] != "=":
            raise ScramError(f"malformed SCRAM attribute {part[:20]!r}")
        out.append((part[0], part[2:]))
    return out


def decode_username(name: str) -> str:
    """Undo RFC 5802's escaping of C{,} and C{=} in a username (C{=2C}, C{=3D})."""
    if "=" in name.replace("=2C", "").replace("=3D", ""):
        raise ScramError("malformed username")
    return name.replace("=2C", ",").replace("=3D", "=")


class ScramServerExchange:
    """The server side of one SCRAM authentication.

    @ivar username: the user named by the client-first message (once received).
    @ivar done: whether the exchange completed successfully.
    """

    def __init__(self, mechanism: ScramMechanism,
                 lookup: Callable[[str], ScramCredential | None],
                 nonce: Callable[[], str] | None = None) -> None:
        """
        @param lookup: returns the stored credential of a username for this
            mechanism, or C{None} if there is none.
        @param nonce: returns the server's part of the nonce (random by default).
        """
        self.mechanism = mechanism
        self._lookup = lookup
        self._nonce = nonce or (lambda: _b64(os.urandom(18)))
        self.username: str | None = None
        self.done = False
        self._credential: ScramCredential | None = None
        self._client_first_bare = ""
        self._server_first = ""
        self._gs2_header = ""

    def first(self, message: bytes) -> bytes:
        """Take the client-first message; return the server-first message.

        @raise ScramError: malformed, channel binding asked for, or the user
            has no credential for this mechanism.
        """
        try:
            text = message.decode("utf-8")
        except UnicodeDecodeError:
            raise ScramError("client-first message is not UTF-8") from None
        parts = text.split(",", 2)
        if len(parts) != 3:
            raise ScramError("malformed client-first message")
        flag, authzid, bare = parts
        if flag not in ("n", "y"):
            raise ScramError("channel binding is not supported")
        attributes = _attributes(bare)
        if len(attributes) < 2 or attributes[0][0] != "n" or attributes[1][0] != "r":
            raise ScramError("client-first message must start with n= and r=")
        username = decode_username(attributes[0][1])
        for key, value in attributes[2:]:
            if key == "m":
                raise ScramError("mandatory SCRAM extensions are not supported")
            if key == "tokenauth" or (key == "t" and value):
                raise ScramError("delegation tokens are not supported")
        if authzid and (not authzid.startswith("a=")
                        or decode_username(authzid[2:]) != username):
            raise ScramError("authorization id must be the username")
        client_nonce = attributes[1][1]
        if not client_nonce:
            raise ScramError("empty client nonce")
        self.username = username
        credential = self._lookup(username)
        if credential is None:
            raise ScramError(f"no {self.mechanism.name} credential for user {username!r}")
        self._credential = credential
        self._gs2_header = f"{flag},{authzid},"
        self._client_first_bare = bare
        self._server_first = (f"r={client_nonce}{self._nonce()},s={_b64(credential.salt)},"
                              f"i={credential.iterations}")
        return self._server_first.encode("ascii")

    def final(self, message: bytes) -> bytes:
        """Take the client-final message; return the server-final message.

        @raise ScramError: malformed, wrong nonce or binding, or a proof
            that does not match the stored key (a wrong password).
        """
        credential = self._credential
        if credential is None:
            raise ScramError("client-final message before client-first")
        try:
            text = message.decode("utf-8")
        except UnicodeDecodeError:
            raise ScramError("client-final message is not UTF-8") from None
        without_proof, sep, proof_text = text.rpartition(",p=")
        if not sep:
            raise ScramError("client-final message has no proof")
        attributes = dict(_attributes(without_proof))
        expected_binding = _b64(self._gs2_header.encode("utf-8"))
        if attributes.get("c") != expected_binding:
            raise ScramError("channel binding does not match the GS2 header")
        server_nonce = self._server_first.split(",", 1)[0][2:]
        if attributes.get("r") != server_nonce:
            raise ScramError("nonce does not match")
        try:
            proof = base64.b64decode(proof_text, validate=True)
        except ValueError:
            raise ScramError("proof is not base64") from None
        auth_message = f"{self._client_first_bare},{self._server_first},{without_proof}".encode("utf-8")
        mechanism = self.mechanism
        signature = mechanism.hmac(credential.stored_key, auth_message)
        if len(proof) != len(signature):
            raise ScramError("invalid proof")
        client_key = bytes(a ^ b for a, b in zip(proof, signature))
        if not hmac.compare_digest(mechanism.hash(client_key), credential.stored_key):
            raise ScramError("invalid credentials")
        self.done = True
        server_signature = mechanism.hmac(credential.server_key, auth_message)
        return f"v={_b64(server_signature)}".encode("ascii")
