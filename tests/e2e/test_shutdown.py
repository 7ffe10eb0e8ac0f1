# -*- test-case-name: tests.e2e.test_shutdown -*-
"""SIGTERM while producers are busy: in-flight requests answered, nothing lost or doubled."""

from __future__ import annotations

import signal
import threading
import time

from twisted.trial.unittest import SynchronousTestCase

from tests.e2e.harness import BrokerTestMixin


class SigtermTests(BrokerTestMixin, SynchronousTestCase):
    """A clean stop answers what is in flight before closing connections."""

    def test_sigterm_mid_stream(self) -> None:
        """A non-idempotent acks=all producer across a SIGTERM and restart stores each record once.

        Without idempotence, a request that was stored but never answered
        would be retried and stored twice, and one answered before its data
        reached the disk could be lost; every acknowledged record must be
        there exactly once after the restart, and the stop must be clean.
        (The draining itself is pinned down by tests.server.test_draining.)
        """
        import confluent_kafka

        producer = confluent_kafka.Producer({
            "bootstrap.servers": self.broker.bootstrap, "acks": "all", "linger.ms": 2,
            "enable.idempotence": False, "retries": 1_000_000, "message.timeout.ms": 60_000})
        acked: list[bytes] = []
        failed: list[str] = []

        def delivered(error: object, message: object) -> None:
            if error is None:
                acked.append(message.value())  # type: ignore[attr-defined]
            else:
                failed.append(str(error))

        stopper = threading.Timer(0.5, self.broker.process.send_signal, (signal.SIGTERM,))
        stopper.start()
        sent = 0
        started = time.monotonic()
        while time.monotonic() - started < 1.0 and sent < 60_000:
            try:
                producer.produce("shutdown", b"%d" % sent, on_delivery=delivered)
                sent += 1
            except BufferError:
                producer.poll(0.01)
        stopper.join()
        self.assertEqual(self.broker.wait(20), -signal.SIGTERM)
        self.broker.start()
        self.assertNotIn("recovering logs", self.broker.log_text(), "the stop was not clean")
        self.assertEqual(producer.flush(60), 0)
        self.assertEqual((len(acked), failed), (sent, []))

        consumer = confluent_kafka.Consumer({"bootstrap.servers": self.broker.bootstrap,
                                             "group.id": "check", "enable.auto.commit": False})
        consumer.assign([confluent_kafka.TopicPartition("shutdown", 0, 0)])
        stored: list[bytes] = []
        deadline = time.monotonic() + 30
        while len(stored) < sent and time.monotonic() < deadline:
            stored += [m.value() for m in consumer.consume(10_000, 1) if not m.error()]
        consumer.close()
        self.assertEqual(sorted(stored, key=int), sorted(acked, key=int))


class TlsSigtermTests(BrokerTestMixin, SynchronousTestCase):
    """A clean stop closes idle TLS connections at once instead of aborting them."""

    broker_options = {"tls": True}

    def test_idle_tls_clients(self) -> None:
        """Connected, idle librdkafka and kafka-python TLS producers do not hold the stop.

        The broker must send its close_notify and close; before, each TLS
        connection stayed open until the drain timeout and was aborted
        ("still busy at shutdown").
        """
        import confluent_kafka
        import kafka

        tls = self.broker.tls_files
        assert tls is not None
        bootstrap = self.broker.tls_bootstrap
        librdkafka = confluent_kafka.Producer({
            "bootstrap.servers": bootstrap, "security.protocol": "SSL",
            "ssl.ca.location": tls.ca_cert})
        librdkafka.produce("idle", b"librdkafka")
        self.assertEqual(librdkafka.flush(10), 0)
        python = kafka.KafkaProducer(bootstrap_servers=bootstrap, security_protocol="SSL",
                                     ssl_cafile=tls.ca_cert)
        self.addCleanup(python.close, 0)
        python.send("idle", b"kafka-python").get(10)
        self.broker.process.send_signal(signal.SIGTERM)
        self.assertEqual(self.broker.wait(20), -signal.SIGTERM)
        log = self.broker.log_text()
        self.assertIn("Main loop terminated", log)
        self.assertNotIn("still busy at shutdown", log)
