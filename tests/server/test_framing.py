# -*- test-case-name: tests.server.test_framing -*-
"""Tests for L{twisted_kafka.server.framing}."""

from __future__ import annotations

import struct

from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.server.framing import FrameError, FrameParser


def frame(payload: bytes) -> bytes:
    """Return C{payload} with its int32 size prefix."""
    return struct.pack(">i", len(payload)) + payload


class FrameParserTests(SynchronousTestCase):
    """L{FrameParser} splits a byte stream into frames at any boundary."""

    payloads = [b"", b"a", b"hello world", bytes(range(256)) * 40, b"x" * 5]

    def stream(self) -> bytes:
        """Return all test payloads framed back to back."""
        return b"".join(frame(p) for p in self.payloads)

    def test_byte_at_a_time(self) -> None:
        """Frames fed one byte per read come out whole and in order."""
        parser = FrameParser(1 << 20)
        out: list[bytes] = []
        data = self.stream()
        for i in range(len(data)):
            out.extend(parser.feed(data[i : i + 1]))
        self.assertEqual(out, self.payloads)
        self.assertEqual(parser.buffered(), 0)

    def test_many_frames_one_read(self) -> None:
        """Several frames in a single read are all delivered."""
        parser = FrameParser(1 << 20)
        self.assertEqual(parser.feed(self.stream()), self.payloads)

    def test_every_split_point(self) -> None:
        """Splitting the stream in two at any offset gives the same frames."""
        data = self.stream()
        for cut in range(0, len(data) + 1, 7):
            parser = FrameParser(1 << 20)
            out = parser.feed(data[:cut]) + parser.feed(data[cut:])
            self.assertEqual(out, self.payloads, cut)

    def test_frames_are_bytes(self) -> None:
        """Each frame is an independent C{bytes} object."""
        parser = FrameParser(100)
        data = frame(b"abc")
        out = parser.feed(data[:5]) + parser.feed(data[5:])
        self.assertEqual(out, [b"abc"])
        self.assertIsInstance(out[0], bytes)

    def test_negative_size(self) -> None:
        """A negative size prefix is refused."""
        parser = FrameParser(100)
        exc = self.assertRaises(FrameError, parser.feed, struct.pack(">i", -1) + b"xx")
        self.assertEqual(exc.size, -1)

    def test_oversized_refused_before_payload(self) -> None:
        """A prefix over the limit is refused when its four bytes arrive."""
        parser = FrameParser(100)
        parser.feed(struct.pack(">i", 101)[:3])
        exc = self.assertRaises(FrameError, parser.feed, struct.pack(">i", 101)[3:])
        self.assertEqual(exc.size, 101)
        self.assertIn("max_request_size", str(exc))

    def test_oversized_after_good_frame(self) -> None:
        """An oversized prefix following a good frame in the same read is refused."""
        parser = FrameParser(100)
        self.assertRaises(FrameError, parser.feed, frame(b"ok") + struct.pack(">i", 1 << 30))

    def test_exact_limit_accepted(self) -> None:
        """A frame of exactly C{max_size} bytes is accepted."""
        parser = FrameParser(10)
        self.assertEqual(parser.feed(frame(b"0123456789")), [b"0123456789"])

    def test_large_frame_in_chunks(self) -> None:
        """A 1 MiB frame arriving in 64 KiB reads is buffered and delivered once."""
        payload = bytes(range(256)) * 4096
        data = frame(payload)
        parser = FrameParser(2 << 20)
        out: list[bytes] = []
        for i in range(0, len(data), 65536):
            out.extend(parser.feed(data[i : i + 65536]))
        self.assertEqual(out, [payload])
