# -*- test-case-name: tests.server.test_tls -*-
"""Tests for L{twisted_kafka.server.tls}: real TLS handshakes, in memory."""

from __future__ import annotations

import os

from cryptography.hazmat.primitives import serialization
from twisted.internet import protocol, ssl
from twisted.internet.address import IPv4Address
from twisted.internet.task import Clock
from twisted.protocols.tls import TLSMemoryBIOFactory
from twisted.python.failure import Failure
from twisted.test import iosim
from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.config import BrokerConfig, ConfigError, TlsConfig
from twisted_kafka.server.tls import server_tls_options

from twisted_kafka.testing.tls import TlsFiles, make_ca, issue, write_tls_files

_ADDRESS = IPv4Address("TCP", "127.0.0.1", 9093)


class _Echo(protocol.Protocol):
    """Server side: echoes what it receives."""

    def dataReceived(self, data: bytes) -> None:
        self.transport.write(data)


class _Client(protocol.Protocol):
    """Client side: sends C{ping} once connected, records what comes back."""

    def __init__(self) -> None:
        self.received: list[bytes] = []
        self.lost: Failure | None = None

    def connectionMade(self) -> None:
        self.transport.write(b"ping")

    def dataReceived(self, data: bytes) -> None:
        self.received.append(data)

    def connectionLost(self, reason: Failure = protocol.connectionDone) -> None:
        self.lost = reason


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


class HandshakeTests(SynchronousTestCase):
    """The context from L{server_tls_options} completes (or refuses) handshakes."""

    def setUp(self) -> None:
        """Set up what each test here uses."""
        self.files: TlsFiles = write_tls_files(self.mktemp())

    def server_options(self, **tls: str) -> ssl.CertificateOptions:
        """Return server options for the test certificate with C{tls} overrides."""
        settings = {"cert": self.files.server_cert, "key": self.files.server_key, **tls}
        return server_tls_options(BrokerConfig(tls=TlsConfig(**settings), source="t.ini"))

    def exchange(self, server_options: ssl.CertificateOptions, client_cert: str | None = None,
                 client_key: str | None = None, **extra: object) -> _Client:
        """Handshake a client (with C{client_cert} if given) against C{server_options},
        send C{ping}, and return the client protocol after all bytes are pumped."""
        client_certificate = None
        if client_cert is not None and client_key is not None:
            client_certificate = ssl.PrivateCertificate.loadPEM(
                _read(client_cert) + _read(client_key))
        client_options = ssl.optionsForClientTLS(
            "localhost", trustRoot=ssl.Certificate.loadPEM(_read(self.files.ca_cert)),
            clientCertificate=client_certificate, extraCertificateOptions=extra or None)
        clock = Clock()  # TLS transports flush their buffered writes through it
        server_factory = TLSMemoryBIOFactory(
            server_options, False, protocol.Factory.forProtocol(_Echo), clock=clock)
        client = _Client()
        client_factory = TLSMemoryBIOFactory(
            client_options, True, protocol.Factory.forProtocol(lambda: client), clock=clock)
        _, _, pump = iosim.connectedServerAndClient(
            lambda: server_factory.buildProtocol(_ADDRESS),
            lambda: client_factory.buildProtocol(_ADDRESS), greet=False, clock=clock)
        pump.flush()
        return client

    def test_no_client_auth(self) -> None:
        """With client_auth none, a client without a certificate is served."""
        client = self.exchange(self.server_options())
        self.assertEqual(b"".join(client.received), b"ping")

    def test_required_accepts_client_certificate(self) -> None:
        """With client_auth required, a client with a certificate from C{ca} is served."""
        options = self.server_options(ca=self.files.ca_cert, client_auth="required")
        client = self.exchange(options, self.files.client_cert, self.files.client_key)
        self.assertEqual(b"".join(client.received), b"ping")
        self.assertIsNone(client.lost)

    def test_required_refuses_no_certificate(self) -> None:
        """With client_auth required, a client without a certificate is refused."""
        options = self.server_options(ca=self.files.ca_cert, client_auth="required")
        client = self.exchange(options)
        self.assertEqual(client.received, [])
        self.assertIsNotNone(client.lost)

    def test_required_refuses_untrusted_certificate(self) -> None:
        """With client_auth required, a certificate from another CA is refused."""
        options = self.server_options(ca=self.files.ca_cert, client_auth="required")
        client = self.exchange(
            options, self.files.untrusted_client_cert, self.files.untrusted_client_key)
        self.assertEqual(client.received, [])
        self.assertIsNotNone(client.lost)

    def test_optional(self) -> None:
        """With client_auth optional, no certificate is fine, an untrusted one is not."""
        options = self.server_options(ca=self.files.ca_cert, client_auth="optional")
        self.assertEqual(b"".join(self.exchange(options).received), b"ping")
        client = self.exchange(
            options, self.files.untrusted_client_cert, self.files.untrusted_client_key)
        self.assertEqual(client.received, [])

    def test_minimum_version(self) -> None:
        """min_version TLSv1.3 refuses a TLS 1.2 client that TLSv1.2 serves."""
        tls12 = {"lowerMaximumSecurityTo": ssl.TLSVersion.TLSv1_2}
        served = self.exchange(self.server_options(), **tls12)
        self.assertEqual(b"".join(served.received), b"ping")
        refused = self.exchange(self.server_options(min_version="TLSv1.3"), **tls12)
        self.assertEqual(refused.received, [])


