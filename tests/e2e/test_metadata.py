# -*- test-case-name: tests.e2e.test_metadata -*-
"""Every real client bootstraps and lists topics: TCP, TLS, unix socket, client certs."""

from __future__ import annotations

import asyncio
import socket
import ssl
import struct
import subprocess
from typing import Any

from twisted.trial.unittest import SkipTest, SynchronousTestCase

from tests.e2e.harness import KCAT, KCAT_MISSING, BrokerProcess
from tests.e2e.shared import shared_broker


def create_topics(bootstrap: str, names: list[str], **tls: Any) -> None:
    """Create topics by asking for their metadata with confluent-kafka (auto-create)."""
    import confluent_kafka

    producer = confluent_kafka.Producer({"bootstrap.servers": bootstrap, **tls})
    for name in names:
        producer.produce(name, b"x")
    assert producer.flush(20) == 0


def aiokafka_topics(bootstrap: str, **config: Any) -> set[str]:
    """Return the topics an aiokafka consumer sees after bootstrapping."""
    import aiokafka

    async def topics() -> set[str]:
        consumer = aiokafka.AIOKafkaConsumer(bootstrap_servers=bootstrap, **config)
        await consumer.start()
        try:
            return await consumer.topics()
        finally:
            await consumer.stop()

    return asyncio.run(topics())


class _SharedBroker:
    """One broker (TCP, TLS, unix) with two topics, shared by these tests."""

    broker: BrokerProcess

    def setUp(self) -> None:
        """Use the shared broker, creating the topics on first start."""
        fresh = "metadata" not in _started
        self.broker = shared_broker("metadata", tls=True, unix=True)
        if fresh:
            create_topics(self.broker.bootstrap, ["orders", "payments"])
            _started.add("metadata")


_started: set[str] = set()


