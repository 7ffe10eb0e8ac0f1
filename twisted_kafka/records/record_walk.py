# -*- test-case-name: tests.records.test_record_walk -*-
"""The walk every produced batch gets: record count, lengths, offsets, timestamps.

A batch header can lie about what follows it: a header claiming one record
over three records makes the next batch's offsets overlap, and one claiming
2^31-1 records moves the log end by two billion.  Kafka's C{LogValidator}
walks the records of every produced batch; L{walk_records} is that walk,
kept to what the log's consistency needs so that it costs little per record:

    - each record's length varint, which must leave room for the smallest
      record body and stay inside the records section;
    - its offsetDelta, which must be 0, 1, ... in order;
    - its timestampDelta, to find the batch's largest timestamp (which the
      header's maxTimestamp must then match);
    - exactly C{recordCount} records, ending exactly at the section's end.

It jumps over each record's key, value and headers by its length; the
C{full} validation level (L{twisted_kafka.records.record_format.check_records})
also checks those.  Varints of one and two bytes, nearly all of them in
practice, are decoded inline; longer ones by the general decoder.  A batch
of same-sized records is first offered to
L{twisted_kafka.records.stride_walk.stride_walk}, which proves the same
column by column at C speed, or declines and leaves it to this walk.
"""

from __future__ import annotations

from twisted_kafka.errors import ErrorCode, KafkaError
from twisted_kafka.records.record_format import MIN_RECORD_SIZE, Buffer, read_varint
from twisted_kafka.records.stride_walk import stride_walk

#: The smallest record body: everything after the length varint.
_MIN_BODY = MIN_RECORD_SIZE - 1
#: Beyond any varlong: the starting point of the min/max search.
_FAR = 1 << 64
#: Kafka's C{RecordBatch.NO_TIMESTAMP}: a record without a timestamp.
NO_TIMESTAMP = -1


class RecordError(KafkaError):
    """C{INVALID_RECORD} for one record of a batch.

    @ivar batch_index: the record's position in its batch (Produce v8+
        answers it in C{record_errors}).
    """

    def __init__(self, batch_index: int, message: str) -> None:
        super().__init__(ErrorCode.INVALID_RECORD, message)
        self.batch_index = batch_index


def _invalid(message: str) -> KafkaError:
    """An C{INVALID_RECORD} error with C{message}, for the batch as a whole."""
    return KafkaError(ErrorCode.INVALID_RECORD, message)


def _bad_delta(index: int, raw: int | None) -> KafkaError:
    """The error for record C{index} whose zigzag offsetDelta is C{raw}."""
    said = "" if raw is None else f" {(raw >> 1) ^ -(raw & 1)}"
    return RecordError(index, f"record {index} has offsetDelta{said}, expected {index}")


def walk_records(buf: Buffer, pos: int, end: int, count: int) -> tuple[int, int]:
    """Walk the C{count} records in C{buf[pos:end]}; see the module docstring.

    @return: the smallest and the largest timestampDelta; baseTimestamp plus
        the largest is the batch's real maxTimestamp.

    @raise KafkaError: C{INVALID_RECORD} naming the first record that does
        not fit (a count of zero is refused too: a batch holds records).
    """
    same_size = stride_walk(buf, pos, end, count)
    if same_size is not None:
        return same_size
    return walk_each_record(buf, pos, end, count)


def walk_each_record(buf: Buffer, pos: int, end: int, count: int) -> tuple[int, int]:
    """L{walk_records} one record at a time, whatever the records' sizes."""
    if count <= 0 or count > (end - pos) // MIN_RECORD_SIZE:
        raise _invalid(
            f"recordCount {count} cannot fit in a records section of {end - pos} bytes"
        )
    low = _FAR
    high = -_FAR
    index = 0
    try:
        for index in range(count):
            # length: zigzag varint, inline for one and two bytes.
            b = buf[pos]
            if b < 0x80:
                length = (b >> 1) ^ -(b & 1)
                pos += 1
            else:
                c = buf[pos + 1]
                if c < 0x80:
                    b = (b & 0x7F) | (c << 7)
                    length = (b >> 1) ^ -(b & 1)
                    pos += 2
                else:
                    length, pos = read_varint(buf, pos)
            record_end = pos + length
            if length < _MIN_BODY or record_end > end:
                raise RecordError(
                    index, f"record {index} has length {length}, but {end - pos} bytes are left"
                )
            # attributes (one byte), then timestampDelta.
            p = pos + 1
            b = buf[p]
            if b < 0x80:
                ts = (b >> 1) ^ -(b & 1)
                p += 1
            else:
                c = buf[p + 1]
                if c < 0x80:
                    b = (b & 0x7F) | (c << 7)
                    ts = (b >> 1) ^ -(b & 1)
                    p += 2
                else:
                    ts, p = read_varint(buf, p)
            if ts > high:
                high = ts
            if ts < low:
                low = ts
            # offsetDelta: zigzag, so index i is written as 2i.
            b = buf[p]
            if b < 0x80:
                if b != index << 1:
                    raise _bad_delta(index, b)
            else:
                c = buf[p + 1]
                if c < 0x80:
                    b = (b & 0x7F) | (c << 7)
                    if b != index << 1:
                        raise _bad_delta(index, b)
                elif read_varint(buf, p)[0] != index:
                    raise _bad_delta(index, None)
            pos = record_end
    except IndexError:
        raise RecordError(index, f"record {index} runs past the end of the batch") from None
    if pos != end:
        raise _invalid(f"{end - pos} bytes follow the last of {count} records")
    return low, high


