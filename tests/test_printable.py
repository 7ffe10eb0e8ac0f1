# -*- test-case-name: tests.test_printable -*-
"""Tests for L{twisted_kafka.printable}: client strings made safe for logs."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from twisted.logger import formatEvent

from twisted_kafka.printable import MAX_FIELD, MAX_LOGGED, EscapingObserver, printable


class PrintableTests(SynchronousTestCase):
    """L{printable} returns one bounded line of printable text."""

    def test_plain(self) -> None:
        """Printable text, including non-ASCII letters, is unchanged."""
        self.assertEqual(printable("my-topic é"), "my-topic é")

    def test_controls_escaped(self) -> None:
        """NUL, newline, escape and DEL become C{\\xNN}; a backslash is doubled."""
        self.assertEqual(printable("a\x00b\nc\x1b[31m\x7f\\"),
                         "a\\x00b\\x0ac\\x1b[31m\\x7f\\\\")

    def test_line_separators(self) -> None:
        """Unicode line and paragraph separators are escaped too."""
        self.assertEqual(printable("a\u2028b\u2029\x85"), "a\\u2028b\\u2029\\x85")

    def test_bytes(self) -> None:
        """Bytes decode as UTF-8; bytes that are not UTF-8 show as C{\\xNN}."""
        self.assertEqual(printable(b"ok\xc3\xa9\xff\x00"), "ok\u00e9\\xff\\x00")

    def test_bounded(self) -> None:
        """A long value is cut and says how long it was."""
        self.assertEqual(printable("x" * 100000), "x" * MAX_LOGGED + "... (100000 characters)")
        self.assertEqual(printable("abcdef", limit=3), "abc... (6 characters)")

    def test_not_a_string(self) -> None:
        """Anything else is logged as its C{str}."""
        self.assertEqual(printable(None), "None")


class EscapingObserverTests(SynchronousTestCase):
    """L{EscapingObserver} escapes the text fields of every event it passes on."""

    def setUp(self) -> None:
        """An escaping observer in front of a list."""
        self.events: list[dict] = []
        self.observer = EscapingObserver(self.events.append)

    def test_fields_escaped(self) -> None:
        """String and bytes fields become printable; the C{log_*} fields do not change."""
        self.observer({"log_format": "group {group}\n", "group": "a\x00b", "peer": b"\xff",
                       "count": 3})
        [event] = self.events
        self.assertEqual(event, {"log_format": "group {group}\n", "group": "a\\x00b",
                                 "peer": "\\xff", "count": 3})

    def test_long_field_bounded(self) -> None:
        """A field longer than C{MAX_FIELD} is cut."""
        self.observer({"log_format": "{name}", "name": "x" * 40000})
        [event] = self.events
        self.assertEqual(event["name"], "x" * MAX_FIELD + "... (40000 characters)")

    def test_plain_event_passed_as_is(self) -> None:
        """An event with nothing to escape is passed on unchanged, not copied."""
        event = {"log_format": "{name}", "name": "topic-1"}
        self.observer(event)
        self.assertIs(self.events[0], event)

    def test_formatted_line(self) -> None:
        """The formatted text of an escaped event is one line."""
        self.observer({"log_format": "closing: {reason}", "reason": "bad\nname\x00"})
        self.assertEqual(formatEvent(self.events[0]), "closing: bad\\x0aname\\x00")
