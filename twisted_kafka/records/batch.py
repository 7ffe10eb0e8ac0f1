# -*- test-case-name: tests.records.test_batch -*-
"""The RecordBatch v2 header: parsing, validation, and in-place rewrites.

A v2 batch starts with a fixed 61-byte big-endian header::

    offset  size  field
         0     8  baseOffset            (rewritten by the broker; outside the CRC)
         8     4  batchLength           (bytes after this field)
        12     4  partitionLeaderEpoch  (outside the CRC)
        16     1  magic                 (2)
        17     4  crc                   (CRC-32C of bytes 21..end)
        21     2  attributes            (bits 0-2 codec, 3 timestampType,
                                         4 isTransactional, 5 isControl,
                                         6 hasDeleteHorizonMs)
        23     4  lastOffsetDelta
        27     8  baseTimestamp
        35     8  maxTimestamp
        43     8  producerId
        51     2  producerEpoch
        53     4  baseSequence
        57     4  recordCount
        61        records (compressed as a whole when the codec is not 0)

Everything here works on the header alone except
L{validate_produce_records}, which also decompresses and walks the records
of a produced batch (L{twisted_kafka.records.record_walk}).

Error codes follow Kafka 4 (C{ProduceRequest.validateRecords},
C{ByteBufferLogInputStream.nextBatchSize}, C{DefaultRecordBatch.ensureValid},
C{UnifiedLog.analyzeAndValidateRecords} and C{LogValidator.validateBatch}):

    - magic 0 or 1: C{INVALID_RECORD} ("only allowed to contain record batches
      with magic version 2"; Kafka 4 dropped message formats v0/v1 and answers
      INVALID_RECORD, not UNSUPPORTED_FOR_MESSAGE_FORMAT); any other magic
      than 0, 1, 2: C{CORRUPT_MESSAGE} ("Invalid magic found in record");
    - batchLength smaller than the header, a CRC mismatch, or (in
      L{split_batches}) a batch running past the end of the data:
      C{CORRUPT_MESSAGE};
    - recordCount / lastOffsetDelta inconsistent, empty batches, control
      batches, a producer id without a sequence, a non-zero baseOffset, zero
      or several batches in one produced partition: C{INVALID_RECORD};
    - codec bits 5-7: C{UNSUPPORTED_COMPRESSION_TYPE} (Kafka itself fails with
      an IllegalArgumentException, i.e. UNKNOWN_SERVER_ERROR);
    - zstd in a Produce request older than v7: C{UNSUPPORTED_COMPRESSION_TYPE}.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

from crc32c import crc32c

from twisted_kafka.errors import ErrorCode, KafkaError
from twisted_kafka.records.compression import DecompressedTooLarge, decompress
from twisted_kafka.records.record_format import Buffer, check_records
from twisted_kafka.records.record_walk import (
    InvalidTimestamps,
    KeylessRecords,
    keyless_message,
    keyless_records,
    out_of_range_timestamps,
    timestamp_message,
    walk_records,
)
from twisted_kafka.protocol.primitives import INT64_MAX, INT64_MIN

HEADER = struct.Struct(">qiibIhiqqqhii")
HEADER_SIZE = HEADER.size  # 61

BASE_OFFSET_OFFSET = 0
BATCH_LENGTH_OFFSET = 8
PARTITION_LEADER_EPOCH_OFFSET = 12
MAGIC_OFFSET = 16
CRC_OFFSET = 17
ATTRIBUTES_OFFSET = 21
LAST_OFFSET_DELTA_OFFSET = 23
BASE_TIMESTAMP_OFFSET = 27
MAX_TIMESTAMP_OFFSET = 35
PRODUCER_ID_OFFSET = 43
PRODUCER_EPOCH_OFFSET = 51
BASE_SEQUENCE_OFFSET = 53
RECORD_COUNT_OFFSET = 57
RECORDS_OFFSET = 61

#: baseOffset + batchLength: the bytes not counted by batchLength.
LOG_OVERHEAD = 12
#: The smallest legal batchLength (a header and no records).
MIN_BATCH_LENGTH = HEADER_SIZE - LOG_OVERHEAD

MAGIC_V2 = 2

CODEC_MASK = 0x07
TIMESTAMP_TYPE_MASK = 0x08
TRANSACTIONAL_MASK = 0x10
CONTROL_MASK = 0x20
DELETE_HORIZON_MASK = 0x40

CODEC_NONE = 0
CODEC_GZIP = 1
CODEC_SNAPPY = 2
CODEC_LZ4 = 3
CODEC_ZSTD = 4
#: The highest codec id Kafka knows.
MAX_CODEC = CODEC_ZSTD

TIMESTAMP_CREATE_TIME = 0
TIMESTAMP_LOG_APPEND_TIME = 1

NO_PRODUCER_ID = -1
NO_TIMESTAMP = -1

_INT16 = struct.Struct(">h")
_INT32 = struct.Struct(">i")
_UINT32 = struct.Struct(">I")
_INT64 = struct.Struct(">q")
_LENGTH_MAGIC = struct.Struct(">i4xb")  # batchLength, (epoch), magic


class BatchHeader(NamedTuple):
    """The 61-byte header of a RecordBatch v2, field by field."""

    base_offset: int
    batch_length: int
    partition_leader_epoch: int
    magic: int
    crc: int
    attributes: int
    last_offset_delta: int
    base_timestamp: int
    max_timestamp: int
    producer_id: int
    producer_epoch: int
    base_sequence: int
    record_count: int

    @property
    def size(self) -> int:
        """The whole batch's size in bytes, header included."""
        return self.batch_length + LOG_OVERHEAD

    @property
    def codec(self) -> int:
        """The compression codec id (attributes bits 0-2)."""
        return self.attributes & CODEC_MASK

    @property
    def timestamp_type(self) -> int:
        """0 for CreateTime, 1 for LogAppendTime."""
        return (self.attributes & TIMESTAMP_TYPE_MASK) >> 3

    @property
    def is_transactional(self) -> bool:
        """Whether the batch belongs to a transaction."""
        return bool(self.attributes & TRANSACTIONAL_MASK)

    @property
    def is_control(self) -> bool:
        """Whether the batch holds control records (transaction markers)."""
        return bool(self.attributes & CONTROL_MASK)

    @property
    def has_delete_horizon(self) -> bool:
        """Whether baseTimestamp holds a compaction delete horizon."""
        return bool(self.attributes & DELETE_HORIZON_MASK)

    @property
    def last_offset(self) -> int:
        """The offset of the batch's last record (as the header claims it)."""
        return self.base_offset + self.last_offset_delta

    @property
    def next_offset(self) -> int:
        """The offset following this batch."""
        return self.base_offset + self.last_offset_delta + 1


