# -*- test-case-name: tests.server.test_addresses -*-
"""Tests for L{twisted_kafka.server.addresses}."""

from __future__ import annotations

from twisted.internet.address import IPv4Address, IPv6Address, UNIXAddress
from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.server.addresses import describe_address


class DescribeAddressTests(SynchronousTestCase):
    """Each kind of transport address prints in one short form."""

    def test_tcp(self) -> None:
        """A TCP address prints as host:port."""
        self.assertEqual(describe_address(IPv4Address("TCP", "10.0.0.1", 9092)), "10.0.0.1:9092")
        self.assertEqual(describe_address(IPv6Address("TCP", "::1", 9093)), "::1:9093")

    def test_unix(self) -> None:
        """A unix-socket address prints as unix:path, whether its name is bytes or str."""
        self.assertEqual(describe_address(UNIXAddress(b"/run/kafka.sock")), "unix:/run/kafka.sock")
        self.assertEqual(describe_address(UNIXAddress("/run/k.sock")), "unix:/run/k.sock")

    def test_other(self) -> None:
        """Anything else prints with str()."""
        self.assertEqual(describe_address(None), "None")
