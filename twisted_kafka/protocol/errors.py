# -*- test-case-name: tests.protocol.test_primitives -*-
"""Exceptions raised by the wire codec.

Every failure to decode bytes from the network is a L{DecodeError}
(a C{ValueError}), whatever primitive or message it happened in, so that the
connection layer needs one C{except} to close a connection that sent a
malformed frame.  Encoding a value that does not fit its wire type raises
L{EncodeError}; asking for an API, version or data message the codec does
not know raises L{UnknownMessage}.
"""

from __future__ import annotations


class DecodeError(ValueError):
    """The bytes are not a valid encoding of what was expected."""


class EncodeError(ValueError):
    """A value cannot be encoded as its wire type (wrong type, out of range)."""


class UnknownMessage(LookupError):
    """No schema is known for this API key, version or data message name."""
