# -*- test-case-name: tests.protocol.test_primitives -*-
"""Readers and writers for Kafka's primitive wire types.

Readers take C{(buf, pos)} and return C{(value, new_pos)}; writers take a
value and return C{bytes}.  Every length and array count is checked against
the bytes left in C{buf} *before* anything is allocated, and every failure
raises L{twisted_kafka.protocol.errors.DecodeError} (never
C{IndexError} or C{struct.error}).

The message codec (L{twisted_kafka.protocol.compiler}) generates inline
code for most of these; it uses the precompiled C{struct.Struct} objects and
the varint helpers from here, and the functions here are the reference
implementation the tests check it against.

Kafka's encodings, in brief:

- fixed-size integers are big-endian two's complement (C{uint16}/C{uint32}
  unsigned); C{float64} is an IEEE 754 double; C{bool} is one byte, any
  non-zero value being true; C{uuid} is 16 raw bytes.
- C{unsigned varint} is 7 bits a byte, least significant group first, at
  most 5 bytes.  (The zigzag C{varint}/C{varlong} appear only inside record
  batches, which L{twisted_kafka.records.record_format} reads and writes.)
- C{string}/C{bytes} have an int16/int32 length prefix, -1 meaning null;
  their *compact* forms (flexible versions) have an unsigned varint prefix of
  length + 1, 0 meaning null.  C{records} are nullable C{bytes}.
- arrays have an int32 count (-1: null), compact arrays an unsigned varint of
  count + 1 (0: null).
- a tagged-field section is an unsigned varint count, then for each field an
  unsigned varint tag, an unsigned varint size and that many bytes.
"""

from __future__ import annotations

import struct
from typing import Any, Callable, Sequence, TypeVar

from twisted_kafka.protocol.errors import DecodeError, EncodeError

T = TypeVar("T")

Reader = Callable[[bytes, int], tuple[T, int]]
Writer = Callable[[T], bytes]

INT8 = struct.Struct(">b")
INT16 = struct.Struct(">h")
UINT16 = struct.Struct(">H")
INT32 = struct.Struct(">i")
UINT32 = struct.Struct(">I")
INT64 = struct.Struct(">q")
FLOAT64 = struct.Struct(">d")
BOOL = struct.Struct(">?")
UUID = struct.Struct(">16s")

#: The 16-byte all-zero UUID Kafka uses for "no topic id" (C{Uuid.ZERO_UUID}).
ZERO_UUID = b"\0" * 16

#: The ranges of Kafka's int32 and int64 (timestamps, offsets, INT and LONG configs).
INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1

#: One-byte encodings of the unsigned varints 0..127.
SMALL_UVARINTS: tuple[bytes, ...] = tuple(bytes((i,)) for i in range(128))

_UVARINT_MAX = (1 << 32) - 1


def _fixed_reader(fmt: struct.Struct, what: str) -> Reader[object]:
    """Build a reader for one fixed-size C{struct} format."""
    unpack_from = fmt.unpack_from
    size = fmt.size

    def read(buf: bytes, pos: int) -> tuple[object, int]:
        if pos < 0 or pos + size > len(buf):
            raise DecodeError(f"truncated {what} at offset {pos}")
        return unpack_from(buf, pos)[0], pos + size

    read.__name__ = f"read_{what}"
    read.__doc__ = f"Read a big-endian {what}."
    return read


def _fixed_writer(fmt: struct.Struct, what: str) -> Writer[object]:
    """Build a writer for one fixed-size C{struct} format."""
    pack = fmt.pack

    def write(value: object) -> bytes:
        try:
            return pack(value)
        except struct.error as e:
            raise EncodeError(f"cannot encode {value!r} as {what}: {e}") from None

    write.__name__ = f"write_{what}"
    write.__doc__ = f"Encode a big-endian {what}."
    return write


read_int8 = _fixed_reader(INT8, "int8")
read_int16 = _fixed_reader(INT16, "int16")
read_uint16 = _fixed_reader(UINT16, "uint16")
read_int32 = _fixed_reader(INT32, "int32")
read_uint32 = _fixed_reader(UINT32, "uint32")
read_int64 = _fixed_reader(INT64, "int64")
read_float64 = _fixed_reader(FLOAT64, "float64")
read_bool = _fixed_reader(BOOL, "bool")
read_uuid = _fixed_reader(UUID, "uuid")
write_int8 = _fixed_writer(INT8, "int8")
write_int16 = _fixed_writer(INT16, "int16")
write_uint16 = _fixed_writer(UINT16, "uint16")
write_int32 = _fixed_writer(INT32, "int32")
write_uint32 = _fixed_writer(UINT32, "uint32")
write_int64 = _fixed_writer(INT64, "int64")
write_float64 = _fixed_writer(FLOAT64, "float64")
write_bool = _fixed_writer(BOOL, "bool")