def parse_header(buf: bytes | bytearray | memoryview, pos: int = 0) -> BatchHeader:
    """Read the 61-byte batch header at C{pos} of C{buf}, without checking it.

    @raise KafkaError: C{CORRUPT_MESSAGE} if fewer than 61 bytes are left.
    """
    if len(buf) - pos < HEADER_SIZE:
        raise KafkaError(
            ErrorCode.CORRUPT_MESSAGE,
            f"record batch at byte {pos} is truncated: {len(buf) - pos} bytes "
            f"left, the v2 header needs {HEADER_SIZE}",
        )
    return BatchHeader._make(HEADER.unpack_from(buf, pos))


def _check_magic(magic: int, pos: int) -> None:
    """Refuse a batch whose magic byte is not 2, the way Kafka 4 does."""
    if magic == MAGIC_V2:
        return
    if magic in (0, 1):
        raise KafkaError(
            ErrorCode.INVALID_RECORD,
            f"record batch at byte {pos} has magic {magic}: only record "
            f"batches with magic version 2 are supported",
        )
    raise KafkaError(
        ErrorCode.CORRUPT_MESSAGE,
        f"record batch at byte {pos} has invalid magic {magic}",
    )


def _check_batch(view: memoryview, pos: int, available: int) -> tuple[int, BatchHeader]:
    """Check the batch at C{pos}; return its end and header.

    C{available} is C{len(view)}. Checks, in this order: enough bytes for the
    length and magic, magic, batchLength against the header size and the
    bytes present, the CRC-32C, then the header's own consistency (codec,
    recordCount, lastOffsetDelta).
    """
    left = available - pos
    if left < MAGIC_OFFSET + 1:
        raise KafkaError(
            ErrorCode.CORRUPT_MESSAGE,
            f"record batch at byte {pos} is truncated: {left} bytes left",
        )
    batch_length, magic = _LENGTH_MAGIC.unpack_from(view, pos + BATCH_LENGTH_OFFSET)
    _check_magic(magic, pos)
    if batch_length < MIN_BATCH_LENGTH:
        raise KafkaError(
            ErrorCode.CORRUPT_MESSAGE,
            f"record batch at byte {pos} has batchLength {batch_length}, "
            f"smaller than the header's {MIN_BATCH_LENGTH}",
        )
    end = pos + LOG_OVERHEAD + batch_length
    if end > available:
        raise KafkaError(
            ErrorCode.CORRUPT_MESSAGE,
            f"record batch at byte {pos} declares batchLength {batch_length} "
            f"but only {left - LOG_OVERHEAD} bytes follow",
        )
    header = BatchHeader._make(HEADER.unpack_from(view, pos))
    actual = crc32c(view[pos + ATTRIBUTES_OFFSET : end])
    if actual != header.crc:
        raise KafkaError(
            ErrorCode.CORRUPT_MESSAGE,
            f"record batch at byte {pos} is corrupt: stored CRC-32C "
            f"{header.crc:#010x}, computed {actual:#010x}",
        )
    codec = header.attributes & CODEC_MASK
    if codec > MAX_CODEC:
        raise KafkaError(
            ErrorCode.UNSUPPORTED_COMPRESSION_TYPE,
            f"record batch at byte {pos} uses unknown compression codec {codec}",
        )
    count = header.record_count
    if count < 0:
        raise KafkaError(
            ErrorCode.INVALID_RECORD,
            f"record batch at byte {pos} has negative recordCount {count}",
        )
    if count > header.last_offset_delta + 1:
        # fewer records than offsets is a compacted batch (the log cleaner keeps
        # lastOffsetDelta); a produced batch must hold exactly one per offset
        raise KafkaError(
            ErrorCode.INVALID_RECORD,
            f"record batch at byte {pos}: lastOffsetDelta "
            f"{header.last_offset_delta} is inconsistent with recordCount {count}",
        )
    return end, header


