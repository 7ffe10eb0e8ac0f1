# -*- test-case-name: tests.protocol.test_primitives -*-
"""Readers and writers of Kafka's primitive types."""

from __future__ import annotations

import tracemalloc
from typing import Any, Callable

from hypothesis import given, strategies as st
from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.protocol import primitives as p
from twisted_kafka.protocol.errors import DecodeError, EncodeError

_INTS: list[tuple[Callable[..., Any], Callable[..., Any], int, int, int]] = [
    (p.read_int8, p.write_int8, -(2**7), 2**7 - 1, 1),
    (p.read_int16, p.write_int16, -(2**15), 2**15 - 1, 2),
    (p.read_uint16, p.write_uint16, 0, 2**16 - 1, 2),
    (p.read_int32, p.write_int32, -(2**31), 2**31 - 1, 4),
    (p.read_uint32, p.write_uint32, 0, 2**32 - 1, 4),
    (p.read_int64, p.write_int64, -(2**63), 2**63 - 1, 8),
]


class FixedTests(SynchronousTestCase):
    """Fixed-size integers, float64, bool and uuid."""

    def test_boundaries(self) -> None:
        """Each integer type round-trips its extremes, and rejects one past them."""
        for read, write, low, high, size in _INTS:
            for value in (low, high, 0 if low == 0 else -1, 1):
                raw = write(value)
                self.assertEqual(len(raw), size)
                self.assertEqual(read(b"x" + raw, 1), (value, size + 1))
            self.assertRaises(EncodeError, write, low - 1)
            self.assertRaises(EncodeError, write, high + 1)

    def test_big_endian(self) -> None:
        """Integers are big-endian."""
        self.assertEqual(p.write_int32(1), b"\0\0\0\1")
        self.assertEqual(p.write_int16(-2), b"\xff\xfe")

    def test_truncated(self) -> None:
        """Reading past the end raises DecodeError."""
        for read, write, _, _, size in _INTS:
            raw = write(0)
            for end in range(size):
                self.assertRaises(DecodeError, read, raw[:end], 0)
            self.assertRaises(DecodeError, read, raw, 1)

    def test_float_bool_uuid(self) -> None:
        """float64, bool (any non-zero byte is true) and uuid round-trip."""
        self.assertEqual(p.read_float64(p.write_float64(-1.25), 0), (-1.25, 8))
        self.assertEqual(p.read_bool(p.write_bool(True), 0), (True, 1))
        self.assertEqual(p.read_bool(b"\x07", 0), (True, 1))
        self.assertEqual(p.read_bool(b"\x00", 0), (False, 1))
        uuid = bytes(range(16))
        self.assertEqual(p.read_uuid(p.write_uuid(uuid), 0), (uuid, 16))
        self.assertRaises(DecodeError, p.read_uuid, uuid[:15], 0)
        self.assertRaises(EncodeError, p.write_uuid, b"short")


class VarintTests(SynchronousTestCase):
    """Unsigned varints: compact lengths and tagged fields.

    The records' zigzag varints live in L{twisted_kafka.records.record_format}
    and are tested in C{tests.records.test_record}.
    """

    def test_known_encodings(self) -> None:
        """Known byte sequences."""
        self.assertEqual(p.write_uvarint(0), b"\0")
        self.assertEqual(p.write_uvarint(127), b"\x7f")
        self.assertEqual(p.write_uvarint(128), b"\x80\x01")
        self.assertEqual(p.write_uvarint(300), b"\xac\x02")
        self.assertEqual(p.write_uvarint(2**32 - 1), b"\xff\xff\xff\xff\x0f")

    @given(st.integers(0, 2**32 - 1))
    def test_uvarint_round_trip(self, n: int) -> None:
        """Unsigned varints round-trip over their whole range."""
        raw = p.write_uvarint(n)
        self.assertEqual(p.read_uvarint(raw + b"z", 0), (n, len(raw)))

    def test_out_of_range(self) -> None:
        """Values outside a varint's range cannot be written."""
        self.assertRaises(EncodeError, p.write_uvarint, -1)
        self.assertRaises(EncodeError, p.write_uvarint, 2**32)

    def test_too_long(self) -> None:
        """More than 5 bytes is a DecodeError."""
        self.assertRaises(DecodeError, p.read_uvarint, b"\x80" * 5 + b"\x00", 0)
        self.assertEqual(p.read_uvarint(b"\x80" * 4 + b"\x00", 0), (0, 5))

    def test_truncated(self) -> None:
        """A varint whose last byte has the continuation bit is truncated."""
        self.assertRaises(DecodeError, p.read_uvarint, b"", 0)
        self.assertRaises(DecodeError, p.read_uvarint, b"\x80\x80", 0)


