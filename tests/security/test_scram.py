# -*- test-case-name: tests.security.test_scram -*-
"""Tests for L{twisted_kafka.security.scram}: RFC 5802 and RFC 7677 test vectors."""

from __future__ import annotations

import base64

from twisted.trial.unittest import SynchronousTestCase

from tests.security.scram_client import ScramClient
from twisted_kafka.security.scram import (
    MIN_ITERATIONS, SCRAM_SHA_256, SCRAM_SHA_512, ScramCredential, ScramError,
    ScramMechanism, ScramServerExchange, decode_username)

#: RFC 5802 section 5 uses SCRAM-SHA-1; the exchange is hash-generic.
SCRAM_SHA_1 = ScramMechanism("SCRAM-SHA-1", "sha1", 0)


def vector_credential(mechanism: ScramMechanism, salt: str) -> ScramCredential:
    """The stored credential of the RFCs' user C{user}, password C{pencil}."""
    raw = base64.b64decode(salt)
    return mechanism.credential(mechanism.salted_password("pencil", raw, 4096), raw, 4096)


class RfcVectorTests(SynchronousTestCase):
    """The server side reproduces the RFCs' example exchanges byte for byte."""

    def exchange(self, mechanism: ScramMechanism, salt: str, client_nonce: str,
                 server_nonce: str) -> ScramServerExchange:
        credential = vector_credential(mechanism, salt)
        return ScramServerExchange(mechanism, {"user": credential}.get, lambda: server_nonce)

    def test_rfc5802_sha1(self) -> None:
        """RFC 5802 section 5: server-first and server-final as printed."""
        server = self.exchange(SCRAM_SHA_1, "QSXCR+Q6sek8bf92", "fyko+d2lbbFgONRv9qkxdawL",
                               "3rfcNHYJY1ZVvWVs7j")
        first = server.first(b"n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL")
        self.assertEqual(first, b"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,"
                                b"s=QSXCR+Q6sek8bf92,i=4096")
        final = server.final(b"c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,"
                             b"p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=")
        self.assertEqual(final, b"v=rmF9pqV8S7suAoZWja4dJRkFsKQ=")
        self.assertTrue(server.done)
        self.assertEqual(server.username, "user")

    def test_rfc7677_sha256(self) -> None:
        """RFC 7677 section 3: SCRAM-SHA-256 server-first and server-final as printed."""
        server = self.exchange(SCRAM_SHA_256, "W22ZaJ0SNY7soEsUEjb6gQ==", "rOprNGfwEbeRWgbNEkqO",
                               "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0")
        first = server.first(b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO")
        self.assertEqual(first, b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                                b"s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")
        final = server.final(b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                             b"p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
        self.assertEqual(final, b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")

    def test_rfc7677_wrong_proof(self) -> None:
        """A proof off by one byte (a wrong password) is refused, nothing is signed."""
        server = self.exchange(SCRAM_SHA_256, "W22ZaJ0SNY7soEsUEjb6gQ==", "rOprNGfwEbeRWgbNEkqO",
                               "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0")
        server.first(b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO")
        self.assertRaises(ScramError, server.final,
                          b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                          b"p=eHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
        self.assertFalse(server.done)


class ExchangeTests(SynchronousTestCase):
    """Whole exchanges against the test client, and the malformed messages refused."""

    def run_exchange(self, mechanism: ScramMechanism, stored: str, given: str) -> None:
        credential = mechanism.new_credential(stored)
        server = ScramServerExchange(mechanism, {"alice": credential}.get)
        client = ScramClient(mechanism, "alice", given)
        server_first = server.first(client.first())
        final = server.final(client.final(server_first))
        self.assertEqual(final, b"v=" + base64.b64encode(client.server_signature))

    def test_sha512_round_trip(self) -> None:
        """SCRAM-SHA-512 with a fresh credential: the client verifies the server."""
        self.run_exchange(SCRAM_SHA_512, "s3cret", "s3cret")

    def test_sha512_wrong_password(self) -> None:
        """A wrong password fails the proof."""
        self.assertRaises(ScramError, self.run_exchange, SCRAM_SHA_512, "s3cret", "guess")

    def test_unknown_user(self) -> None:
        """A user without a credential fails at the first message."""
        server = ScramServerExchange(SCRAM_SHA_256, {}.get)
        self.assertRaises(ScramError, server.first, b"n,,n=bob,r=abc")
        self.assertEqual(server.username, "bob")

    def test_malformed_first(self) -> None:
        """Channel binding, missing nonce, extensions, bad authzid and garbage are refused."""
        server = ScramServerExchange(SCRAM_SHA_256, {"u": SCRAM_SHA_256.new_credential("p")}.get)
        for message in (b"p=tls-unique,,n=u,r=abc", b"n,,n=u", b"n,,r=abc,n=u", b"garbage",
                        b"n,,n=u,r=abc,m=ext", b"n,,n=u,r=abc,tokenauth=true",
                        b"n,a=other,n=u,r=abc", b"\xff\xfe", b"n,,n=u=2Cx=ZZ,r=a", b"n,,n=u,r="):
            self.assertRaises(ScramError, server.first, message)

    def test_final_checks_nonce_and_binding(self) -> None:
        """A client-final with another nonce or channel binding is refused."""
        mechanism = SCRAM_SHA_256
        server = ScramServerExchange(mechanism, {"u": mechanism.new_credential("p")}.get, lambda: "S")
        server.first(b"n,,n=u,r=C")
        for message in (b"c=biws,r=CX,p=AAAA", b"c=eSws,r=CS,p=AAAA", b"c=biws,r=CS",
                        b"c=biws,r=CS,p=!!!"):
            self.assertRaises(ScramError, server.final, message)

    def test_final_before_first(self) -> None:
        """A client-final message first is refused."""
        server = ScramServerExchange(SCRAM_SHA_256, {}.get)
        self.assertRaises(ScramError, server.final, b"c=biws,r=a,p=AAAA")

    def test_escaped_username(self) -> None:
        """C{=2C} and C{=3D} decode to C{,} and C{=}."""
        self.assertEqual(decode_username("a=2Cb=3Dc"), "a,b=c")


class CredentialTests(SynchronousTestCase):
    """Credentials keep no password and check one for SASL/PLAIN."""

    def test_password_matches(self) -> None:
        """The password a credential was made from matches; another does not."""
        credential = SCRAM_SHA_256.new_credential("pencil")
        self.assertEqual(credential.iterations, MIN_ITERATIONS)
        self.assertEqual(len(credential.salt), 32)
        self.assertTrue(SCRAM_SHA_256.password_matches(credential, "pencil"))
        self.assertFalse(SCRAM_SHA_256.password_matches(credential, "pencil2"))

    def test_fresh_salt(self) -> None:
        """Two credentials of one password differ (random salts)."""
        a, b = SCRAM_SHA_512.new_credential("x"), SCRAM_SHA_512.new_credential("x")
        self.assertNotEqual(a.stored_key, b.stored_key)
