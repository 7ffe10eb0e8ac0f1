# -*- test-case-name: tests.records.test_compaction -*-
"""What the log cleaner needs of a stored batch: its records' keys, and a filtered copy.

L{batch_records} decompresses a stored RecordBatch v2 (with its own codec)
and lists, for every record, where its bytes lie, its offset, its key and
whether it is a tombstone (a null value). L{filter_batch} builds the batch
that keeps only some of those records: the same baseOffset,
lastOffsetDelta, timestamps, producer fields and codec, the kept records'
bytes copied as they are (their offsetDeltas stay relative to the same
baseOffset, so offsets never change), a new recordCount, batchLength and
CRC-32C. A batch left with no record becomes an empty, uncompressed batch
(as Kafka writes for the last batch of a producer), which keeps the offsets
it spanned accounted for. Control batches are never handed here.
"""

from __future__ import annotations

from typing import NamedTuple

from twisted_kafka.errors import ErrorCode, KafkaError
from twisted_kafka.records.batch import (
    ATTRIBUTES_OFFSET,
    CODEC_MASK,
    CODEC_NONE,
    CODEC_SNAPPY,
    CRC_OFFSET,
    HEADER,
    HEADER_SIZE,
    LOG_OVERHEAD,
    RECORDS_OFFSET,
    BatchHeader,
    compute_crc,
)
from twisted_kafka.records.compression import XERIAL_MAGIC, compress, decompress
from twisted_kafka.records.record_format import Buffer, read_varint

class RecordSpan(NamedTuple):
    """One record of a batch as the cleaner sees it.

    @ivar start: where its bytes (from its length varint) start in the records section.
    @ivar end: where they end.
    @ivar offset: its offset (the batch's baseOffset plus its offsetDelta).
    @ivar key: its key (the cleaner keeps the latest record of each key).
    @ivar tombstone: whether its value is null.
    """

    start: int
    end: int
    offset: int
    key: bytes | None
    tombstone: bool


def batch_records(batch: Buffer, header: BatchHeader, max_size: int) -> tuple[bytes, list[RecordSpan]]:
    """The records section of C{batch} (decompressed) and the span of every record in it.

    @param max_size: the most bytes the records may decompress to.
    @raise KafkaError: the records cannot be decompressed or parsed
        (C{INVALID_RECORD}); a stored batch passed the produce walk, so this
        means damage.
    """
    codec = header.attributes & CODEC_MASK
    body = memoryview(batch)[RECORDS_OFFSET : header.batch_length + LOG_OVERHEAD]
    records = bytes(body) if codec == CODEC_NONE else decompress(codec, body, max_size)
    spans: list[RecordSpan] = []
    base = header.base_offset
    pos = 0
    try:
        for _ in range(header.record_count):
            length, body_start = read_varint(records, pos)
            end = body_start + length
            p = body_start + 1  # attributes
            _, p = read_varint(records, p)  # timestampDelta
            delta, p = read_varint(records, p)
            key_length, p = read_varint(records, p)
            key: bytes | None = None
            if key_length >= 0:
                key = records[p : p + key_length]
                p += key_length
            value_length, _ = read_varint(records, p)
            spans.append(RecordSpan(pos, end, base + delta, key, value_length < 0))
            pos = end
    except IndexError:
        raise KafkaError(ErrorCode.INVALID_RECORD, f"batch at offset {base} has a truncated record") from None
    return records, spans


def filter_batch(batch: Buffer, header: BatchHeader, records: bytes, kept: list[RecordSpan]) -> bytes:
    """The batch holding only the records C{kept} (spans of C{records}, from L{batch_records}).

    Everything but recordCount, batchLength, the records and the CRC is kept
    as stored; an empty C{kept} gives an empty batch without compression.
    """
    codec = header.attributes & CODEC_MASK
    attributes = header.attributes
    if kept:
        body = b"".join(records[span.start : span.end] for span in kept)
        if codec != CODEC_NONE:
            framing = bytes(memoryview(batch)[RECORDS_OFFSET : RECORDS_OFFSET + len(XERIAL_MAGIC)])
            xerial = codec != CODEC_SNAPPY or framing == XERIAL_MAGIC  # snappy: keep the producer's framing
            body = compress(codec, body, xerial=xerial)
    else:
        body = b""
        attributes &= ~CODEC_MASK
    out = bytearray(HEADER_SIZE + len(body))
    out[HEADER_SIZE:] = body
    HEADER.pack_into(
        out,
        0,
        header.base_offset,
        len(out) - LOG_OVERHEAD,
        header.partition_leader_epoch,
        header.magic,
        0,
        attributes,
        header.last_offset_delta,
        header.base_timestamp,
        header.max_timestamp,
        header.producer_id,
        header.producer_epoch,
        header.base_sequence,
        len(kept),
    )
    out[CRC_OFFSET:ATTRIBUTES_OFFSET] = compute_crc(out).to_bytes(4, "big")
    return bytes(out)