_SIZED = [
    (p.read_string, p.write_string, "h\u00e9llo", False),
    (p.read_nullable_string, p.write_nullable_string, "x", True),
    (p.read_compact_string, p.write_compact_string, "h\u00e9llo", False),
    (p.read_compact_nullable_string, p.write_compact_nullable_string, "x", True),
    (p.read_bytes, p.write_bytes, b"\0\1\2", False),
    (p.read_nullable_bytes, p.write_nullable_bytes, b"\0\1\2", True),
    (p.read_compact_bytes, p.write_compact_bytes, b"\0\1\2", False),
    (p.read_compact_nullable_bytes, p.write_compact_nullable_bytes, b"\0\1\2", True),
    (p.read_records, p.write_records, b"batch", True),
    (p.read_compact_records, p.write_compact_records, b"batch", True),
]


class SizedTests(SynchronousTestCase):
    """Strings, bytes and records, plain and compact, nullable or not."""

    def test_round_trip(self) -> None:
        """Values, empty values and (where allowed) null round-trip."""
        for read, write, value, nullable in _SIZED:
            empty = value[:0]
            for v in (value, empty) + ((None,) if nullable else ()):
                raw = write(v)
                self.assertEqual(read(raw + b"tail", 0), (v, len(raw)), read.__name__)
            if not nullable:
                self.assertRaises(EncodeError, write, None)

    def test_null_encodings(self) -> None:
        """Null is length -1, or compact 0."""
        self.assertEqual(p.write_nullable_string(None), b"\xff\xff")
        self.assertEqual(p.write_nullable_bytes(None), b"\xff\xff\xff\xff")
        self.assertEqual(p.write_compact_nullable_string(None), b"\x00")
        self.assertEqual(p.write_compact_string(""), b"\x01")

    def test_null_rejected_when_not_nullable(self) -> None:
        """Length -1 for a non-nullable type is a DecodeError."""
        self.assertRaises(DecodeError, p.read_string, b"\xff\xff", 0)
        self.assertRaises(DecodeError, p.read_bytes, b"\xff\xff\xff\xff", 0)
        self.assertRaises(DecodeError, p.read_compact_string, b"\x00", 0)

    def test_negative_lengths(self) -> None:
        """Negative lengths other than -1 are a DecodeError."""
        self.assertRaises(DecodeError, p.read_nullable_string, b"\xff\xfe", 0)
        self.assertRaises(DecodeError, p.read_nullable_bytes, b"\x80\x00\x00\x00", 0)

    def test_oversized_lengths(self) -> None:
        """A length beyond the bytes left is a DecodeError, without allocating it."""
        tracemalloc.start()
        try:
            self.assertRaises(DecodeError, p.read_bytes, b"\x7f\xff\xff\xffabc", 0)
            self.assertRaises(DecodeError, p.read_compact_bytes, b"\xff\xff\xff\xff\x0fabc", 0)
            self.assertRaises(DecodeError, p.read_string, b"\x7f\xffabc", 0)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        self.assertLess(peak, 1 << 20)

    def test_truncated(self) -> None:
        """Every proper prefix of an encoding is a DecodeError."""
        for read, write, value, _ in _SIZED:
            raw = write(value)
            for end in range(len(raw)):
                self.assertRaises(DecodeError, read, raw[:end], 0)

    def test_invalid_utf8(self) -> None:
        """Strings must be UTF-8."""
        self.assertRaises(DecodeError, p.read_string, b"\x00\x01\xff", 0)

    def test_too_long(self) -> None:
        """A non-compact string is at most 32767 bytes."""
        self.assertEqual(len(p.write_string("a" * 32767)), 32769)
        self.assertRaises(EncodeError, p.write_string, "a" * 32768)
        self.assertRaises(EncodeError, p.write_bytes, 5)