def split_batches(data: bytes | bytearray | memoryview) -> list[tuple[int, int, BatchHeader]]:
    """Split a records blob into its batches, checking each header and CRC.

    @return: C{(start, end, header)} for every batch, in order; C{data[start:end]}
        is the whole batch.
    @raise KafkaError: with the code given in the module docstring for the
        first batch that is malformed; trailing bytes that do not form a whole
        batch are C{CORRUPT_MESSAGE}.
    """
    view = memoryview(data)
    available = len(view)
    batches: list[tuple[int, int, BatchHeader]] = []
    pos = 0
    while pos < available:
        end, header = _check_batch(view, pos, available)
        batches.append((pos, end, header))
        pos = end
    return batches


#: Every batch may inflate to this many bytes, whatever its compression ratio.
MIN_DECOMPRESSED_ALLOWANCE = 1 << 20


def validate_produce_records(
    data: bytes | bytearray | memoryview,
    *,
    full: bool,
    max_decompressed: int,
    max_ratio: int = 0,
    produce_version: int | None = None,
    require_keys: str | None = None,
    timestamp_bounds: tuple[int, int] | None = None,
) -> list[tuple[int, int, BatchHeader]]:
    """Check the records of one partition of a Produce request (v3 and later).

    Kafka 4 requires exactly one complete v2 batch per partition. A section
    whose first batch is incomplete (including an empty section) is
    C{INVALID_RECORD} "must have at least one record batch", as in Kafka; any
    bytes after the first batch are C{INVALID_RECORD} "exactly one record
    batch" (Kafka silently drops a trailing partial batch; we refuse it).

    Then, as Kafka does for batches coming from clients: baseOffset must be 0,
    recordCount must be positive and match lastOffsetDelta, control batches
    are refused, and a producer id needs a non-negative baseSequence (all
    C{INVALID_RECORD}); zstd needs Produce v7 (C{UNSUPPORTED_COMPRESSION_TYPE})
    when C{produce_version} is given.

    Then the records are walked (L{twisted_kafka.records.record_walk}),
    decompressed first if the batch is compressed: their number, lengths and
    offsetDeltas must match the header (C{INVALID_RECORD}) and every
    record's timestamp must be a 64-bit value (C{INVALID_TIMESTAMP}).
    Decompression stops, refusing the batch with C{INVALID_RECORD}, past
    C{max_decompressed} bytes or past C{max_ratio} times the compressed size
    (when C{max_ratio} is positive; any batch may inflate to 1 MiB).  With
    C{full}, every record's key, value and headers are checked too
    (L{twisted_kafka.records.record_format.check_records}).  With
    C{require_keys} (the partition's name: it is compacted), a record without
    a key refuses the batch with L{KeylessRecords}.  With
    C{timestamp_bounds} C{(earliest, latest)} (the partition's
    C{message.timestamp.before.max.ms} and C{after.max.ms} around the
    broker's clock), a record whose timestamp is outside them (-1, no
    timestamp, never is) refuses the batch with L{InvalidTimestamps}, which
    also lists any keyless record, as Kafka's C{LogValidator} does; only the
    batch's smallest and largest timestamps are compared unless one is out.
    A LogAppendTime batch's records all have its maxTimestamp.

    @return: a one-element list C{[(0, end, header)]}, the shape of
        L{split_batches}.  The header's C{max_timestamp} is the largest
        record timestamp (a CreateTime batch whose header says otherwise is
        stored with the right one, as Kafka's C{LogValidator} rewrites it);
        see L{with_max_timestamp}.
    @raise KafkaError: on the first problem found.
    """
    view = memoryview(data)
    available = len(view)
    if available < MAGIC_OFFSET + 1 or (
        LOG_OVERHEAD + _INT32.unpack_from(view, BATCH_LENGTH_OFFSET)[0] > available
    ):
        raise KafkaError(
            ErrorCode.INVALID_RECORD,
            f"Produce requests must have at least one record batch per partition "
            f"(got {available} bytes, not a whole batch)",
        )
    end, header = _check_batch(view, 0, available)
    if end != available:
        raise KafkaError(
            ErrorCode.INVALID_RECORD,
            f"Produce requests are only allowed to contain exactly one record "
            f"batch per partition ({available - end} bytes follow the first)",
        )
    _check_client_batch(header, produce_version)
    records, start, stop, low_delta, high_delta = _walk_batch_records(
        view, end, header, max_decompressed, max_ratio, full)
    if not header.attributes & TIMESTAMP_TYPE_MASK:
        base = header.base_timestamp
        low, high = base + low_delta, base + high_delta
        if high > INT64_MAX or low < INT64_MIN:
            raise KafkaError(
                ErrorCode.INVALID_TIMESTAMP,
                f"record timestamps overflow a 64-bit integer: baseTimestamp {base} "
                f"with timestampDeltas {low_delta}..{high_delta}",
            )
        if high != header.max_timestamp:
            header = header._replace(max_timestamp=high)
    else:
        low = high = header.max_timestamp
    if timestamp_bounds is not None and (low < timestamp_bounds[0] or high > timestamp_bounds[1]):
        _check_timestamps(records, start, stop, header, timestamp_bounds, require_keys)
    if require_keys is not None:
        _check_keys(records, start, stop, header.record_count, require_keys)
    return [(0, end, header)]


