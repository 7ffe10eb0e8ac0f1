# -*- test-case-name: tests.testing.test_process -*-
"""Tests for L{twisted_kafka.testing.process} and its fork server: brokers in processes.

Each test starts real brokers (forked by the fork server) and talks to them
with real clients; the cleanup tests run a small "user" test process and
kill it or interrupt it.
"""

from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import sys
import textwrap
import time

from confluent_kafka import Consumer, Producer, TopicPartition
from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.testing import helpers
from twisted_kafka.testing.process import KafkaBroker
from twisted_kafka.testing.settings import BrokerStartError

#: A "user" test process: starts a broker, prints where it lives, waits.
_USER_PROCESS = textwrap.dedent("""
    import json, sys, time
    from twisted_kafka.testing.process import KafkaBroker, _server
    broker = KafkaBroker().start()
    print(json.dumps({"pid": broker.pid, "directory": broker.directory,
                      "server": _server.process.pid}), flush=True)
    time.sleep(60)
""")


def running(pid: int) -> bool:
    """Whether process C{pid} exists (and is not a zombie)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


def _wait_until(condition: object, timeout: float = 15.0) -> bool:
    """Poll C{condition()} until it is true or C{timeout} passes; return its last value."""
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


class KafkaBrokerTests(SynchronousTestCase):
    """L{KafkaBroker}: start, serve real clients, restart, stop, clean up."""

    def test_confluent_round_trip(self) -> None:
        """confluent-kafka produces and consumes; the with block stops it and removes its files."""
        with KafkaBroker() as broker:
            pid, directory = broker.pid, broker.directory
            assert pid is not None
            self.assertTrue(running(pid))
            producer = Producer({"bootstrap.servers": broker.bootstrap})
            producer.produce("events", key=b"k", value=b"v")
            self.assertEqual(producer.flush(10), 0)
            consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "g"})
            consumer.assign([TopicPartition("events", 0, 0)])
            message = consumer.poll(10)
            consumer.close()
            assert message is not None
            self.assertEqual((message.key(), message.value()), (b"k", b"v"))
        self.assertFalse(running(pid))
        self.assertFalse(os.path.exists(directory))
        self.assertIsNone(broker.pid)

    def test_restart_and_kill(self) -> None:
        """Restart and kill-then-start keep the port and every acknowledged record."""
        with KafkaBroker(partitions=1) as broker:
            helpers.create_topic(broker.bootstrap, "durable")
            helpers.produce(broker.bootstrap, "durable", [b"1"])
            port = broker.port
            self.assertEqual(broker.restart().port, port)
            helpers.produce(broker.bootstrap, "durable", [b"2"])
            broker.kill()
            self.assertIsNone(broker.pid)
            broker.start()
            self.assertEqual(broker.port, port)
            self.assertEqual([r.value for r in helpers.read_topic(broker.bootstrap, "durable")],
                             [b"1", b"2"])
            self.assertEqual(broker.stop(), 0)
            self.assertIn("listening on", broker.log_text())

    def test_tls(self) -> None:
        """A TLS broker serves confluent-kafka over TLS with the generated CA."""
        with KafkaBroker(tls=True) as broker:
            assert broker.tls_files is not None
            producer = Producer({"bootstrap.servers": broker.tls_bootstrap,
                                 "security.protocol": "SSL",
                                 "ssl.ca.location": broker.tls_files.ca_cert})
            producer.produce("sealed", b"x")
            self.assertEqual(producer.flush(10), 0)
            # librdkafka leaves the broker's TLS close_notify unanswered, so
            # an open producer would hold the broker's clean stop for its
            # whole drain timeout: close it first.
            del producer
            self.assertEqual([r.value for r in helpers.read_topic(broker.bootstrap, "sealed")],
                             [b"x"])

    def test_client_auth(self) -> None:
        """client_auth=required: a client certificate from the generated CA is let in, others not."""
        with KafkaBroker(tls=True, client_auth="required") as broker:
            files = broker.tls_files
            assert files is not None and broker.tls_port is not None

            def api_versions(cert: str, key: str) -> bytes:
                context = ssl.create_default_context(cafile=files.ca_cert)
                context.load_cert_chain(cert, key)
                with socket.create_connection(("127.0.0.1", broker.tls_port), timeout=10) as raw:
                    with context.wrap_socket(raw, server_hostname="localhost") as tls:
                        tls.sendall(b"\0\0\0\x0e\0\x12\0\0\0\0\0\x01\0\x04test")
                        return tls.recv(4)

            self.assertEqual(len(api_versions(files.client_cert, files.client_key)), 4)
            with self.assertRaises((ssl.SSLError, ConnectionError)):
                api_versions(files.untrusted_client_cert, files.untrusted_client_key)

    def test_start_error_quotes_log(self) -> None:
        """A broker that cannot start fails at once with its log's tail, and leaves no files."""
        broker = KafkaBroker(store={"segment_bytes": "big"})
        started = time.monotonic()
        with self.assertRaises(BrokerStartError) as caught:
            broker.__enter__()
        self.assertLess(time.monotonic() - started, 10)
        message = str(caught.exception)
        self.assertIn("exited with status 1 before listening", message)
        self.assertIn("last lines of", message)
        self.assertIn("[store] segment_bytes", message)
        self.assertFalse(os.path.exists(broker.directory))

    def test_not_started(self) -> None:
        """Addresses are errors before start; stopping a broker never started does nothing."""
        broker = KafkaBroker()
        self.addCleanup(broker.close)
        self.assertRaises(RuntimeError, lambda: broker.bootstrap)
        self.assertRaises(RuntimeError, lambda: broker.tls_bootstrap)
        self.assertIsNone(broker.stop())


class CleanupTests(SynchronousTestCase):
    """A test process that dies or is interrupted leaves no broker and no files."""

    def _user_process(self) -> tuple[subprocess.Popen[str], dict[str, int | str]]:
        """Start the user process; return it and what it printed."""
        import json

        process = subprocess.Popen([sys.executable, "-c", _USER_PROCESS],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: process.poll() is None and process.kill())
        self.addCleanup(process.communicate)
        assert process.stdout is not None
        line = process.stdout.readline()
        self.assertTrue(line, "the user process printed nothing")
        return process, json.loads(line)

    def _assert_gone(self, started: dict[str, int | str]) -> None:
        """The broker, its fork server and its directory are gone."""
        self.assertTrue(_wait_until(lambda: not running(int(started["pid"]))))
        self.assertTrue(_wait_until(lambda: not running(int(started["server"]))))
        self.assertTrue(_wait_until(lambda: not os.path.exists(str(started["directory"]))))

    def test_killed(self) -> None:
        """SIGKILL on the test process: its fork server stops the broker and removes its files."""
        process, started = self._user_process()
        self.assertTrue(running(int(started["pid"])))
        process.kill()
        process.wait()
        self._assert_gone(started)

    def test_interrupted(self) -> None:
        """Ctrl-C (SIGINT) on the test process: the broker is closed at exit."""
        process, started = self._user_process()
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=20)
        self.assertIn("KeyboardInterrupt", stderr)
        # Closed by the exiting process itself, not later by the fork server.
        self.assertFalse(os.path.exists(str(started["directory"])))
        self._assert_gone(started)
