# -*- test-case-name: tests.apis.test_sasl_apis -*-
"""SaslHandshake and SaslAuthenticate on a real broker's connections.

Each test drives a L{KafkaConnection} of a SASL listener over a
StringTransport, with the broker's responders, a real store and a users
file in the test's directory, on a fake clock.
"""

from __future__ import annotations

import dataclasses
import struct
from typing import Any

from twisted.internet.address import IPv4Address
from twisted.internet.testing import StringTransport
from twisted.trial.unittest import SynchronousTestCase

from tests.apis.support import make_broker
from tests.security.scram_client import ScramClient
from tests.server.test_connection import read_responses, request_frame
from twisted_kafka.broker import Broker
from twisted_kafka.config import SecurityConfig
from twisted_kafka.errors import ErrorCode
from twisted_kafka.protocol import messages
from twisted_kafka.security.credentials import CredentialStore
from twisted_kafka.security.scram import SCRAM_SHA_256, SCRAM_SHA_512, ScramMechanism
from twisted_kafka.server.factory import KafkaServerFactory, ListenerFactory

API_VERSIONS, METADATA, SASL_HANDSHAKE, SASL_AUTHENTICATE = 18, 3, 17, 36


def make_sasl_broker(case: SynchronousTestCase, **security: Any) -> Broker:
    """Return a broker with users C{alice} (password C{pencil}, vhosts / and team)."""
    broker = make_broker(case)
    broker.config = dataclasses.replace(
        broker.config, security=dataclasses.replace(broker.config.security, **security))
    broker.settings = dataclasses.replace(
        broker.settings, sasl_mechanisms=broker.config.security.sasl_mechanisms,
        max_reauth_ms=broker.config.security.max_reauth_ms,
        failed_authentication_delay_ms=broker.config.security.failed_authentication_delay_ms)
    credentials = CredentialStore.in_directory(case.mktemp(), durable=False)
    credentials.set_password("alice", "pencil", "/")
    credentials.grant("alice", ("team",))
    broker._credentials = credentials
    return broker


class SaslConnectionCase(SynchronousTestCase):
    """A connection of a SASL_PLAINTEXT listener."""

    protocol_name = "SASL_PLAINTEXT"
    security: dict[str, Any] = {}

    def make_broker(self) -> Broker:
        """Return the broker to connect to."""
        return make_sasl_broker(self, **self.security)

    def setUp(self) -> None:
        """Build the broker and connect."""
        self.broker = self.make_broker()
        self.clock = self.broker.reactor
        factory = ListenerFactory(KafkaServerFactory(self.broker), self.protocol_name)
        peer = IPv4Address("TCP", "10.0.0.7", 40000)
        self.connection = factory.buildProtocol(peer)
        self.transport = StringTransport(peerAddress=peer)
        self.connection.makeConnection(self.transport)
        self.correlation = 0
        self.addCleanup(self.connection.connectionLost)

    def send(self, api_key: int, version: int, body: dict) -> None:
        """Send one request."""
        self.correlation += 1
        self.connection.dataReceived(request_frame(api_key, version, self.correlation, body))

    def responses(self, api_key: int, version: int) -> list[dict]:
        """Decode and clear everything written, as responses of C{api_key} v{version}."""
        out = []
        from twisted_kafka.protocol import headers

        skip = 1 if headers.response_header_version(api_key, version) >= 1 else 0
        for _, body in read_responses(self.transport.value()):
            out.append(messages.response_decoder(api_key, version)(body[skip:], 0))
        self.transport.clear()
        return out

    def call(self, api_key: int, version: int, body: dict) -> dict:
        """Send a request and return its one response."""
        self.send(api_key, version, body)
        [response] = self.responses(api_key, version)
        return response

    def handshake(self, mechanism: str, version: int = 1) -> dict:
        """SaslHandshake with C{mechanism}."""
        return self.call(SASL_HANDSHAKE, version, {"mechanism": mechanism})

    def authenticate(self, token: bytes, version: int = 2) -> dict:
        """SaslAuthenticate with C{token}."""
        return self.call(SASL_AUTHENTICATE, version, {"auth_bytes": token})

    def login_plain(self, username: str = "alice", password: str = "pencil") -> dict:
        """Log in with PLAIN; return the SaslAuthenticate response."""
        self.assertEqual(self.handshake("PLAIN")["error_code"], 0)
        return self.authenticate(f"\0{username}\0{password}".encode())

    def login_scram(self, mechanism: ScramMechanism, username: str = "alice",
                    password: str = "pencil") -> dict:
        """Log in with a SCRAM mechanism; return the last SaslAuthenticate response."""
        self.assertEqual(self.handshake(mechanism.name)["error_code"], 0)
        client = ScramClient(mechanism, username, password)
        first = self.authenticate(client.first())
        self.assertEqual(first["error_code"], 0)
        return self.authenticate(client.final(first["auth_bytes"]))

    def metadata(self) -> list[dict]:
        """Send Metadata v12 for every topic; return what was answered."""
        self.send(METADATA, 12, {"topics": None})
        return self.responses(METADATA, 12)

    @property
    def closed(self) -> bool:
        """Whether the connection is closing."""
        return bool(self.transport.disconnecting)