def write_uuid(value: bytes) -> bytes:
    """Encode a uuid given as 16 raw bytes."""
    if not isinstance(value, (bytes, bytearray)) or len(value) != 16:
        raise EncodeError(f"a uuid must be 16 bytes, not {value!r}")
    return bytes(value)


def _read_varbits(buf: bytes, pos: int, max_bytes: int, what: str) -> tuple[int, int]:
    """Read an unsigned base-128 integer of at most C{max_bytes} bytes."""
    end = len(buf)
    result = 0
    shift = 0
    for i in range(max_bytes):
        if pos >= end:
            raise DecodeError(f"truncated {what} at offset {pos}")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7
    raise DecodeError(f"{what} longer than {max_bytes} bytes at offset {pos - max_bytes}")


def read_uvarint(buf: bytes, pos: int) -> tuple[int, int]:
    """Read an unsigned varint (at most 5 bytes)."""
    if 0 <= pos < len(buf):
        b = buf[pos]
        if b < 0x80:
            return b, pos + 1
    elif pos < 0:
        raise DecodeError(f"negative offset {pos}")
    return _read_varbits(buf, pos, 5, "unsigned varint")






def _write_varbits(n: int) -> bytes:
    """Encode a non-negative integer in base-128, low group first."""
    if n < 0x80:
        return SMALL_UVARINTS[n]
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def write_uvarint(n: int) -> bytes:
    """Encode an unsigned varint (0 <= n < 2**32)."""
    if 0 <= n < 0x80:
        return SMALL_UVARINTS[n]
    if not 0 <= n <= _UVARINT_MAX:
        raise EncodeError(f"unsigned varint out of range: {n!r}")
    return _write_varbits(n)






def _take(buf: bytes, pos: int, n: int, what: str) -> tuple[bytes, int]:
    """Slice C{n} bytes at C{pos} after checking that they are there."""
    end = pos + n
    if end > len(buf):
        raise DecodeError(
            f"{what} of length {n} at offset {pos} overruns the buffer "
            f"({len(buf) - pos} bytes left)"
        )
    return bytes(buf[pos:end]), end


