# -*- test-case-name: tests.records.test_record -*-
"""The records section of a v2 batch: zigzag varints and the record layout.

After the 61-byte header (and after decompression), a batch holds
C{recordCount} records, each::

    length          varint   bytes after this field
    attributes      int8     unused, 0
    timestampDelta  varlong  from the batch's baseTimestamp
    offsetDelta     varint   from the batch's baseOffset
    keyLength       varint   -1 for a null key
    key             bytes
    valueLength     varint   -1 for a null value
    value           bytes
    headerCount     varint
    headers         keyLength varint, key (UTF-8), valueLength varint
                    (-1 null), value; headerCount times

Every varint is zigzag-encoded (C{(n << 1) ^ (n >> 63)}), seven bits per
byte, least significant group first.

This module knows nothing of batch headers or compression: it reads and
writes the records region of a buffer between two positions. Every
structural fault is a L{KafkaError} with C{INVALID_RECORD} naming the record
and what was wrong.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from twisted_kafka.errors import ErrorCode, KafkaError

#: length + attributes + timestampDelta + offsetDelta + keyLength +
#: valueLength + headerCount, each at least one byte.
MIN_RECORD_SIZE = 7
#: The smallest record body (everything after the length varint).
_MIN_RECORD_BODY = MIN_RECORD_SIZE - 1
#: A header is at least a key length and a value length.
_MIN_HEADER_SIZE = 2
_MAX_VARINT_SHIFT = 63

Buffer = bytes | bytearray | memoryview
Header = tuple[str, bytes | None]
#: (key, value, headers, timestamp) as given to the batch builder.
RecordFields = tuple[bytes | None, bytes | None, Sequence[Header], int]
#: (offsetDelta, timestampDelta, key, value, headers) as read back.
RawRecord = tuple[int, int, bytes | None, bytes | None, list[Header]]


def _invalid(message: str) -> KafkaError:
    """An C{INVALID_RECORD} error with C{message}."""
    return KafkaError(ErrorCode.INVALID_RECORD, message)


def read_varint(buf: Buffer, pos: int) -> tuple[int, int]:
    """Decode the zigzag varint (or varlong) at C{pos}.

    @return: C{(value, position after it)}.
    @raise IndexError: if the buffer ends inside the varint.
    @raise KafkaError: C{INVALID_RECORD} if it is longer than ten bytes.
    """
    result = 0
    shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return (result >> 1) ^ -(result & 1), pos
        shift += 7
        if shift > _MAX_VARINT_SHIFT:
            raise _invalid(f"varint at byte {pos} is longer than 10 bytes")


def write_varint(value: int, out: bytearray) -> None:
    """Append C{value} to C{out} as a zigzag varint."""
    encoded = ((value << 1) ^ (value >> 63)) & 0xFFFFFFFFFFFFFFFF
    while encoded > 0x7F:
        out.append((encoded & 0x7F) | 0x80)
        encoded >>= 7
    out.append(encoded)


def check_records(buf: Buffer, pos: int, end: int, count: int) -> None:
    """Walk C{count} records in C{buf[pos:end]} and check their structure.

    Each record's length must cover exactly its fields, lengths must be -1
    (null key/value/header value) or non-negative, offsetDeltas must be
    0, 1, ... C{count}-1 in order, and the last record must end at C{end}.

    @raise KafkaError: C{INVALID_RECORD} naming the first faulty record.
    """
    if count > (end - pos) // MIN_RECORD_SIZE:
        raise _invalid(
            f"recordCount {count} cannot fit in a records section of {end - pos} bytes"
        )
    index = 0
    try:
        for index in range(count):
            length, pos = read_varint(buf, pos)
            record_end = pos + length
            if length < _MIN_RECORD_BODY or record_end > end:
                raise _invalid(
                    f"record {index} has length {length}, but {end - pos} bytes are left"
                )
            pos = read_varint(buf, pos + 1)[1]  # attributes, timestampDelta
            delta, pos = read_varint(buf, pos)
            if delta != index:
                raise _invalid(f"record {index} has offsetDelta {delta}")
            size, pos = read_varint(buf, pos)
            if size > 0:
                pos += size
            elif size < -1:
                raise _invalid(f"record {index} has key length {size}")
            size, pos = read_varint(buf, pos)
            if size > 0:
                pos += size
            elif size < -1:
                raise _invalid(f"record {index} has value length {size}")
            header_count, pos = read_varint(buf, pos)
            if header_count:
                pos = _skip_headers(buf, pos, record_end, header_count, index)
            if pos != record_end:
                raise _invalid(
                    f"record {index} declares length {length} but its fields "
                    f"take {length + pos - record_end} bytes"
                )
    except IndexError:
        raise _invalid(f"record {index} runs past the end of the batch") from None
    if pos != end:
        raise _invalid(f"{end - pos} bytes follow the last of {count} records")


def _skip_headers(buf: Buffer, pos: int, record_end: int, count: int, index: int) -> int:
    """Skip C{count} record headers starting at C{pos}; return the end."""
    if count < 0 or count > (record_end - pos) // _MIN_HEADER_SIZE:
        raise _invalid(f"record {index} has header count {count}")
    for _ in range(count):
        size, pos = read_varint(buf, pos)
        if size < 0:
            raise _invalid(f"record {index} has a header key length {size}")
        pos += size
        size, pos = read_varint(buf, pos)
        if size > 0:
            pos += size
        elif size < -1:
            raise _invalid(f"record {index} has a header value length {size}")
    return pos


def _read_bytes(buf: Buffer, pos: int, record_end: int, what: str) -> tuple[bytes | None, int]:
    """Read a varint length and that many bytes (C{None} for -1)."""
    size, pos = read_varint(buf, pos)
    if size == -1:
        return None, pos
    if size < 0 or pos + size > record_end:
        raise _invalid(f"{what} length {size} does not fit in its record")
    return bytes(buf[pos : pos + size]), pos + size


def parse_records(buf: Buffer, pos: int, end: int, count: int) -> Iterator[RawRecord]:
    """Yield C{count} records from C{buf[pos:end]} as L{RawRecord} tuples.

    Checks the same structure as L{check_records} except the order of
    offsetDeltas (compacted data may have gaps). Header keys are decoded as
    UTF-8, malformed sequences replaced (as Java's C{new String} does).

    @raise KafkaError: C{INVALID_RECORD} at the first faulty record.
    """
    if count > (end - pos) // MIN_RECORD_SIZE:
        raise _invalid(
            f"recordCount {count} cannot fit in a records section of {end - pos} bytes"
        )
    for index in range(count):
        try:
            length, pos = read_varint(buf, pos)
            record_end = pos + length
            if length < _MIN_RECORD_BODY or record_end > end:
                raise _invalid(
                    f"record {index} has length {length}, but {end - pos} bytes are left"
                )
            timestamp_delta, pos = read_varint(buf, pos + 1)
            offset_delta, pos = read_varint(buf, pos)
            key, pos = _read_bytes(buf, pos, record_end, f"record {index} key")
            value, pos = _read_bytes(buf, pos, record_end, f"record {index} value")
            header_count, pos = read_varint(buf, pos)
            if header_count < 0 or header_count > max(0, (record_end - pos) // _MIN_HEADER_SIZE):
                raise _invalid(f"record {index} has header count {header_count}")
            headers: list[Header] = []
            for _ in range(header_count):
                name, pos = _read_bytes(buf, pos, record_end, f"record {index} header key")
                if name is None:
                    raise _invalid(f"record {index} has a null header key")
                header_value, pos = _read_bytes(
                    buf, pos, record_end, f"record {index} header value"
                )
                headers.append((name.decode("utf-8", "replace"), header_value))
        except IndexError:
            raise _invalid(f"record {index} runs past the end of the batch") from None
        if pos != record_end:
            raise _invalid(
                f"record {index} declares length {length} but its fields "
                f"take {length + pos - record_end} bytes"
            )
        yield offset_delta, timestamp_delta, key, value, headers
    if pos != end:
        raise _invalid(f"{end - pos} bytes follow the last of {count} records")


def write_record(
    out: bytearray,
    offset_delta: int,
    timestamp_delta: int,
    key: bytes | None,
    value: bytes | None,
    headers: Sequence[Header],
) -> None:
    """Append one length-prefixed record to C{out}."""
    body = bytearray(b"\x00")  # attributes
    write_varint(timestamp_delta, body)
    write_varint(offset_delta, body)
    _write_bytes(key, body)
    _write_bytes(value, body)
    write_varint(len(headers), body)
    for name, header_value in headers:
        _write_bytes(name.encode("utf-8"), body)
        _write_bytes(header_value, body)
    write_varint(len(body), out)
    out += body


def _write_bytes(data: bytes | None, out: bytearray) -> None:
    """Append a varint length and C{data} (length -1 for C{None})."""
    if data is None:
        out.append(1)  # zigzag(-1)
    else:
        write_varint(len(data), out)
        out += data
