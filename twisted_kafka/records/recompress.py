# -*- test-case-name: tests.records.test_recompress -*-
"""Broker-side recompression: a produced batch rewritten with its topic's codec.

A topic whose C{compression.type} names a codec (not C{producer}) stores
every batch with that codec: Kafka's C{LogValidator} rebuilds a produced
batch whose codec differs from the topic's, at produce time, before offsets
are assigned. L{recompress} is that rebuild. The records are kept byte for
byte (their offsetDeltas, timestampDeltas, keys, values and headers): only
the records section is decompressed and compressed again. The header keeps
baseOffset, partitionLeaderEpoch, lastOffsetDelta, baseTimestamp,
maxTimestamp, the producer id, epoch and baseSequence, recordCount and every
attribute bit but the codec's; batchLength and the CRC-32C are computed for
the new bytes. Snappy is written with the xerial framing the Java broker
writes (every client reads it).
"""

from __future__ import annotations

from twisted_kafka.records.batch import (
    ATTRIBUTES_OFFSET,
    BATCH_LENGTH_OFFSET,
    CODEC_MASK,
    CODEC_NONE,
    CRC_OFFSET,
    HEADER_SIZE,
    LOG_OVERHEAD,
    RECORDS_OFFSET,
    compute_crc,
    parse_header,
)
from twisted_kafka.records.compression import Buffer, compress, decompress

__all__ = ["recompress"]


def recompress(batch: Buffer, codec: int, level: int | None, max_size: int) -> bytearray:
    """The batch C{batch} with its records compressed with C{codec} instead.

    @param batch: one whole RecordBatch v2 whose records have been validated
        (L{twisted_kafka.records.batch.validate_produce_records}).
    @param codec: the codec id to store it with (0 for none).
    @param level: the codec's level (see
        L{twisted_kafka.records.compression.compress}); C{None}: its default.
    @param max_size: the most bytes the records may decompress to.
    @return: a new batch (a C{bytearray} the caller may change further);
        C{batch} is not changed.
    @raise KafkaError: C{INVALID_RECORD} if the records do not decompress
        within C{max_size} (L{twisted_kafka.records.compression.DecompressedTooLarge}).
    """
    header = parse_header(batch)
    end = header.batch_length + LOG_OVERHEAD
    view = memoryview(batch)
    section = view[RECORDS_OFFSET:end]
    old_codec = header.attributes & CODEC_MASK
    records: Buffer = section if old_codec == CODEC_NONE else decompress(old_codec, section, max_size)
    body = records if codec == CODEC_NONE else compress(codec, records, level=level)
    out = bytearray(HEADER_SIZE + len(body))
    out[:HEADER_SIZE] = view[:HEADER_SIZE]
    out[HEADER_SIZE:] = body
    out[BATCH_LENGTH_OFFSET:BATCH_LENGTH_OFFSET + 4] = (len(out) - LOG_OVERHEAD).to_bytes(4, "big")
    attributes = (header.attributes & ~CODEC_MASK) | codec
    out[ATTRIBUTES_OFFSET:ATTRIBUTES_OFFSET + 2] = attributes.to_bytes(2, "big", signed=True)
    out[CRC_OFFSET:ATTRIBUTES_OFFSET] = compute_crc(out).to_bytes(4, "big")
    return out
