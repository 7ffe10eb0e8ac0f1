# -*- test-case-name: tests.server.test_tls -*-
"""Test certificates, made fresh with C{cryptography}: a CA, a server, clients.

L{write_tls_files} writes a CA, a server certificate for C{localhost} and
C{127.0.0.1} signed by it, a client certificate signed by it and one signed
by an unrelated CA (for "refused" tests), all as PEM files in a directory.
Keys are EC P-256: quick to generate and accepted by every client library.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class Issued:
    """A certificate and its private key."""

    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    def certificate_pem(self) -> bytes:
        """Return the certificate as PEM."""
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def key_pem(self) -> bytes:
        """Return the private key as unencrypted PKCS#8 PEM."""
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption())


@dataclass(frozen=True)
class TlsFiles:
    """Paths of PEM files written by L{write_tls_files}."""

    ca_cert: str
    server_cert: str
    server_key: str
    client_cert: str
    client_key: str
    untrusted_client_cert: str
    untrusted_client_key: str


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_ca(common_name: str = "twisted-kafka test CA") -> Issued:
    """Return a new self-signed CA certificate and key."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True,
            crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Issued(certificate, key)


def issue(ca: Issued, common_name: str, *, server: bool) -> Issued:
    """Return a certificate for C{common_name} signed by C{ca}.

    A server certificate names C{localhost} and C{127.0.0.1} (and
    C{common_name}) as subject alternative names; a client one is for
    client authentication.
    """
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
            ca.key.public_key()), critical=False)
    )
    if server:
        builder = builder.add_extension(x509.SubjectAlternativeName([
            x509.DNSName(common_name), x509.DNSName("localhost"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        usage = ExtendedKeyUsageOID.SERVER_AUTH
    else:
        usage = ExtendedKeyUsageOID.CLIENT_AUTH
    builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    return Issued(builder.sign(ca.key, hashes.SHA256()), key)


def write_tls_files(directory: str) -> TlsFiles:
    """Make a CA, server and client certificates; write them as PEM in C{directory}."""
    os.makedirs(directory, exist_ok=True)
    ca = make_ca()
    other_ca = make_ca("untrusted test CA")
    made = {
        "ca": ca,
        "server": issue(ca, "localhost", server=True),
        "client": issue(ca, "test-client", server=False),
        "untrusted-client": issue(other_ca, "untrusted-client", server=False),
    }

    def write(name: str, data: bytes) -> str:
        path = os.path.join(directory, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    paths = {}
    for name, issued in made.items():
        paths[name + "-cert"] = write(f"{name}.crt", issued.certificate_pem())
        paths[name + "-key"] = write(f"{name}.key", issued.key_pem())
    return TlsFiles(
        ca_cert=paths["ca-cert"],
        server_cert=paths["server-cert"],
        server_key=paths["server-key"],
        client_cert=paths["client-cert"],
        client_key=paths["client-key"],
        untrusted_client_cert=paths["untrusted-client-cert"],
        untrusted_client_key=paths["untrusted-client-key"],
    )