class BeforeAuthenticationTests(SaslConnectionCase):
    """Before authentication only ApiVersions and the SASL APIs are answered."""

    def test_api_versions_answered(self) -> None:
        """ApiVersions lists SaslHandshake and SaslAuthenticate."""
        response = self.call(API_VERSIONS, 3, {"client_software_name": "t",
                                               "client_software_version": "1"})
        keys = {a["api_key"]: (a["min_version"], a["max_version"]) for a in response["api_keys"]}
        self.assertEqual((keys[17], keys[36]), ((0, 1), (0, 2)))
        self.assertFalse(self.closed)

    def test_other_request_closes(self) -> None:
        """Metadata before authentication closes the connection, unanswered, with a log line."""
        events: list[dict] = []
        from twisted.logger import globalLogPublisher

        globalLogPublisher.addObserver(events.append)
        self.addCleanup(globalLogPublisher.removeObserver, events.append)
        self.assertEqual(self.metadata(), [])
        self.assertTrue(self.closed)
        self.assertTrue(any("before SASL authentication" in str(e.get("reason", ""))
                            for e in events))

    def test_large_frame_closes(self) -> None:
        """A frame over sasl_max_receive_size is refused from its size prefix."""
        self.connection.dataReceived(struct.pack(">i", 524289) + b"x" * 10)
        self.assertTrue(self.closed)

    def test_unsupported_mechanism(self) -> None:
        """An unknown mechanism gets UNSUPPORTED_SASL_MECHANISM and the enabled list."""
        response = self.handshake("GSSAPI")
        self.assertEqual(response["error_code"], ErrorCode.UNSUPPORTED_SASL_MECHANISM)
        self.assertEqual(response["mechanisms"], ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])

    def test_authenticate_before_handshake(self) -> None:
        """SaslAuthenticate without a handshake is ILLEGAL_SASL_STATE."""
        self.assertEqual(self.authenticate(b"x")["error_code"], ErrorCode.ILLEGAL_SASL_STATE)


class LoginTests(SaslConnectionCase):
    """PLAIN and both SCRAMs authenticate; then every API is answered."""

    def assertAuthenticated(self, response: dict, vhost: str = "/") -> None:
        self.assertEqual(response["error_code"], 0)
        self.assertEqual(len(self.metadata()), 1)
        self.assertFalse(self.closed)
        self.assertEqual(self.connection._dispatcher.principal, "User:alice")
        self.assertEqual(self.connection.vhost.name, vhost)

    def test_plain(self) -> None:
        """PLAIN with the right password."""
        self.assertAuthenticated(self.login_plain())

    def test_plain_picks_vhost(self) -> None:
        """C{team:alice} lands in vhost team."""
        self.assertAuthenticated(self.login_plain("team:alice"), "team")

    def test_scram_sha_256(self) -> None:
        """SCRAM-SHA-256: the server's signature is the one the client expects."""
        response = self.login_scram(SCRAM_SHA_256)
        self.assertTrue(response["auth_bytes"].startswith(b"v="))
        self.assertAuthenticated(response)

    def test_scram_sha_512_vhost(self) -> None:
        """SCRAM-SHA-512 with a C{vhost:user} login."""
        self.assertAuthenticated(self.login_scram(SCRAM_SHA_512, "team:alice"), "team")

    def test_handshake_v0_raw_tokens(self) -> None:
        """After SaslHandshake v0 the PLAIN token comes unframed, answered unframed."""
        self.assertEqual(self.handshake("PLAIN", version=0)["error_code"], 0)
        token = b"\0alice\0pencil"
        self.connection.dataReceived(struct.pack(">i", len(token)) + token)
        self.assertEqual(self.transport.value(), struct.pack(">i", 0))
        self.transport.clear()
        self.assertEqual(len(self.metadata()), 1)


