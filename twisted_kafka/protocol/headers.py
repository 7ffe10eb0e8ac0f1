# -*- test-case-name: tests.protocol.test_headers -*-
"""Request and response headers, and which header version each API version uses.

Request header v1: C{api_key int16, api_version int16, correlation_id int32,
client_id nullable string} (int16 length, -1 for null).  v2 (flexible
request versions) is the same followed by a tagged-field section; the
client_id stays a *non-compact* string even there.

Response header v0 is the correlation id alone; v1 (flexible response
versions) adds an empty tagged-field section.  ApiVersions responses always
use v0, whatever their version, because a client must be able to read one
before it knows which versions the broker speaks.
"""

from __future__ import annotations

import struct
from typing import NamedTuple, Optional

from twisted_kafka.protocol import messages
from twisted_kafka.protocol.errors import DecodeError
from twisted_kafka.protocol.primitives import INT32, read_tagged_fields
from twisted_kafka.protocol.schema import Message

API_VERSIONS_KEY = 18

#: api_key, api_version, correlation_id and the client_id length.
_FIXED_PART = struct.Struct(">hhih")
_ID_PART = struct.Struct(">hhi")
#: correlation_id and an empty tagged-field section.
_HEADER_V1 = struct.Struct(">ix")


class RequestHeader(NamedTuple):
    """The decoded header of a request."""

    api_key: int
    api_version: int
    correlation_id: int
    client_id: Optional[str]



def _flexible_versions(schemas: dict[int, Message]) -> frozenset[tuple[int, int]]:
    """Every (api_key, version) of C{schemas} that is flexible."""
    return frozenset(
        (key, version)
        for key, message in schemas.items()
        for version in range(message.versions.low, message.versions.high + 1)
        if message.is_flexible(version)
    )


#: (api_key, version) pairs whose requests use header v2.
_FLEXIBLE_REQUESTS = _flexible_versions(messages.SCHEMAS)
#: (api_key, version) pairs whose responses use header v1 (never ApiVersions).
_FLEXIBLE_RESPONSES = frozenset(
    pair for pair in _flexible_versions(messages.RESPONSE_SCHEMAS) if pair[0] != API_VERSIONS_KEY
)


def request_header_version(api_key: int, api_version: int) -> int:
    """2 for flexible request versions, else 1 (also for unknown API keys)."""
    return 2 if (api_key, api_version) in _FLEXIBLE_REQUESTS else 1


def response_header_version(api_key: int, api_version: int) -> int:
    """1 for flexible response versions, else 0; always 0 for ApiVersions."""
    return 1 if (api_key, api_version) in _FLEXIBLE_RESPONSES else 0


def decode_request_header(buf: bytes) -> tuple[RequestHeader, int]:
    """Decode the header at the start of a request frame.

    Returns the header and the offset where the body starts.  Raises
    L{DecodeError} if the header is truncated or malformed.
    """
    if len(buf) < 10:
        raise DecodeError(f"request header truncated: {len(buf)} bytes")
    api_key, api_version, correlation_id, n = _FIXED_PART.unpack_from(buf, 0)
    pos = 10
    client_id: Optional[str]
    if n < 0:
        if n != -1:
            raise DecodeError(f"request header: invalid client_id length {n}")
        client_id = None
    else:
        end = pos + n
        if end > len(buf):
            raise DecodeError(f"request header: client_id of length {n} overruns the frame")
        try:
            client_id = str(buf[pos:end], "utf-8")
        except UnicodeDecodeError as e:
            raise DecodeError(f"request header: client_id is not UTF-8: {e}") from None
        pos = end
    if (api_key, api_version) in _FLEXIBLE_REQUESTS:
        if pos < len(buf) and buf[pos] == 0:
            pos += 1
        else:
            _, pos = read_tagged_fields(buf, pos)
    return RequestHeader(api_key, api_version, correlation_id, client_id), pos


def response_header(correlation_id: int, api_key: int, api_version: int) -> bytes:
    """The encoded response header (v0 or v1 as the API version requires)."""
    if (api_key, api_version) in _FLEXIBLE_RESPONSES:
        return _HEADER_V1.pack(correlation_id)
    return INT32.pack(correlation_id)


def encode_request_header(header: RequestHeader) -> bytes:
    """Encode a request header, v1 or v2 as its API version requires (tests, clients)."""
    if header.client_id is None:
        client = b"\xff\xff"
    else:
        raw = header.client_id.encode("utf-8")
        client = len(raw).to_bytes(2, "big") + raw
    head = _ID_PART.pack(header.api_key, header.api_version, header.correlation_id)
    tags = b"\0" if request_header_version(header.api_key, header.api_version) == 2 else b""
    return head + client + tags