def _check_timestamps(buf: Buffer, pos: int, end: int, header: BatchHeader,
                      bounds: tuple[int, int], require_keys: str | None) -> None:
    """Refuse the walked records if a timestamp is outside C{bounds}, naming each record.

    Keyless records (with C{require_keys}) are named too; a record with both
    faults is named for its key, as Kafka's C{LogValidator} checks the key first.
    """
    earliest, latest = bounds
    count = header.record_count
    if header.attributes & TIMESTAMP_TYPE_MASK:
        # a LogAppendTime batch: every record has its maxTimestamp
        stamped = header.max_timestamp
        stale = [] if stamped == NO_TIMESTAMP else [(index, stamped) for index in range(count)]
    else:
        stale = out_of_range_timestamps(buf, pos, end, count, header.base_timestamp, earliest, latest)
    if not stale:
        return  # only records without a timestamp (-1) were below the bounds
    errors = {index: timestamp_message(timestamp, index, earliest, latest) for index, timestamp in stale}
    if require_keys is not None:
        message = keyless_message(require_keys)
        errors.update((index, message) for index in keyless_records(buf, pos, end, count))
    raise InvalidTimestamps(sorted(errors.items()))


def _check_client_batch(header: BatchHeader, produce_version: int | None) -> None:
    """Apply Kafka's checks for a batch appended by a client."""
    if header.base_offset != 0:
        raise KafkaError(
            ErrorCode.INVALID_RECORD,
            f"the baseOffset of a produced record batch should be 0, "
            f"but it is {header.base_offset}",
        )
    if header.record_count <= 0:
        raise KafkaError(
            ErrorCode.INVALID_RECORD,
            f"Invalid reported count for record batch: {header.record_count}",
        )
    if header.last_offset_delta != header.record_count - 1:
        raise KafkaError(
            ErrorCode.INVALID_RECORD,
            f"lastOffsetDelta {header.last_offset_delta} is inconsistent with "
            f"recordCount {header.record_count}",
        )
    if header.attributes & CONTROL_MASK:
        raise KafkaError(
            ErrorCode.INVALID_RECORD, "Clients are not allowed to write control records"
        )
    if header.producer_id >= 0 and header.base_sequence < 0:
        raise KafkaError(
            ErrorCode.INVALID_RECORD,
            f"Invalid sequence number {header.base_sequence} in record batch "
            f"with producerId {header.producer_id}",
        )
    if (
        produce_version is not None
        and produce_version < 7
        and header.attributes & CODEC_MASK == CODEC_ZSTD
    ):
        raise KafkaError(
            ErrorCode.UNSUPPORTED_COMPRESSION_TYPE,
            f"Produce requests with version {produce_version} are not allowed "
            f"to use ZStandard compression",
        )