class ArrayTests(SynchronousTestCase):
    """Arrays, plain and compact, nullable or not."""

    def test_round_trip(self) -> None:
        """Arrays of int32 and of strings round-trip; nulls where allowed."""
        cases = [
            (p.read_array, p.write_array, False),
            (p.read_nullable_array, p.write_nullable_array, True),
            (p.read_compact_array, p.write_compact_array, False),
            (p.read_compact_nullable_array, p.write_compact_nullable_array, True),
        ]
        for read, write, nullable in cases:
            raw = write([1, -2, 3], p.write_int32)
            self.assertEqual(read(raw, 0, p.read_int32, 4), ([1, -2, 3], len(raw)))
            raw = write(("a", "bc"), p.write_compact_string)
            self.assertEqual(read(raw, 0, p.read_compact_string), (["a", "bc"], len(raw)))
            self.assertEqual(read(write([], p.write_int32), 0, p.read_int32), ([], len(write([], p.write_int32))))
            if nullable:
                self.assertEqual(read(write(None, p.write_int32), 0, p.read_int32)[0], None)
            else:
                self.assertRaises(EncodeError, write, None, p.write_int32)
                self.assertRaises(DecodeError, read, b"\xff\xff\xff\xff\x00", 0, p.read_int32)

    def test_huge_counts(self) -> None:
        """A count larger than the bytes left is rejected before allocating."""
        tracemalloc.start()
        try:
            self.assertRaises(DecodeError, p.read_array, b"\x7f\xff\xff\xff\0\0\0\0", 0, p.read_int32, 4)
            self.assertRaises(DecodeError, p.read_compact_array, b"\xff\xff\xff\xff\x0f\0", 0, p.read_int8)
            self.assertRaises(DecodeError, p.read_array, b"\x00\x00\x00\x03\0\0\0\0\0\0\0\0", 0, p.read_int32, 4)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        self.assertLess(peak, 1 << 20)

    def test_negative_count(self) -> None:
        """Counts below -1 are rejected even for nullable arrays."""
        self.assertRaises(DecodeError, p.read_nullable_array, b"\xff\xff\xff\xfe", 0, p.read_int8)


class TaggedFieldTests(SynchronousTestCase):
    """Tagged-field sections."""

    def test_round_trip(self) -> None:
        """Tags are written sorted and read back as raw bytes."""
        raw = p.write_tagged_fields({5: b"five", 0: b"", 300: b"x" * 200})
        self.assertEqual(raw[:3], b"\x03\x00\x00")
        self.assertEqual(p.read_tagged_fields(raw, 0), ({0: b"", 5: b"five", 300: b"x" * 200}, len(raw)))
        self.assertEqual(p.read_tagged_fields(b"\x00", 0), ({}, 1))

    def test_malformed(self) -> None:
        """Oversized counts and sizes, and truncation, are DecodeErrors."""
        self.assertRaises(DecodeError, p.read_tagged_fields, b"\xff\xff\xff\xff\x0f", 0)
        self.assertRaises(DecodeError, p.read_tagged_fields, b"\x01\x00\x7fabc", 0)
        raw = p.write_tagged_fields({1: b"abc"})
        for end in range(len(raw)):
            self.assertRaises(DecodeError, p.read_tagged_fields, raw[:end], 0)