class PlainMetadataTests(_SharedBroker, SynchronousTestCase):
    """Bootstrap and topic listing with each client over plain TCP."""

    def test_kcat_list(self) -> None:
        """C{kcat -L} lists the broker and both topics."""
        if KCAT is None:
            raise SkipTest(KCAT_MISSING)
        out = subprocess.run([KCAT, "-b", self.broker.bootstrap, "-L"], capture_output=True,
                             text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn(f"broker 0 at 127.0.0.1:{self.broker.port}", out.stdout)
        self.assertIn('topic "orders" with 1 partitions', out.stdout)
        self.assertIn('topic "payments" with 1 partitions', out.stdout)

    def test_confluent_list_topics(self) -> None:
        """confluent-kafka's C{list_topics} sees the cluster and the topics."""
        import confluent_kafka.admin

        admin = confluent_kafka.admin.AdminClient({"bootstrap.servers": self.broker.bootstrap})
        metadata = admin.list_topics(timeout=20)
        self.assertEqual(set(metadata.topics), {"orders", "payments"})
        self.assertEqual(list(metadata.brokers), [0])
        self.assertEqual(metadata.brokers[0].port, self.broker.port)
        self.assertEqual(metadata.controller_id, 0)
        self.assertTrue(metadata.cluster_id)
        self.assertEqual(list(metadata.topics["orders"].partitions), [0])

    def test_kafka_python(self) -> None:
        """kafka-python bootstraps (ApiVersions v4) and lists the topics."""
        import kafka

        consumer = kafka.KafkaConsumer(bootstrap_servers=self.broker.bootstrap,
                                       request_timeout_ms=20000)
        try:
            self.assertTrue({"orders", "payments"} <= consumer.topics())
            self.assertEqual(consumer.partitions_for_topic("orders"), {0})
        finally:
            consumer.close()

    def test_aiokafka(self) -> None:
        """aiokafka bootstraps (ApiVersions v0) and lists the topics."""
        self.assertTrue({"orders", "payments"} <= aiokafka_topics(self.broker.bootstrap))

    def test_unix_socket_api_versions(self) -> None:
        """A raw ApiVersions v0 exchange over the unix socket lists our APIs."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(10)
            s.connect(self.broker.unix_path)
            body = struct.pack(">hhih", 18, 0, 99, 4) + b"unix"
            s.sendall(struct.pack(">i", len(body)) + body)
            size = struct.unpack(">i", _recv_exactly(s, 4))[0]
            frame = _recv_exactly(s, size)
        correlation, error, count = struct.unpack_from(">ihi", frame)
        self.assertEqual((correlation, error), (99, 0))
        keys = {struct.unpack_from(">hhh", frame, 10 + 6 * i)[0] for i in range(count)}
        self.assertTrue({0, 1, 2, 3, 18} <= keys)


def _recv_exactly(s: socket.socket, n: int) -> bytes:
    """Read exactly C{n} bytes from C{s}."""
    chunks = []
    while n:
        chunk = s.recv(n)
        if not chunk:
            raise ConnectionError("closed")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


class TlsMetadataTests(_SharedBroker, SynchronousTestCase):
    """Bootstrap and topic listing with each client over TLS."""

    def test_kcat_tls(self) -> None:
        """C{kcat -L} over TLS verifies our certificate and lists the topics."""
        if KCAT is None:
            raise SkipTest(KCAT_MISSING)
        tls = self.broker.tls_files
        out = subprocess.run([KCAT, "-b", self.broker.tls_bootstrap, "-L",
                              "-X", "security.protocol=SSL",
                              "-X", f"ssl.ca.location={tls.ca_cert}"],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn(f"broker 0 at 127.0.0.1:{self.broker.tls_port}", out.stdout)
        self.assertIn('topic "orders"', out.stdout)

    def test_confluent_tls(self) -> None:
        """confluent-kafka over TLS is told the TLS port and lists the topics."""
        import confluent_kafka.admin

        admin = confluent_kafka.admin.AdminClient({
            "bootstrap.servers": self.broker.tls_bootstrap,
            "security.protocol": "SSL",
            "ssl.ca.location": self.broker.tls_files.ca_cert,
        })
        metadata = admin.list_topics(timeout=20)
        self.assertEqual(metadata.brokers[0].port, self.broker.tls_port)
        self.assertTrue({"orders", "payments"} <= set(metadata.topics))

    def test_kafka_python_tls(self) -> None:
        """kafka-python over TLS lists the topics."""
        import kafka

        consumer = kafka.KafkaConsumer(bootstrap_servers=self.broker.tls_bootstrap,
                                       security_protocol="SSL",
                                       ssl_cafile=self.broker.tls_files.ca_cert,
                                       request_timeout_ms=20000)
        try:
            self.assertTrue({"orders", "payments"} <= consumer.topics())
        finally:
            consumer.close()

    def test_aiokafka_tls(self) -> None:
        """aiokafka over TLS lists the topics."""
        from aiokafka.helpers import create_ssl_context

        topics = aiokafka_topics(
            self.broker.tls_bootstrap, security_protocol="SSL",
            ssl_context=create_ssl_context(cafile=self.broker.tls_files.ca_cert))
        self.assertTrue({"orders", "payments"} <= topics)


class ClientCertificateTests(SynchronousTestCase):
    """With client_auth = required, only clients with a certificate from our CA get in."""

    def setUp(self) -> None:
        """Use the shared broker that requires client certificates."""
        self.broker = shared_broker("mtls", tls=True, client_auth="required")

    def handshake(self, cert: str | None, key: str | None) -> bytes:
        """Do a TLS handshake plus an ApiVersions exchange; return the response frame."""
        context = ssl.create_default_context(cafile=self.broker.tls_files.ca_cert)
        if cert:
            context.load_cert_chain(cert, key)
        with socket.create_connection(("127.0.0.1", self.broker.tls_port), timeout=10) as raw:
            with context.wrap_socket(raw, server_hostname="localhost") as s:
                body = struct.pack(">hhih", 18, 0, 7, 1) + b"t"
                s.sendall(struct.pack(">i", len(body)) + body)
                size = struct.unpack(">i", _recv_exactly(s, 4))[0]
                return _recv_exactly(s, size)

    def test_with_certificate(self) -> None:
        """A client certificate signed by the CA is accepted."""
        tls = self.broker.tls_files
        frame = self.handshake(tls.client_cert, tls.client_key)
        self.assertEqual(struct.unpack_from(">ih", frame), (7, 0))

    def test_without_certificate(self) -> None:
        """A client without a certificate is refused."""
        self.assertRaises((ssl.SSLError, ConnectionError, OSError), self.handshake, None, None)

    def test_untrusted_certificate(self) -> None:
        """A client certificate from another CA is refused."""
        tls = self.broker.tls_files
        self.assertRaises((ssl.SSLError, ConnectionError, OSError), self.handshake,
                          tls.untrusted_client_cert, tls.untrusted_client_key)

    def test_confluent_with_certificate(self) -> None:
        """confluent-kafka with its client certificate lists the cluster."""
        import confluent_kafka.admin

        tls = self.broker.tls_files
        admin = confluent_kafka.admin.AdminClient({
            "bootstrap.servers": self.broker.tls_bootstrap, "security.protocol": "SSL",
            "ssl.ca.location": tls.ca_cert, "ssl.certificate.location": tls.client_cert,
            "ssl.key.location": tls.client_key})
        self.assertEqual(list(admin.list_topics(timeout=20).brokers), [0])
