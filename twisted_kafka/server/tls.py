# -*- test-case-name: tests.server.test_tls -*-
"""The TLS listener's context: certificate, key, client-certificate checks.

L{server_tls_options} builds a Twisted L{CertificateOptions} from the
C{[tls]} section.  It is built by hand rather than through an C{ssl:}
endpoint string because that string can express neither client-certificate
authentication nor a minimum TLS version.  Everything that can be wrong with
the PEM files (not PEM, a key that does not match the certificate) is a
L{ConfigError} naming the key, found when the configuration is loaded.
"""

from __future__ import annotations

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives import serialization
from OpenSSL import SSL, crypto
from twisted.internet.ssl import CertificateOptions, TLSVersion

from twisted_kafka.config import BrokerConfig, ConfigError

_MIN_VERSIONS = {"TLSv1.2": TLSVersion.TLSv1_2, "TLSv1.3": TLSVersion.TLSv1_3}


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _certificates(config: BrokerConfig, key: str, path: str) -> list[x509.Certificate]:
    """Return the PEM certificates in C{path}, or raise L{ConfigError} naming C{key}."""
    try:
        certificates = x509.load_pem_x509_certificates(_read(path))
    except OSError as e:
        raise _error(config, key, path, e.strerror or str(e)) from None
    except ValueError:
        certificates = []
    if not certificates:
        raise _error(config, key, path, "no PEM certificate in the file")
    return certificates


def _private_key(config: BrokerConfig, path: str) -> PrivateKeyTypes:
    """Return the unencrypted PEM private key in C{path}, or raise L{ConfigError}."""
    try:
        return serialization.load_pem_private_key(_read(path), password=None)
    except OSError as e:
        raise _error(config, "key", path, e.strerror or str(e)) from None
    except TypeError:
        raise _error(config, "key", path, "the key is encrypted (give an unencrypted key)") from None
    except (ValueError, UnsupportedAlgorithm):
        raise _error(config, "key", path, "no PEM private key in the file") from None


def _error(config: BrokerConfig, key: str, value: object, reason: str) -> ConfigError:
    return ConfigError(f"{config.source}: [tls] {key} = {value}: {reason}")


def _spki(public_key: object) -> bytes:
    der: bytes = public_key.public_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return der


def server_tls_options(config: BrokerConfig) -> CertificateOptions:
    """Return the context factory for the TLS listener described by C{config.tls}.

    The certificate file holds the server certificate first, then any
    intermediates (sent to clients as the chain).  C{client_auth} C{optional}
    verifies a certificate a client sends against C{ca}; C{required} also
    refuses clients that send none.

    @raise ConfigError: a file is unreadable or not PEM, or the key does not
        belong to the certificate.
    """
    tls = config.tls
    chain = _certificates(config, "cert", tls.cert)
    key = _private_key(config, tls.key)
    if _spki(chain[0].public_key()) != _spki(key.public_key()):
        raise _error(config, "key", tls.key, f"does not match the certificate in {tls.cert}")
    verify = tls.client_auth != "none"
    ca_certs = ([crypto.X509.from_cryptography(c) for c in _certificates(config, "ca", tls.ca)]
                if verify else None)
    options = CertificateOptions(
        privateKey=crypto.PKey.from_cryptography_key(key),  # type: ignore[arg-type]
        certificate=crypto.X509.from_cryptography(chain[0]),
        extraCertChain=[crypto.X509.from_cryptography(c) for c in chain[1:]],
        verify=verify,
        caCerts=ca_certs,
        requireCertificate=tls.client_auth == "required",
        raiseMinimumTo=_MIN_VERSIONS[tls.min_version],
    )
    try:
        options.getContext()
    except SSL.Error as e:
        raise _error(config, "cert", tls.cert, f"unusable: {e}") from None
    return options