class FailureTests(SaslConnectionCase):
    """A failed authentication is answered after the delay, then the connection closes."""

    def assertFailedAfterDelay(self) -> None:
        self.assertEqual(self.transport.value(), b"")
        self.clock.advance(0.1)
        [response] = self.responses(SASL_AUTHENTICATE, 2)
        self.assertEqual(response["error_code"], ErrorCode.SASL_AUTHENTICATION_FAILED)
        self.assertIn("invalid credentials", response["error_message"])
        self.assertTrue(self.closed)

    def test_plain_wrong_password(self) -> None:
        """PLAIN with a wrong password; the log names the user, not the password."""
        events: list[dict] = []
        from twisted.logger import globalLogPublisher

        globalLogPublisher.addObserver(events.append)
        self.addCleanup(globalLogPublisher.removeObserver, events.append)
        self.handshake("PLAIN")
        self.send(SASL_AUTHENTICATE, 2, {"auth_bytes": b"\0alice\0guess-what"})
        self.assertFailedAfterDelay()
        logged = [e for e in events if e.get("user") == "alice"]
        self.assertEqual(len(logged), 1)
        self.assertNotIn("guess-what", repr(events))

    def test_plain_unknown_user(self) -> None:
        """An unknown user fails the same way."""
        self.handshake("PLAIN")
        self.send(SASL_AUTHENTICATE, 2, {"auth_bytes": b"\0bob\0pencil"})
        self.assertFailedAfterDelay()

    def test_vhost_not_granted(self) -> None:
        """A vhost the user is not granted fails the login."""
        self.handshake("PLAIN")
        self.send(SASL_AUTHENTICATE, 2, {"auth_bytes": b"\0other:alice\0pencil"})
        self.assertFailedAfterDelay()

    def test_scram_wrong_password(self) -> None:
        """SCRAM-SHA-512 with a wrong password fails at the client-final message."""
        self.handshake("SCRAM-SHA-512")
        client = ScramClient(SCRAM_SHA_512, "alice", "wrong")
        first = self.authenticate(client.first())
        self.send(SASL_AUTHENTICATE, 2, {"auth_bytes": client.final(first["auth_bytes"])})
        self.assertFailedAfterDelay()


class SessionLifetimeTests(SaslConnectionCase):
    """With max_reauth_ms, sessions end unless the client re-authenticates (KIP-368)."""

    security = {"max_reauth_ms": 10000}

    def test_lifetime_given_and_enforced(self) -> None:
        """v1+ tells the lifetime; at its end the connection closes."""
        response = self.login_plain()
        self.assertEqual(response["session_lifetime_ms"], 10000)
        self.clock.advance(9.9)
        self.assertFalse(self.closed)
        self.clock.advance(0.1)
        self.assertTrue(self.closed)

    def test_reauthentication_extends(self) -> None:
        """Re-authenticating as the same principal starts a new session."""
        self.login_plain()
        self.clock.advance(9)
        self.assertEqual(self.login_scram(SCRAM_SHA_256)["session_lifetime_ms"], 10000)
        self.clock.advance(9)
        self.assertFalse(self.closed)
        self.assertEqual(len(self.metadata()), 1)

    def test_reauthentication_as_another_principal_closes(self) -> None:
        """Another principal on re-authentication closes the connection."""
        self.broker.credentials.set_password("bob", "pw", "/")
        self.login_plain()
        self.handshake("PLAIN")
        self.send(SASL_AUTHENTICATE, 2, {"auth_bytes": b"\0bob\0pw"})
        self.assertTrue(self.closed)

    def test_v0_handshake_cannot_reauthenticate(self) -> None:
        """Re-authentication needs SaslHandshake v1."""
        self.login_plain()
        self.assertEqual(self.handshake("PLAIN", version=0)["error_code"],
                         ErrorCode.ILLEGAL_SASL_STATE)


