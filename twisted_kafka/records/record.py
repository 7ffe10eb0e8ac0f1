# -*- test-case-name: tests.records.test_record -*-
"""Individual records: reading them out of a batch, and building batches.

Neither is on the produce or fetch hot path (those move whole batches). They
serve ListOffsets by timestamp, the broker's internal logs (consumer
offsets, transactions) and the tests.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import NamedTuple

from twisted_kafka.records.batch import (
    CODEC_MASK,
    CONTROL_MASK,
    CRC_OFFSET,
    HEADER,
    HEADER_SIZE,
    LOG_OVERHEAD,
    MAGIC_V2,
    NO_TIMESTAMP,
    RECORDS_OFFSET,
    TIMESTAMP_TYPE_MASK,
    TRANSACTIONAL_MASK,
    BatchHeader,
    compute_crc,
)
from twisted_kafka.errors import ErrorCode, KafkaError
from twisted_kafka.protocol.primitives import INT64_MAX, INT64_MIN
from twisted_kafka.records.compression import (
    CODEC_NONE, DecompressedTooLarge, compress, decompress, decompress_stream)
from twisted_kafka.records.record_format import (
    Header,
    RecordFields,
    parse_records,
    read_varint,
    write_record,
)

__all__ = ["BudgetSpent", "DecompressionBudget", "Header", "Record", "RecordFields",
           "build_batch", "iter_records", "record_times"]


class Record(NamedTuple):
    """One record, with its absolute offset and timestamp."""

    offset: int
    timestamp: int
    key: bytes | None
    value: bytes | None
    headers: list[Header]


def iter_records(
    batch_bytes: bytes | bytearray | memoryview,
    header: BatchHeader,
    max_decompressed: int,
) -> Iterator[Record]:
    """Yield the records of one whole batch (header included in C{batch_bytes}).

    The batch is assumed checked (L{split_batches}); the records section is
    decompressed (at most C{max_decompressed} bytes) and parsed. Timestamps
    are baseTimestamp + delta, or maxTimestamp for every record of a
    LogAppendTime batch (as Kafka's readers do).

    @raise KafkaError: C{INVALID_RECORD} for records that do not parse.
    """
    codec = header.attributes & CODEC_MASK
    end = header.batch_length + LOG_OVERHEAD
    if codec == CODEC_NONE:
        body: bytes | bytearray | memoryview = batch_bytes
        start = RECORDS_OFFSET
    else:
        with memoryview(batch_bytes) as view:
            body = decompress(codec, view[RECORDS_OFFSET:end], max_decompressed)
        start, end = 0, len(body)
    base_offset = header.base_offset
    log_append_time = bool(header.attributes & TIMESTAMP_TYPE_MASK)
    base_timestamp = header.base_timestamp
    for delta, timestamp_delta, key, value, headers in parse_records(
        body, start, end, header.record_count
    ):
        timestamp = header.max_timestamp if log_append_time else base_timestamp + timestamp_delta
        yield Record(base_offset + delta, timestamp, key, value, headers)


class DecompressionBudget:
    """How many more bytes one request may decompress (see L{record_times}).

    @ivar remaining: bytes left; a read that would pass it stops with
        L{BudgetSpent}.
    """

    def __init__(self, remaining: int) -> None:
        self.remaining = remaining


class BudgetSpent(Exception):
    """The request's L{DecompressionBudget} ran out before the answer was found."""


#: The most bytes of a record's start that L{record_times} reads: its
#: length, attributes, timestampDelta and offsetDelta varints.
_RECORD_PREFIX = 5 + 1 + 10 + 5


def record_times(
    batch_bytes: bytes | bytearray | memoryview,
    header: BatchHeader,
    budget: DecompressionBudget,
) -> Iterator[tuple[int, int]]:
    """Yield C{(offset, timestamp)} of each record of one whole batch, lazily.

    Reads only the start of each record and decompresses as it goes, so a
    caller that stops at the record it wants pays for the records before
    it, not for the whole batch; every byte decompressed is charged to
    C{budget}.  A record whose timestamp (baseTimestamp + delta) does not
    fit 64 bits is skipped: no answer may carry it.

    @raise BudgetSpent: the budget ran out first.
    @raise KafkaError: C{INVALID_RECORD} for records that do not parse.
    """
    codec = header.attributes & CODEC_MASK
    end = header.batch_length + LOG_OVERHEAD
    pieces: Iterator[bytes | memoryview]
    view = memoryview(batch_bytes)
    if codec == CODEC_NONE:
        pieces = iter((view[RECORDS_OFFSET:end],))
    else:
        if budget.remaining <= 0:
            raise BudgetSpent()
        pieces = decompress_stream(codec, view[RECORDS_OFFSET:end], budget.remaining)
    log_append_time = bool(header.attributes & TIMESTAMP_TYPE_MASK)
    buf = bytearray()
    pos = 0

    def fill(wanted: int) -> None:
        nonlocal buf, pos
        while len(buf) - pos < wanted:
            piece = next(pieces, None)
            if piece is None:
                return
            if codec != CODEC_NONE:
                budget.remaining -= len(piece)
            if pos:
                del buf[:pos]
                pos = 0
            buf += piece

    try:
        for _ in range(header.record_count):
            fill(_RECORD_PREFIX)
            length, start = read_varint(buf, pos)
            timestamp_delta, after = read_varint(buf, start + 1)
            delta, _ = read_varint(buf, after)
            timestamp = header.max_timestamp if log_append_time else (
                header.base_timestamp + timestamp_delta)
            if INT64_MIN <= timestamp <= INT64_MAX:
                yield header.base_offset + delta, timestamp
            if length < 0:
                raise KafkaError(ErrorCode.INVALID_RECORD, f"record has length {length}")
            # Skip to the next record, dropping what is not needed.
            target = start + length
            while target > len(buf):
                target -= len(buf)
                buf, pos = bytearray(), 0
                fill(1)
                if not buf:
                    raise KafkaError(ErrorCode.INVALID_RECORD, "records are truncated")
            pos = target
    except IndexError:
        raise KafkaError(ErrorCode.INVALID_RECORD, "records are truncated") from None
    except KafkaError as e:
        if isinstance(e, DecompressedTooLarge) and codec != CODEC_NONE:
            raise BudgetSpent() from None
        raise


def build_batch(
    records: Sequence[RecordFields],
    *,
    base_offset: int = 0,
    codec: int = CODEC_NONE,
    producer_id: int = -1,
    producer_epoch: int = -1,
    base_sequence: int = -1,
    timestamp_type: int = 0,
    is_transactional: bool = False,
    is_control: bool = False,
    partition_leader_epoch: int = -1,
) -> bytes:
    """Build one RecordBatch v2 holding C{records}, with a correct CRC-32C.

    @param records: C{(key, value, headers, timestamp)} per record, headers
        being C{(name, value)} pairs; offsetDeltas are 0..n-1.
    @param codec: 0 none, 1 gzip, 2 snappy (xerial framing), 3 lz4, 4 zstd;
        the records are compressed whatever the gain.
    @param timestamp_type: 1 sets the LogAppendTime bit.
    """
    body = bytearray()
    base_timestamp = records[0][3] if records else NO_TIMESTAMP
    max_timestamp = NO_TIMESTAMP
    for delta, (key, value, headers, timestamp) in enumerate(records):
        write_record(body, delta, timestamp - base_timestamp, key, value, headers)
        max_timestamp = max(max_timestamp, timestamp)
    payload = compress(codec, body) if codec != CODEC_NONE else body
    attributes = codec
    if timestamp_type:
        attributes |= TIMESTAMP_TYPE_MASK
    if is_transactional:
        attributes |= TRANSACTIONAL_MASK
    if is_control:
        attributes |= CONTROL_MASK
    batch = bytearray(HEADER_SIZE + len(payload))
    HEADER.pack_into(
        batch,
        0,
        base_offset,
        len(batch) - LOG_OVERHEAD,
        partition_leader_epoch,
        MAGIC_V2,
        0,  # crc, below
        attributes,
        len(records) - 1,
        base_timestamp,
        max_timestamp,
        producer_id,
        producer_epoch,
        base_sequence,
        len(records),
    )
    batch[HEADER_SIZE:] = payload
    crc = compute_crc(batch)
    batch[CRC_OFFSET : CRC_OFFSET + 4] = crc.to_bytes(4, "big")
    return bytes(batch)
