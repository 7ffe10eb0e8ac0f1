# -*- test-case-name: tests.protocol.test_headers -*-
"""Request header decoding, response header encoding and header versions."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.protocol import headers
from twisted_kafka.protocol.errors import DecodeError
from twisted_kafka.protocol.headers import RequestHeader


class RequestHeaderTests(SynchronousTestCase):
    """decode_request_header reads v1 and v2 headers."""

    def test_v1(self) -> None:
        """A non-flexible request has a v1 header: no tagged fields."""
        frame = b"\x00\x03\x00\x04\x00\x00\x00\x07\x00\x02idBODY"
        self.assertEqual(
            headers.decode_request_header(frame), (RequestHeader(3, 4, 7, "id"), 12)
        )

    def test_v2(self) -> None:
        """A flexible request has a v2 header: the client id stays int16-prefixed."""
        frame = b"\x00\x03\x00\x0c\x00\x00\x00\x07\x00\x02id\x00BODY"
        self.assertEqual(
            headers.decode_request_header(frame), (RequestHeader(3, 12, 7, "id"), 13)
        )

    def test_v2_tagged_fields_skipped(self) -> None:
        """Tagged fields in a v2 header are skipped."""
        frame = b"\x00\x03\x00\x0c\x00\x00\x00\x07\xff\xff\x01\x00\x02zzBODY"
        header, offset = headers.decode_request_header(frame)
        self.assertIsNone(header.client_id)
        self.assertEqual(frame[offset:], b"BODY")

    def test_null_client_id(self) -> None:
        """A client id of length -1 is None."""
        header, offset = headers.decode_request_header(b"\x00\x12\x00\x00\x00\x00\x00\x01\xff\xff")
        self.assertEqual((header, offset), (RequestHeader(18, 0, 1, None), 10))

    def test_unknown_api_key_v1(self) -> None:
        """An unknown API key is read as a v1 header."""
        header, offset = headers.decode_request_header(b"\x03\xe7\x00\x09\x00\x00\x00\x01\x00\x00\x00")
        self.assertEqual((header.api_key, offset), (999, 10))

    def test_truncated(self) -> None:
        """Truncated headers raise DecodeError."""
        frame = b"\x00\x03\x00\x0c\x00\x00\x00\x07\x00\x02id\x00"
        for end in range(len(frame)):
            self.assertRaises(DecodeError, headers.decode_request_header, frame[:end])

    def test_bad_client_id(self) -> None:
        """A negative length other than -1, or invalid UTF-8, raises DecodeError."""
        self.assertRaises(DecodeError, headers.decode_request_header, b"\x00\x03\x00\x01\x00\x00\x00\x01\xff\xfe")
        self.assertRaises(DecodeError, headers.decode_request_header, b"\x00\x03\x00\x01\x00\x00\x00\x01\x00\x01\xff")

    def test_encode_round_trip(self) -> None:
        """encode_request_header is the inverse of decode_request_header."""
        for header in (RequestHeader(0, 3, 5, "c"), RequestHeader(0, 9, -5, None), RequestHeader(18, 4, 1, "")):
            raw = headers.encode_request_header(header)
            self.assertEqual(headers.decode_request_header(raw), (header, len(raw)))


class ResponseHeaderTests(SynchronousTestCase):
    """response_header picks v0 or v1."""

    def test_v0(self) -> None:
        """Non-flexible responses have the correlation id alone."""
        self.assertEqual(headers.response_header(7, 3, 8), b"\x00\x00\x00\x07")

    def test_v1(self) -> None:
        """Flexible responses add an empty tagged-field section."""
        self.assertEqual(headers.response_header(7, 3, 9), b"\x00\x00\x00\x07\x00")

    def test_api_versions_always_v0(self) -> None:
        """ApiVersions responses use header v0 even in flexible versions."""
        self.assertEqual(headers.response_header(-1, 18, 4), b"\xff\xff\xff\xff")
        self.assertEqual(headers.response_header_version(18, 3), 0)

    def test_versions(self) -> None:
        """Header versions follow each API's flexibleVersions."""
        self.assertEqual(headers.request_header_version(0, 8), 1)
        self.assertEqual(headers.request_header_version(0, 9), 2)
        self.assertEqual(headers.request_header_version(18, 3), 2)
        self.assertEqual(headers.request_header_version(999, 3), 1)
        self.assertEqual(headers.response_header_version(1, 12), 1)
        self.assertEqual(headers.response_header_version(17, 1), 0)
