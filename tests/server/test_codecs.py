# -*- test-case-name: tests.server.test_codecs -*-
"""Tests for L{twisted_kafka.server.codecs}: the codec cache and response framing."""

from __future__ import annotations

import struct

from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.protocol import messages
from twisted_kafka.server.codecs import codec_for, response_framer

HEARTBEAT = 12
API_VERSIONS = 18


class CodecCacheTests(SynchronousTestCase):
    """One compiled codec pair per (api key, version)."""

    def test_cached(self) -> None:
        """Asking twice returns the very same functions."""
        self.assertIs(codec_for(HEARTBEAT, 4), codec_for(HEARTBEAT, 4))
        self.assertIsNot(codec_for(HEARTBEAT, 3), codec_for(HEARTBEAT, 4))

    def test_decodes_request(self) -> None:
        """The decoder reads a body at the given offset of a frame."""
        body = {"group_id": "g", "generation_id": 7, "member_id": "m"}
        encoded = messages.request_encoder(HEARTBEAT, 0)(body)
        decoded = codec_for(HEARTBEAT, 0)[0](b"xx" + encoded, 2)
        self.assertEqual(decoded["generation_id"], 7)


class ResponseFramerTests(SynchronousTestCase):
    """A framed response is size prefix, response header, body."""

    def test_frame(self) -> None:
        """The size prefix counts header and body; the header carries the correlation id."""
        frame = b"".join(response_framer(42, HEARTBEAT, 0)({"error_code": 27}))
        (size,) = struct.unpack_from(">i", frame)
        self.assertEqual(size, len(frame) - 4)
        self.assertEqual(struct.unpack_from(">i", frame, 4)[0], 42)
        self.assertEqual(messages.response_decoder(HEARTBEAT, 0)(frame[8:], 0)["error_code"],
                         27)

    def test_flexible_header(self) -> None:
        """A flexible version's response header has tagged fields; ApiVersions's never does."""
        heartbeat = b"".join(response_framer(1, HEARTBEAT, 4)({"error_code": 0}))
        self.assertEqual(heartbeat[8:9], b"\0", "empty tagged fields after the correlation id")
        api_versions = b"".join(response_framer(1, API_VERSIONS, 3)(
            {"error_code": 0, "api_keys": [], "throttle_time_ms": 0}))
        decoded = messages.response_decoder(API_VERSIONS, 3)(api_versions[8:], 0)
        self.assertEqual(decoded["error_code"], 0)