def _text(raw: bytes, pos: int) -> str:
    """Decode UTF-8, turning failure into a DecodeError."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise DecodeError(f"invalid UTF-8 in string at offset {pos}: {e}") from None


def _read_len16(buf: bytes, pos: int) -> tuple[int, int]:
    """Read an int16 length."""
    return read_int16(buf, pos)  # type: ignore[return-value]


def _read_len32(buf: bytes, pos: int) -> tuple[int, int]:
    """Read an int32 length or count."""
    return read_int32(buf, pos)  # type: ignore[return-value]


def _read_compact_len(buf: bytes, pos: int) -> tuple[int, int]:
    """Read a compact length or count (stored as value + 1, 0 meaning null)."""
    n, pos = read_uvarint(buf, pos)
    return n - 1, pos


def _sized_reader(
    read_len: Callable[[bytes, int], tuple[int, int]], nullable: bool, text: bool, what: str
) -> Reader[object]:
    """Build a reader for a length-prefixed string or bytes type."""

    def read(buf: bytes, pos: int) -> tuple[object, int]:
        n, start = read_len(buf, pos)
        if n < 0:
            if nullable and n == -1:
                return None, start
            raise DecodeError(f"invalid {what} length {n} at offset {pos}")
        raw, end = _take(buf, start, n, what)
        return (_text(raw, start) if text else raw), end

    read.__name__ = "read_" + what.replace(" ", "_")
    read.__doc__ = f"Read a {what}."
    return read


read_string = _sized_reader(_read_len16, False, True, "string")
read_nullable_string = _sized_reader(_read_len16, True, True, "nullable string")
read_compact_string = _sized_reader(_read_compact_len, False, True, "compact string")
read_compact_nullable_string = _sized_reader(
    _read_compact_len, True, True, "compact nullable string"
)
read_bytes = _sized_reader(_read_len32, False, False, "bytes")
read_nullable_bytes = _sized_reader(_read_len32, True, False, "nullable bytes")
read_compact_bytes = _sized_reader(_read_compact_len, False, False, "compact bytes")
read_compact_nullable_bytes = _sized_reader(
    _read_compact_len, True, False, "compact nullable bytes"
)
#: C{records} are nullable bytes (non-flexible versions) ...
read_records = read_nullable_bytes
#: ... and compact nullable bytes (flexible versions).
read_compact_records = read_compact_nullable_bytes


def _as_bytes(value: object, what: str) -> bytes:
    """Turn a str (UTF-8) or bytes-like value into bytes for a sized type."""
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, bytes):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    raise EncodeError(f"cannot encode {value!r} as {what}")


def _sized_writer(
    write_len: Callable[[int], bytes], null: bytes | None, max_len: int, what: str
) -> Writer[object]:
    """Build a writer for a length-prefixed string or bytes type."""

    def write(value: object) -> bytes:
        if value is None:
            if null is None:
                raise EncodeError(f"{what} cannot be null")
            return null
        raw = _as_bytes(value, what)
        if len(raw) > max_len:
            raise EncodeError(f"{what} too long: {len(raw)} bytes")
        return b"".join((write_len(len(raw)), raw))

    write.__name__ = "write_" + what.replace(" ", "_")
    write.__doc__ = f"Encode a {what}."
    return write


def _compact_len(n: int) -> bytes:
    """Encode a compact length or count (value + 1)."""
    return write_uvarint(n + 1)


_I16_MAX, _I32_MAX = 0x7FFF, 0x7FFFFFFF
write_string = _sized_writer(INT16.pack, None, _I16_MAX, "string")
write_nullable_string = _sized_writer(INT16.pack, b"\xff\xff", _I16_MAX, "nullable string")
write_compact_string = _sized_writer(_compact_len, None, _I32_MAX, "compact string")
write_compact_nullable_string = _sized_writer(
    _compact_len, b"\0", _I32_MAX, "compact nullable string"
)
write_bytes = _sized_writer(INT32.pack, None, _I32_MAX, "bytes")
write_nullable_bytes = _sized_writer(INT32.pack, b"\xff\xff\xff\xff", _I32_MAX, "nullable bytes")
write_compact_bytes = _sized_writer(_compact_len, None, _I32_MAX, "compact bytes")
write_compact_nullable_bytes = _sized_writer(_compact_len, b"\0", _I32_MAX, "compact nullable bytes")
write_records = write_nullable_bytes
write_compact_records = write_compact_nullable_bytes


def _array_reader(
    read_count: Callable[[bytes, int], tuple[int, int]], nullable: bool, what: str
) -> Callable[..., tuple[list[Any] | None, int]]:
    """Build a reader for an array type."""

    def read(
        buf: bytes, pos: int, read_item: Reader[T], min_item_size: int = 1
    ) -> tuple[list[T] | None, int]:
        n, p = read_count(buf, pos)
        if n < 0:
            if nullable and n == -1:
                return None, p
            raise DecodeError(f"invalid {what} count {n} at offset {pos}")
        if n * max(min_item_size, 1) > len(buf) - p:
            raise DecodeError(
                f"{what} count {n} at offset {pos} exceeds the {len(buf) - p} bytes left"
            )
        items = []
        for _ in range(n):
            item, p = read_item(buf, p)
            items.append(item)
        return items, p

    read.__name__ = "read_" + what.replace(" ", "_")
    read.__doc__ = (
        f"Read a {what} of items read by C{{read_item}}; C{{min_item_size}} (the "
        "smallest encoding of one item) bounds the count before allocating."
    )
    return read


read_array = _array_reader(_read_len32, False, "array")
read_nullable_array = _array_reader(_read_len32, True, "nullable array")
read_compact_array = _array_reader(_read_compact_len, False, "compact array")
read_compact_nullable_array = _array_reader(_read_compact_len, True, "compact nullable array")


def _array_writer(
    write_count: Callable[[int], bytes], null: bytes | None, what: str
) -> Callable[..., bytes]:
    """Build a writer for an array type."""

    def write(items: Sequence[T] | None, write_item: Writer[T]) -> bytes:
        if items is None:
            if null is None:
                raise EncodeError(f"{what} cannot be null")
            return null
        parts = [write_count(len(items))]
        parts.extend(write_item(item) for item in items)
        return b"".join(parts)

    write.__name__ = "write_" + what.replace(" ", "_")
    write.__doc__ = f"Encode a {what}, each item with C{{write_item}}."
    return write


write_array = _array_writer(INT32.pack, None, "array")
write_nullable_array = _array_writer(INT32.pack, b"\xff\xff\xff\xff", "nullable array")
write_compact_array = _array_writer(_compact_len, None, "compact array")
write_compact_nullable_array = _array_writer(_compact_len, b"\0", "compact nullable array")


def read_tagged_fields(buf: bytes, pos: int) -> tuple[dict[int, bytes], int]:
    """Read a tagged-field section into C{{tag: raw bytes}}."""
    start = pos
    n, pos = read_uvarint(buf, pos)
    if 2 * n > len(buf) - pos:
        raise DecodeError(f"tagged field count {n} at offset {start} exceeds the bytes left")
    fields: dict[int, bytes] = {}
    for _ in range(n):
        tag, pos = read_uvarint(buf, pos)
        size, pos = read_uvarint(buf, pos)
        fields[tag], pos = _take(buf, pos, size, "tagged field")
    return fields, pos


def write_tagged_fields(fields: dict[int, bytes]) -> bytes:
    """Encode a tagged-field section from C{{tag: raw bytes}} (sorted by tag)."""
    parts = [write_uvarint(len(fields))]
    for tag in sorted(fields):
        raw = fields[tag]
        parts.append(write_uvarint(tag))
        parts.append(write_uvarint(len(raw)))
        parts.append(raw)
    return b"".join(parts)
