# -*- test-case-name: tests.testing.test_client -*-
"""Tests for L{twisted_kafka.testing.client}, the helpers' blocking client."""

from __future__ import annotations

import socket

from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.testing.client import (
    METADATA, BlockingClient, KafkaRequestError, check, parse_bootstrap)
from twisted_kafka.testing.process import KafkaBroker


class ParseBootstrapTests(SynchronousTestCase):
    """L{parse_bootstrap} reads the addresses clients are configured with."""

    def test_forms(self) -> None:
        """Lists, spaces, a PLAINTEXT:// scheme and bracketed IPv6 hosts are read."""
        self.assertEqual(
            parse_bootstrap("a:1, PLAINTEXT://b:2,[::1]:3,"),
            [("a", 1), ("b", 2), ("::1", 3)])

    def test_bad(self) -> None:
        """A missing port, or no address at all, is a ValueError naming it."""
        with self.assertRaises(ValueError) as caught:
            parse_bootstrap("localhost")
        self.assertIn("'localhost'", str(caught.exception))
        self.assertRaises(ValueError, parse_bootstrap, " , ")


class ErrorTests(SynchronousTestCase):
    """L{KafkaRequestError} names the error code."""

    def test_named(self) -> None:
        """A known code is named; an unknown one is given as a number; 0 is no error."""
        self.assertEqual(str(KafkaRequestError(3, "Fetch t-0")),
                         "Fetch t-0: UNKNOWN_TOPIC_OR_PARTITION")
        self.assertEqual(str(KafkaRequestError(9999, "x")), "x: error 9999")
        check(0, "fine")
        self.assertRaises(KafkaRequestError, check, 3, "x")


class BlockingClientTests(SynchronousTestCase):
    """L{BlockingClient} against a real broker, and against nothing."""

    def test_metadata_and_coordinator(self) -> None:
        """Metadata learns the brokers; the coordinator is one of them."""
        with KafkaBroker() as broker, BlockingClient(broker.bootstrap) as client:
            response = client.metadata(None)
            [node] = response["brokers"]
            self.assertEqual((node["host"], node["port"]), ("127.0.0.1", broker.port))
            self.assertEqual(client.coordinator("g"), node["node_id"])

    def test_nothing_listening(self) -> None:
        """A bootstrap address nobody listens on is a ConnectionError naming it."""
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        with BlockingClient(f"127.0.0.1:{port}", timeout=1) as client:
            with self.assertRaises(ConnectionError) as caught:
                client.request(METADATA, {"topics": [], "allow_auto_topic_creation": False})
        self.assertIn(f"('127.0.0.1', {port})", str(caught.exception))
