# -*- test-case-name: tests.security.test_scram -*-
"""The client side of SCRAM, for tests: what a client computes (RFC 5802 section 3)."""

from __future__ import annotations

import base64

from twisted_kafka.security.scram import ScramMechanism


class ScramClient:
    """One client exchange: L{first}, then L{final} given the server-first message."""

    def __init__(self, mechanism: ScramMechanism, username: str, password: str,
                 nonce: str = "fyko+d2lbbFgONRv9qkxdawL") -> None:
        self.mechanism = mechanism
        self.username = username
        self.password = password
        self.nonce = nonce
        self.server_signature = b""

    def first(self) -> bytes:
        """Return the client-first message."""
        name = self.username.replace("=", "=3D").replace(",", "=2C")
        self._bare = f"n={name},r={self.nonce}"
        return f"n,,{self._bare}".encode()

    def final(self, server_first: bytes) -> bytes:
        """Return the client-final message answering C{server_first}."""
        m = self.mechanism
        attrs = dict(part.split("=", 1) for part in server_first.decode().split(","))
        salt = base64.b64decode(attrs["s"])
        salted = m.salted_password(self.password, salt, int(attrs["i"]))
        client_key = m.hmac(salted, b"Client Key")
        without_proof = f"c=biws,r={attrs['r']}"
        auth = f"{self._bare},{server_first.decode()},{without_proof}".encode()
        signature = m.hmac(m.hash(client_key), auth)
        proof = bytes(a ^ b for a, b in zip(client_key, signature))
        self.server_signature = m.hmac(m.hmac(salted, b"Server Key"), auth)
        return f"{without_proof},p={base64.b64encode(proof).decode()}".encode()