class MaterialErrorTests(SynchronousTestCase):
    """Unusable PEM files are one-line L{ConfigError}s naming the key."""

    def setUp(self) -> None:
        """Set up what each test here uses."""
        self.files = write_tls_files(self.mktemp())

    def error(self, **tls: str) -> str:
        """Return the error text of building options with C{tls}."""
        settings = {"cert": self.files.server_cert, "key": self.files.server_key, **tls}
        config = BrokerConfig(tls=TlsConfig(**settings), source="t.ini")
        message = str(self.assertRaises(ConfigError, server_tls_options, config))
        self.assertNotIn("\n", message)
        return message

    def test_not_pem(self) -> None:
        """A certificate file holding no PEM certificate."""
        self.assertEqual(self.error(cert=self.files.server_key),
                         f"t.ini: [tls] cert = {self.files.server_key}: "
                         "no PEM certificate in the file")

    def test_not_a_key(self) -> None:
        """A key file holding no PEM key."""
        self.assertEqual(self.error(key=self.files.server_cert),
                         f"t.ini: [tls] key = {self.files.server_cert}: "
                         "no PEM private key in the file")

    def test_key_mismatch(self) -> None:
        """A key that is not the certificate's."""
        self.assertEqual(self.error(key=self.files.client_key),
                         f"t.ini: [tls] key = {self.files.client_key}: does not match the "
                         f"certificate in {self.files.server_cert}")

    def test_encrypted_key(self) -> None:
        """An encrypted key, which a server cannot ask a passphrase for."""
        issued = issue(make_ca(), "localhost", server=True)
        path = os.path.join(self.mktemp())
        with open(path, "wb") as f:
            f.write(issued.key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                serialization.BestAvailableEncryption(b"secret")))
        self.assertEqual(self.error(key=path),
                         f"t.ini: [tls] key = {path}: the key is encrypted "
                         "(give an unencrypted key)")

    def test_chain(self) -> None:
        """A certificate file with intermediates after the leaf is accepted."""
        chain = os.path.join(self.mktemp())
        with open(chain, "wb") as f:
            f.write(_read(self.files.server_cert) + _read(self.files.ca_cert))
        config = BrokerConfig(
            tls=TlsConfig(cert=chain, key=self.files.server_key), source="t.ini")
        self.assertIsInstance(server_tls_options(config), ssl.CertificateOptions)