def _walk_batch_records(
    view: memoryview, end: int, header: BatchHeader, max_decompressed: int, max_ratio: int,
    full: bool,
) -> tuple[Buffer, int, int, int, int]:
    """Decompress (bounded) and walk the records of the batch ending at C{end}.

    @return: the records (C{view} itself or the decompressed bytes), where
        they start and end in it, and the smallest and largest
        timestampDelta (L{walk_records}).
    """
    codec = header.attributes & CODEC_MASK
    count = header.record_count
    if codec == CODEC_NONE:
        if full:
            check_records(view, RECORDS_OFFSET, end, count)
        low, high = walk_records(view, RECORDS_OFFSET, end, count)
        return view, RECORDS_OFFSET, end, low, high
    compressed = end - RECORDS_OFFSET
    limit = max_decompressed
    if max_ratio > 0:
        limit = min(limit, max(MIN_DECOMPRESSED_ALLOWANCE, compressed * max_ratio))
    try:
        body = decompress(codec, view[RECORDS_OFFSET:end], limit)
    except DecompressedTooLarge as e:
        if limit == max_decompressed:
            raise
        raise KafkaError(
            e.code, f"{e.message}: more than {max_ratio} times its {compressed} compressed bytes"
        ) from None
    if full:
        check_records(body, 0, len(body), count)
    low, high = walk_records(body, 0, len(body), count)
    return body, 0, len(body), low, high


