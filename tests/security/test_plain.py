# -*- test-case-name: tests.security.test_plain -*-
"""Tests for L{twisted_kafka.security.plain}."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.security.plain import PlainError, parse_plain


class ParsePlainTests(SynchronousTestCase):
    """The PLAIN message is split into username and password, or refused."""

    def test_parts(self) -> None:
        """With and without an authorization id equal to the username."""
        self.assertEqual(parse_plain(b"\x00alice\x00pw"), ("alice", "pw"))
        self.assertEqual(parse_plain(b"alice\x00alice\x00p\xc3\xa9"), ("alice", "p\xe9"))

    def test_refused(self) -> None:
        """Wrong part counts, empty fields, another authzid and non-UTF-8 are refused."""
        for message in (b"alice\x00pw", b"\x00\x00pw", b"\x00alice\x00", b"bob\x00alice\x00pw",
                        b"\x00al\xffice\x00pw", b"\x00a\x00b\x00c"):
            self.assertRaises(PlainError, parse_plain, message)
