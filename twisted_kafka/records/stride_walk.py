# -*- test-case-name: tests.records.test_stride_walk -*-
"""The record walk of a batch whose records all have the same size, done column-wise.

L{twisted_kafka.records.record_walk.walk_records} steps through a batch one
record at a time in Python, about 0.3 microseconds a record: for a 16 KiB
batch of 100-byte records that is most of the broker's cost of the request.
Producers very often send batches of same-sized records (fixed-size values,
fixed-size or absent keys).  Such records sit at a fixed stride, so every
field the walk reads is a column of bytes at that stride, and C-level
slicing and byte operations check a whole column at once.

L{stride_walk} proves, for such a batch, exactly what the walk proves, or
returns C{None} and leaves the batch to the walk (which then reports the
fault, if any, with its record index).  It answers only when:

    - the records section divides evenly into C{count} records of the size
      that the first record's one- or two-byte length varint gives, and that
      length varint is byte for byte the same in every record (so every
      record's length is valid and they end exactly at the section's end);
    - every timestampDelta is a one-byte varint (deltas of -64 to 63 ms,
      which linger-sized batches have); their smallest and largest are
      returned, as the walk returns them;
    - every offsetDelta is the canonical varint of its record's index
      (C{count} up to 8192, one- and two-byte varints).

Anything else (records of different sizes, longer varints, a bad offset)
returns C{None}; the walk accepts everything this accepts, with the same
result, so taking this path never changes what is accepted.
"""

from __future__ import annotations

from twisted_kafka.records.record_format import MIN_RECORD_SIZE, Buffer

#: Records with offsetDeltas of one- and two-byte varints (index below 8192).
MAX_COUNT = 8192
#: Fewer records than this are walked: the columns would cost more.
MIN_COUNT = 8
#: Records sections up to this size are copied to C{bytes} first: slicing
#: columns out of C{bytes} is five times as fast as out of a C{memoryview}, and
#: the copy costs less than the difference.
COPY_LIMIT = 64 * 1024
#: The first record index whose offsetDelta needs two bytes (zigzag 2i >= 128).
_TWO_BYTE_INDEX = 64


def _varint(value: int) -> bytes:
    """The canonical unsigned varint of C{value} (already zigzag-encoded)."""
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


#: First and second byte of each record index's offsetDelta (zigzag 2i).
_DELTAS = [_varint(i << 1) for i in range(MAX_COUNT)]
_FIRST = bytes(d[0] for d in _DELTAS)
_SECOND = bytes(d[1] for d in _DELTAS[_TWO_BYTE_INDEX:])
#: A one-byte zigzag timestampDelta mapped to its value plus 64 (order kept).
_TIMESTAMP_ORDER = bytes(((b >> 1) ^ -(b & 1)) + 64 for b in range(128)) + bytes(128)


def stride_walk(buf: Buffer, pos: int, end: int, count: int) -> tuple[int, int] | None:
    """Walk C{count} same-sized records in C{buf[pos:end]} column-wise.

    Records 64 and later have two-byte offsetDeltas, so they are one byte
    longer than the first 64: the two runs are checked apart, each at its
    own stride.

    @return: the smallest and the largest timestampDelta, as
        L{twisted_kafka.records.record_walk.walk_records} returns them, or
        C{None} when the batch is not of the shape described in the module
        docstring (the caller then walks it record by record).
    """
    if count < MIN_COUNT or count > MAX_COUNT or end - pos < count * MIN_RECORD_SIZE:
        return None
    if type(buf) is not bytes and end - pos <= COPY_LIMIT:
        buf = bytes(buf[pos:end])
        pos, end = 0, len(buf)
    view = buf if type(buf) is bytes else memoryview(buf)
    if count <= _TWO_BYTE_INDEX:
        timestamps = _run(view, pos, end, count, 0)
    else:
        stride = _stride(view, pos)
        if stride is None:
            return None
        middle = pos + _TWO_BYTE_INDEX * stride
        if middle >= end:
            return None
        head = _run(view, pos, middle, _TWO_BYTE_INDEX, 0)
        if head is None:
            return None
        tail = _run(view, middle, end, count - _TWO_BYTE_INDEX, _TWO_BYTE_INDEX)
        if tail is None:
            return None
        timestamps = head + tail
    if timestamps is None:
        return None
    ordered = timestamps.translate(_TIMESTAMP_ORDER)
    return min(ordered) - 64, max(ordered) - 64


def _stride(view: bytes | memoryview, pos: int) -> int | None:
    """The size of the record at C{pos} from its one- or two-byte length varint.

    C{None} for a longer varint or a length below the smallest record body.
    """
    first = view[pos]
    if first < 0x80:
        width = 1
        zigzag = first
    else:
        second = view[pos + 1]
        if second >= 0x80:
            return None
        width = 2
        zigzag = (first & 0x7F) | (second << 7)
    length = (zigzag >> 1) ^ -(zigzag & 1)
    if length < MIN_RECORD_SIZE - 1:
        return None
    return width + length


def _run(view: bytes | memoryview, pos: int, end: int, count: int, index: int) -> bytes | None:
    """Check C{count} records of one size filling C{view[pos:end]}, the first being record C{index}.

    Their offsetDeltas all have the same width: C{index} is 0 (and C{count}
    at most 64) or 64.

    @return: their timestampDeltas (one-byte zigzag varints), or C{None}.
    """
    stride = _stride(view, pos)
    if stride is None or stride * count != end - pos:
        return None
    # Every record starts with the same length varint.
    width = 1 if view[pos] < 0x80 else 2
    for at in range(pos, pos + width):
        if bytes(view[at:end:stride]).count(view[at]) != count:
            return None
    # After the length and the attributes byte: one-byte timestampDeltas.
    at = pos + width + 1
    timestamps = bytes(view[at:end:stride])
    if not timestamps.isascii():
        return None
    # Then each record's offsetDelta: the canonical varint of its index.
    at += 1
    if bytes(view[at:end:stride]) != _FIRST[index:index + count]:
        return None
    if index:
        second = index - _TWO_BYTE_INDEX
        if bytes(view[at + 1:end:stride]) != _SECOND[second:second + count]:
            return None
    return timestamps
