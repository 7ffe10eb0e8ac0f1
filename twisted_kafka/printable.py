# -*- test-case-name: tests.test_printable -*-
"""Client-supplied strings made safe for a log line.

A client id, topic name, group id or a decode error quoting one can hold
NUL bytes, newlines, terminal escapes or megabytes of text.  L{printable}
turns any of them into one bounded line of printable text, so a log line
stays one line and says what the client sent.
"""

from __future__ import annotations

from twisted.logger import ILogObserver, LogEvent
from zope.interface import implementer

#: The most characters of a client string a log line quotes.
MAX_LOGGED = 256

# Every non-printable ASCII character (C0 controls, DEL) and the C1 controls
# and line/paragraph separators, written as a Python-style escape.
_ESCAPES = {c: f"\\x{c:02x}" for c in list(range(0x20)) + list(range(0x7F, 0xA0))}
_ESCAPES[ord("\\")] = "\\\\"
_ESCAPES[0x2028] = "\\u2028"
_ESCAPES[0x2029] = "\\u2029"
# Bytes that are not UTF-8 (decoded with surrogateescape) show as the byte.
_ESCAPES.update({0xDC00 + b: f"\\x{b:02x}" for b in range(0x80, 0x100)})


def printable(value: object, limit: int = MAX_LOGGED) -> str:
    """Return C{value} as one line of printable text of at most about C{limit} characters.

    Control characters become C{\\xNN} escapes (a backslash is doubled, so
    the escaping is unambiguous); bytes are decoded as UTF-8 with invalid
    sequences escaped the same way; a longer value is cut and says how long
    it was.
    """
    if isinstance(value, (bytes, bytearray, memoryview)):
        text = bytes(value).decode("utf-8", "surrogateescape")
    else:
        text = str(value)
    cut = text[:limit]
    escaped = cut.translate(_ESCAPES) if not cut.isprintable() or "\\" in cut else cut
    if len(text) > limit:
        escaped += f"... ({len(text)} characters)"
    return escaped


#: The most characters of one field of a log event.
MAX_FIELD = 1024


@implementer(ILogObserver)
class EscapingObserver:
    """A log observer that makes every text field of an event printable first.

    Log lines quote topic names, group and member ids, client ids and decode
    errors: all client strings.  Escaping them here, once, keeps every log
    line one printable line whatever call site logged it.  Fields named
    C{log_*} (the format, level, failure, ...) are the logging system's own
    and pass unchanged.

    @ivar observer: the observer that receives the escaped events.
    """

    def __init__(self, observer: ILogObserver) -> None:
        self.observer = observer

    def __call__(self, event: LogEvent) -> None:
        """Pass C{event} on with its text fields escaped and bounded."""
        unsafe = [key for key, value in event.items()
                  if not key.startswith("log_") and isinstance(value, (str, bytes))
                  and (len(value) > MAX_FIELD or not _is_plain(value))]
        if unsafe:
            event = dict(event)
            for key in unsafe:
                event[key] = printable(event[key], MAX_FIELD)
        self.observer(event)


def _is_plain(value: str | bytes) -> bool:
    """Whether C{value} is printable text with no backslash (needs no escape)."""
    if isinstance(value, bytes):
        return False
    return value.isprintable() and "\\" not in value