class PlaintextListenerTests(SynchronousTestCase):
    """On a listener without SASL the SASL APIs answer ILLEGAL_SASL_STATE."""

    def test_handshake_illegal(self) -> None:
        """SaslHandshake on PLAINTEXT."""
        broker = make_sasl_broker(self)
        connection = KafkaServerFactory(broker).buildProtocol(IPv4Address("TCP", "1.2.3.4", 5))
        transport = StringTransport()
        connection.makeConnection(transport)
        connection.dataReceived(request_frame(SASL_HANDSHAKE, 1, 1, {"mechanism": "PLAIN"}))
        [(_, body)] = read_responses(transport.value())
        response = messages.response_decoder(SASL_HANDSHAKE, 1)(body, 0)
        self.assertEqual(response["error_code"], ErrorCode.ILLEGAL_SASL_STATE)
        connection.connectionLost()


class AclConnectionTests(SaslConnectionCase):
    """With the ACL authorizer, a logged-in connection is authorized in its vhost."""

    def make_broker(self) -> Broker:
        """Topics in / and in team; alice may describe every topic of team, none of /."""
        from twisted_kafka.security.acl import AclBinding, PatternType, Permission
        from twisted_kafka.security.acl_authorizer import AclAuthorizer
        from twisted_kafka.security.acl_store import AclStore
        from twisted_kafka.server.authorizer import AclOperation, ResourceType

        acls = AclStore.in_directory(self.mktemp(), durable=False)
        for vhost, host, permission in (("team", "10.0.0.7", Permission.ALLOW),
                                        ("/", "*", Permission.DENY)):
            acls.create(vhost, [AclBinding(ResourceType.TOPIC, "*", PatternType.LITERAL,
                                           "User:alice", host, AclOperation.DESCRIBE,
                                           permission)])
        broker = make_sasl_broker(self)
        broker.acls = acls
        broker.authorizer = AclAuthorizer(acls)
        broker.store.vhost("/").create_topic("root-topic", 1)
        broker.store.vhost("team").create_topic("team-topic", 1)
        return broker

    def topic_names(self) -> list[str]:
        """The topics Metadata lists."""
        [response] = self.metadata()
        return [t["name"] for t in response["topics"]]

    def test_vhost_topics_only(self) -> None:
        """In team alice sees team's topic; in / (DENY) nothing, not team's either."""
        self.login_plain("team:alice")
        self.assertEqual(self.topic_names(), ["team-topic"])

    def test_other_vhost(self) -> None:
        """Logged into /, the DENY leaves nothing; team's topics never show."""
        self.login_plain()
        self.assertEqual(self.topic_names(), [])


class CertificatePrincipalTests(SynchronousTestCase):
    """On a TLS connection the client certificate's subject is the principal."""

    def test_mapped_subject(self) -> None:
        """The subject through principal_mapping_rules, bound before the first request."""
        from cryptography import x509
        from OpenSSL import crypto

        from twisted_kafka.security.acl_authorizer import AclAuthorizer
        from twisted_kafka.security.acl_store import AclStore
        from twisted_kafka.security.principals import parse_rules
        from twisted_kafka.testing.tls import write_tls_files

        files = write_tls_files(self.mktemp())
        with open(files.client_cert, "rb") as f:
            certificate = crypto.X509.from_cryptography(x509.load_pem_x509_certificate(f.read()))
        subject = certificate.to_cryptography().subject.rfc4514_string()
        broker = make_sasl_broker(self)
        broker.authorizer = AclAuthorizer(AclStore.in_directory(self.mktemp(), durable=False),
                                          allow_everyone_if_no_acl_found=True)
        broker._principal_rules = parse_rules("RULE:^CN=([^,]*).*$/$1/L")

        class TlsTransport(StringTransport):
            def getPeerCertificate(self) -> Any:
                return certificate

        connection = KafkaServerFactory(broker).buildProtocol(None)
        connection.makeConnection(TlsTransport(peerAddress=IPv4Address("TCP", "1.2.3.4", 5)))
        connection.dataReceived(request_frame(METADATA, 12, 1, {"topics": None}))
        self.assertEqual(connection.security_protocol, "SSL")
        common_name = subject.split(",")[0].split("=", 1)[1].lower()
        self.assertEqual(connection._dispatcher.principal, f"User:{common_name}")
        connection.connectionLost()