def _check_keys(buf: bytes | bytearray | memoryview, pos: int, end: int, count: int,
                where: str) -> None:
    """Refuse the walked records if any has no key (a compacted topic's rule)."""
    keyless = keyless_records(buf, pos, end, count)
    if keyless:
        raise KeylessRecords(keyless, where)


def stated_max_timestamp(data: bytes | bytearray | memoryview, pos: int = 0) -> int:
    """The maxTimestamp field of the batch at C{pos}, as its bytes say."""
    return int(_INT64.unpack_from(data, pos + MAX_TIMESTAMP_OFFSET)[0])


def with_max_timestamp(data: bytes | bytearray | memoryview, max_timestamp: int) -> bytearray:
    """Return a copy of the batch C{data} whose maxTimestamp is C{max_timestamp}.

    The CRC is recomputed; the timestamp type is left as it is.
    """
    copy = bytearray(data)
    _INT64.pack_into(copy, MAX_TIMESTAMP_OFFSET, max_timestamp)
    _UINT32.pack_into(copy, CRC_OFFSET, compute_crc(copy, 0))
    return copy


def compute_crc(buf: bytes | bytearray | memoryview, pos: int = 0) -> int:
    """The CRC-32C the batch at C{pos} of C{buf} should carry.

    Uses the batchLength stored in the buffer; reads without copying.
    """
    (batch_length,) = _INT32.unpack_from(buf, pos + BATCH_LENGTH_OFFSET)
    end = pos + LOG_OVERHEAD + batch_length
    with memoryview(buf) as view:
        return crc32c(view[pos + ATTRIBUTES_OFFSET : end])


def set_base_offset(buf: bytearray, pos: int, base_offset: int) -> None:
    """Rewrite the baseOffset of the batch at C{pos} (outside the CRC)."""
    _INT64.pack_into(buf, pos + BASE_OFFSET_OFFSET, base_offset)


def set_partition_leader_epoch(buf: bytearray, pos: int, epoch: int) -> None:
    """Rewrite the partitionLeaderEpoch of the batch at C{pos} (outside the CRC)."""
    _INT32.pack_into(buf, pos + PARTITION_LEADER_EPOCH_OFFSET, epoch)


def set_log_append_time(buf: bytearray, pos: int, timestamp_ms: int) -> None:
    """Stamp the batch at C{pos} with LogAppendTime C{timestamp_ms}.

    Sets maxTimestamp and the timestampType attribute bit and recomputes the
    CRC, like Kafka's C{DefaultRecordBatch.setMaxTimestamp}; baseTimestamp and
    the records are left alone (readers take every record's timestamp from
    maxTimestamp when the bit is set).
    """
    (attributes,) = _INT16.unpack_from(buf, pos + ATTRIBUTES_OFFSET)
    _INT16.pack_into(buf, pos + ATTRIBUTES_OFFSET, attributes | TIMESTAMP_TYPE_MASK)
    _INT64.pack_into(buf, pos + MAX_TIMESTAMP_OFFSET, timestamp_ms)
    _UINT32.pack_into(buf, pos + CRC_OFFSET, compute_crc(buf, pos))
