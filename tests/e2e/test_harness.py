# -*- test-case-name: tests.e2e.test_harness -*-
"""Tests for L{tests.e2e.harness}: the real broker process starts, stops, restarts.

These also check start-up behaviour only a real twistd shows: the default
listener's log line, a clean exit on SIGTERM, and one-line failures (a busy
port, a bad configuration value) with a non-zero exit status.
"""

from __future__ import annotations

import os
import signal
import socket

from twisted.trial.unittest import SynchronousTestCase

from tests.e2e.harness import BrokerProcess, BrokerTestMixin


class HarnessTests(BrokerTestMixin, SynchronousTestCase):
    """A broker per test: it accepts connections and stops cleanly."""

    def test_connect_and_stop(self) -> None:
        """The TCP port accepts a socket; SIGTERM stops the broker cleanly.

        twistd ends a clean shutdown on a signal by re-raising that signal, so
        the status is -SIGTERM; the log shows the orderly shutdown.
        """
        with socket.create_connection(("127.0.0.1", self.broker.port), timeout=5):
            pass
        self.assertEqual(self.broker.stop(), -signal.SIGTERM)
        log = self.broker.log_text()
        self.assertIn(f"Kafka listener tcp:{self.broker.port}:interface=127.0.0.1 listening on "
                      f"127.0.0.1:{self.broker.port}", log)
        self.assertIn("Server Shut Down.", log)
        self.assertNotIn("Traceback", log)

    def test_restart_keeps_data_dir(self) -> None:
        """A restart runs on the same data directory and port."""
        marker = os.path.join(self.broker.data_dir, "marker")
        self.assertTrue(os.path.isdir(self.broker.data_dir))
        with open(marker, "w") as f:
            f.write("kept")
        port = self.broker.port
        self.broker.restart()
        self.assertEqual(self.broker.port, port)
        with open(marker) as f:
            self.assertEqual(f.read(), "kept")
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass


class OpenFilesTests(BrokerTestMixin, SynchronousTestCase):
    """C{open_files} runs the broker under that open-file limit."""

    broker_options = {"open_files": 300, "kafka": {"max_connections": 20},
                      "store": {"max_open_sealed_files": 16}}

    def test_limit_applied(self) -> None:
        """The broker process's soft and hard RLIMIT_NOFILE are the given value."""
        assert self.broker.process is not None
        with open(f"/proc/{self.broker.process.pid}/limits") as f:
            [line] = [line for line in f if line.startswith("Max open files")]
        self.assertEqual(line.split()[3:5], ["300", "300"])


class ListenerKindsTests(BrokerTestMixin, SynchronousTestCase):
    """TLS and unix listeners come up next to TCP, each logged."""

    broker_options = {"tls": True, "unix": True}

    def test_all_listening(self) -> None:
        """The TLS port and the unix socket accept connections too."""
        assert self.broker.tls_port is not None and self.broker.unix_path is not None
        with socket.create_connection(("127.0.0.1", self.broker.tls_port), timeout=5):
            pass
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(self.broker.unix_path)
        log = self.broker.log_text()
        self.assertIn(f"Kafka listener ssl:{self.broker.tls_port}:interface=127.0.0.1 "
                      "listening on", log)
        self.assertIn(f"Kafka listener unix:{self.broker.unix_path}:lockfile=1 listening on",
                      log)


class FailedStartTests(SynchronousTestCase):
    """A broker that cannot start exits non-zero with one line saying why."""

    def test_port_in_use(self) -> None:
        """A busy port: status 1 and one line naming the listener, no traceback."""
        broker = BrokerProcess(self.mktemp())
        self.addCleanup(broker.close)
        with socket.socket() as busy:
            busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            busy.bind(("127.0.0.1", broker.port))
            busy.listen()
            broker.launch()
            self.assertEqual(broker.wait(), 1)
        log = broker.log_text()
        self.assertIn(f"listener tcp:{broker.port}:interface=127.0.0.1: Address already in use",
                      log)
        self.assertNotIn("Traceback", log)

    def test_bad_value(self) -> None:
        """A bad configuration value: status 1 and exactly its one line."""
        broker = BrokerProcess(self.mktemp(), kafka={"port": "abc"})
        self.addCleanup(broker.close)
        broker.launch()
        self.assertEqual(broker.wait(), 1)
        printed = broker.log_text().splitlines()[1:]  # after the harness's "===" line
        self.assertEqual(printed, [f"{broker.config_path}: [kafka] port = abc: not an integer"])


class LogLevelTests(SynchronousTestCase):
    """C{[main] log_level} filters the real broker's log while it runs."""

    def test_error_level(self) -> None:
        """At C{error}, info messages logged while running (the SIGTERM notice) are
        dropped; the listener lines, logged before the services start, remain."""
        broker = BrokerProcess(self.mktemp(), main={"log_level": "error"})
        self.addCleanup(broker.close)
        broker.start()
        broker.stop()
        log = broker.log_text()
        self.assertIn("Kafka listener tcp:", log)
        self.assertNotIn("Received SIGTERM", log)
        self.assertIn("Server Shut Down.", log)