class RecordErrors(KafkaError):
    """A batch refused for faults in some of its records, each named.

    @ivar record_errors: C{(batch index, message)} of each faulty record, in
        batch order (Produce v8+ answers them in C{record_errors}).
    """

    def __init__(self, code: ErrorCode, message: str, record_errors: list[tuple[int, str]]) -> None:
        super().__init__(code, message)
        self.record_errors = record_errors


def keyless_message(where: str) -> str:
    """Kafka's message for a keyless record sent to compacted partition C{where}."""
    return f"Compacted topic cannot accept message without key in topic partition {where}."


class KeylessRecords(RecordErrors):
    """C{INVALID_RECORD}: records without a key, produced to a compacted topic."""

    def __init__(self, batch_indexes: list[int], where: str) -> None:
        message = keyless_message(where)
        shown = ", ".join(str(index) for index in batch_indexes[:3])
        super().__init__(
            ErrorCode.INVALID_RECORD,
            f"One or more records have been rejected due to {len(batch_indexes)} record errors "
            f"in total (records without a key at batch index {shown}"
            f"{', ...' if len(batch_indexes) > 3 else ''}): {message}",
            [(index, message) for index in batch_indexes],
        )


class InvalidTimestamps(RecordErrors):
    """C{INVALID_TIMESTAMP}: records whose timestamps are outside the topic's bounds.

    As in Kafka's C{LogValidator}, any other record fault found in the same
    batch (a missing key) is listed with them.
    """

    def __init__(self, record_errors: list[tuple[int, str]]) -> None:
        super().__init__(ErrorCode.INVALID_TIMESTAMP,
                         "One or more records have been rejected due to invalid timestamp",
                         record_errors)


def timestamp_message(timestamp: int, offset: int, earliest: int, latest: int) -> str:
    """Kafka's message for a record whose timestamp is outside C{[earliest, latest]}."""
    return (f"Timestamp {timestamp} of message with offset {offset} is out of range. "
            f"The timestamp should be within [{earliest}, {latest}]")


def out_of_range_timestamps(buf: Buffer, pos: int, end: int, count: int, base_timestamp: int,
                            earliest: int, latest: int) -> list[tuple[int, int]]:
    """C{(batch index, timestamp)} of each record in C{buf[pos:end]} outside C{[earliest, latest]}.

    A record without a timestamp (-1, Kafka's C{NO_TIMESTAMP}) is never out
    of range. The records must have passed L{walk_records}.
    """
    found = []
    for index in range(count):
        length, body = read_varint(buf, pos)
        delta, _ = read_varint(buf, body + 1)  # after the attributes byte
        timestamp = base_timestamp + delta
        if timestamp != NO_TIMESTAMP and not earliest <= timestamp <= latest:
            found.append((index, timestamp))
        pos = body + length
    return found


def keyless_records(buf: Buffer, pos: int, end: int, count: int) -> list[int]:
    """The batch indexes of the records in C{buf[pos:end]} whose key is null.

    The records must have passed L{walk_records} (their lengths are sound).
    """
    keyless = []
    for index in range(count):
        length, body = read_varint(buf, pos)
        p = body + 1  # attributes
        _, p = read_varint(buf, p)  # timestampDelta
        _, p = read_varint(buf, p)  # offsetDelta
        key_length, _ = read_varint(buf, p)
        if key_length < 0:
            keyless.append(index)
        pos = body + length
    return keyless
