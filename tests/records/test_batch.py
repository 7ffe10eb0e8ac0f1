# -*- test-case-name: tests.records.test_batch -*-
"""Tests for L{twisted_kafka.records.batch}: header, checks and rewrites."""

from __future__ import annotations

import random
import struct

from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.errors import ErrorCode, KafkaError
from twisted_kafka.records import batch as B
from twisted_kafka.records.batch import (
    HEADER,
    BatchHeader,
    compute_crc,
    parse_header,
    set_base_offset,
    set_log_append_time,
    set_partition_leader_epoch,
    split_batches,
    validate_produce_records,
)
from twisted_kafka.records.compression import compress
from twisted_kafka.records.record import build_batch
from twisted_kafka.records.record_format import write_varint
from twisted_kafka.records.record_walk import InvalidTimestamps, KeylessRecords

from ._helpers import SAMPLE_RECORDS, error_code, patched, raw_record, sample_batch, with_payload

CAP = 1 << 20


def produce(data: bytes, full: bool = False, **kwargs: object) -> list[tuple[int, int, BatchHeader]]:
    """Call L{validate_produce_records} with a 1 MiB cap."""
    return validate_produce_records(data, full=full, max_decompressed=CAP, **kwargs)  # type: ignore[arg-type]


class HeaderLayoutTests(SynchronousTestCase):
    """The header struct and the named offsets agree with the v2 layout."""

    def test_size(self) -> None:
        """The header is 61 bytes."""
        self.assertEqual(HEADER.size, 61)
        self.assertEqual(B.HEADER_SIZE, 61)
        self.assertEqual(B.RECORDS_OFFSET, 61)

    def test_offsets(self) -> None:
        """Each named offset is where the struct puts its field."""
        formats = "qiibIhiqqqhii"
        offsets = [
            B.BASE_OFFSET_OFFSET, B.BATCH_LENGTH_OFFSET,
            B.PARTITION_LEADER_EPOCH_OFFSET, B.MAGIC_OFFSET, B.CRC_OFFSET,
            B.ATTRIBUTES_OFFSET, B.LAST_OFFSET_DELTA_OFFSET,
            B.BASE_TIMESTAMP_OFFSET, B.MAX_TIMESTAMP_OFFSET,
            B.PRODUCER_ID_OFFSET, B.PRODUCER_EPOCH_OFFSET,
            B.BASE_SEQUENCE_OFFSET, B.RECORD_COUNT_OFFSET,
        ]
        for index, offset in enumerate(offsets):
            self.assertEqual(struct.calcsize(">" + formats[:index]), offset)

    def test_parse_header(self) -> None:
        """Every field of a built batch reads back, with the derived properties."""
        data = sample_batch(
            1, base_offset=42, producer_id=7, producer_epoch=3, base_sequence=9,
            is_transactional=True, partition_leader_epoch=5,
        )
        header = parse_header(b"xx" + data, 2)
        self.assertEqual(header.base_offset, 42)
        self.assertEqual(header.size, len(data))
        self.assertEqual(header.partition_leader_epoch, 5)
        self.assertEqual(header.magic, 2)
        self.assertEqual(header.crc, compute_crc(data))
        self.assertEqual(header.codec, 1)
        self.assertTrue(header.is_transactional)
        self.assertFalse(header.is_control)
        self.assertFalse(header.has_delete_horizon)
        self.assertEqual(header.timestamp_type, 0)
        self.assertEqual(header.last_offset_delta, 4)
        self.assertEqual(header.record_count, 5)
        self.assertEqual(header.last_offset, 46)
        self.assertEqual(header.next_offset, 47)
        self.assertEqual(header.base_timestamp, SAMPLE_RECORDS[0][3])
        self.assertEqual(header.max_timestamp, SAMPLE_RECORDS[-1][3])
        self.assertEqual((header.producer_id, header.producer_epoch, header.base_sequence), (7, 3, 9))

    def test_parse_header_short(self) -> None:
        """Fewer than 61 bytes is CORRUPT_MESSAGE."""
        self.assertEqual(error_code(parse_header, sample_batch()[:60]), ErrorCode.CORRUPT_MESSAGE)
        self.assertEqual(error_code(parse_header, sample_batch()[:61], 1), ErrorCode.CORRUPT_MESSAGE)


class SplitBatchesTests(SynchronousTestCase):
    """L{split_batches} finds and checks every batch of a blob."""

    def test_several(self) -> None:
        """Concatenated batches come back with their bounds, in order."""
        parts = [sample_batch(codec, base_offset=i * 5) for i, codec in enumerate(range(5))]
        data = b"".join(parts)
        found = split_batches(data)
        self.assertEqual([data[s:e] for s, e, _ in found], parts)
        self.assertEqual([h.base_offset for _, _, h in found], [0, 5, 10, 15, 20])

    def test_empty(self) -> None:
        """No bytes, no batches."""
        self.assertEqual(split_batches(b""), [])

    def test_accepts_bytearray_and_memoryview(self) -> None:
        """Any buffer works."""
        data = sample_batch()
        self.assertEqual(split_batches(bytearray(data)), split_batches(memoryview(data)))

    def test_empty_batch(self) -> None:
        """A batch with no records (as compaction leaves) is accepted."""
        data = with_payload(sample_batch(), b"", record_count=0)
        [(_, _, header)] = split_batches(data)
        self.assertEqual(header.record_count, 0)

    def test_crc_flips(self) -> None:
        """Flipping any byte the CRC covers, or the CRC itself, is CORRUPT_MESSAGE."""
        data = sample_batch()
        for position in [17, 18, 20, 21, 22, 23, 30, 40, 57, 60, 61, 100, len(data) - 1]:
            broken = bytearray(data)
            broken[position] ^= 0x01
            self.assertEqual(error_code(split_batches, bytes(broken)), ErrorCode.CORRUPT_MESSAGE, position)

    def test_flips_outside_crc(self) -> None:
        """baseOffset and partitionLeaderEpoch are outside the CRC."""
        data = bytearray(sample_batch())
        data[3] ^= 0xFF
        data[14] ^= 0xFF
        self.assertEqual(len(split_batches(bytes(data))), 1)

    def test_truncated(self) -> None:
        """A batch cut anywhere is CORRUPT_MESSAGE; so is a cut second batch."""
        data = sample_batch(3)
        for cut in range(1, len(data)):
            self.assertEqual(error_code(split_batches, data[:cut]), ErrorCode.CORRUPT_MESSAGE, cut)
            self.assertEqual(error_code(split_batches, data + data[:cut]), ErrorCode.CORRUPT_MESSAGE, cut)

    def test_length_too_long(self) -> None:
        """A batchLength claiming more bytes than present is CORRUPT_MESSAGE."""
        data = sample_batch()
        lying = patched(data, 8, "i", len(data) - 12 + 1)
        self.assertEqual(error_code(split_batches, lying), ErrorCode.CORRUPT_MESSAGE)

    def test_length_too_short(self) -> None:
        """A batchLength cutting the batch short fails its CRC: CORRUPT_MESSAGE."""
        data = sample_batch()
        for length in (len(data) - 13, 49, 60):
            lying = patched(data, 8, "i", length, crc=False)
            self.assertEqual(error_code(split_batches, lying), ErrorCode.CORRUPT_MESSAGE, length)

    def test_length_below_header(self) -> None:
        """A batchLength smaller than the header (or negative) is CORRUPT_MESSAGE."""
        data = sample_batch()
        for length in (48, 0, -1, -(2**31)):
            lying = patched(data, 8, "i", length, crc=False)
            self.assertEqual(error_code(split_batches, lying), ErrorCode.CORRUPT_MESSAGE, length)

    def test_last_offset_delta(self) -> None:
        """lastOffsetDelta below recordCount - 1 is INVALID_RECORD; above it is a compacted batch."""
        data = sample_batch()
        count = parse_header(data).record_count
        for delta in (count - 2, -1):
            self.assertEqual(
                error_code(split_batches, patched(data, 23, "i", delta)), ErrorCode.INVALID_RECORD
            )
        for delta in (count, 1000):
            [(_, _, header)] = split_batches(patched(data, 23, "i", delta))
            self.assertEqual(header.last_offset_delta, delta)

    def test_negative_count(self) -> None:
        """A negative recordCount is INVALID_RECORD."""
        data = patched(patched(sample_batch(), 57, "i", -1), 23, "i", -2)
        self.assertEqual(error_code(split_batches, data), ErrorCode.INVALID_RECORD)

    def test_unknown_codec(self) -> None:
        """Codec ids 5, 6 and 7 are UNSUPPORTED_COMPRESSION_TYPE."""
        for codec in (5, 6, 7):
            data = patched(sample_batch(), 21, "h", codec)
            self.assertEqual(error_code(split_batches, data), ErrorCode.UNSUPPORTED_COMPRESSION_TYPE)

    def test_old_magic(self) -> None:
        """Magic 0 and 1 are INVALID_RECORD, as Kafka 4 answers them."""
        for magic in (0, 1):
            data = patched(sample_batch(), 16, "b", magic)
            self.assertEqual(error_code(split_batches, data), ErrorCode.INVALID_RECORD)

    def test_bad_magic(self) -> None:
        """Any other magic but 2 is CORRUPT_MESSAGE ("Invalid magic found")."""
        for magic in (3, 127, -1):
            data = patched(sample_batch(), 16, "b", magic)
            self.assertEqual(error_code(split_batches, data), ErrorCode.CORRUPT_MESSAGE)

    def test_error_names_the_problem(self) -> None:
        """The error message says what was wrong."""
        data = bytearray(sample_batch())
        data[-1] ^= 1
        with self.assertRaises(KafkaError) as raised:
            split_batches(bytes(data))
        self.assertIn("CRC", str(raised.exception))


class ValidateProduceRecordsTests(SynchronousTestCase):
    """L{validate_produce_records} applies Kafka's rules for produced data."""

    def test_valid(self) -> None:
        """A valid batch of each codec passes, header-only and full."""
        for codec in range(5):
            data = sample_batch(codec)
            for full in (False, True):
                [(start, end, header)] = produce(data, full)
                self.assertEqual((start, end, header.codec), (0, len(data), codec))

    def test_no_batch(self) -> None:
        """Empty or incomplete data is INVALID_RECORD ("at least one record batch")."""
        data = sample_batch()
        for cut in (0, 1, 11, 12, 16, 17, 60, 61, len(data) - 1):
            self.assertEqual(error_code(produce, data[:cut]), ErrorCode.INVALID_RECORD, cut)

    def test_length_too_long(self) -> None:
        """A batch overrunning the section is not a batch: INVALID_RECORD, as in Kafka."""
        data = sample_batch()
        self.assertEqual(error_code(produce, patched(data, 8, "i", len(data))), ErrorCode.INVALID_RECORD)

    def test_two_batches(self) -> None:
        """More than one batch is INVALID_RECORD ("exactly one record batch")."""
        data = sample_batch()
        with self.assertRaises(KafkaError) as raised:
            produce(data + data)
        self.assertEqual(raised.exception.code, ErrorCode.INVALID_RECORD)
        self.assertIn("exactly one", str(raised.exception))

    def test_trailing_bytes(self) -> None:
        """Bytes after the batch are INVALID_RECORD too."""
        self.assertEqual(error_code(produce, sample_batch() + b"\x00"), ErrorCode.INVALID_RECORD)

    def test_corrupt(self) -> None:
        """A CRC mismatch is CORRUPT_MESSAGE."""
        data = bytearray(sample_batch())
        data[70] ^= 0x40
        self.assertEqual(error_code(produce, bytes(data)), ErrorCode.CORRUPT_MESSAGE)

    def test_base_offset(self) -> None:
        """A produced batch must have baseOffset 0."""
        self.assertEqual(error_code(produce, sample_batch(base_offset=3)), ErrorCode.INVALID_RECORD)

    def test_empty_batch(self) -> None:
        """Clients may not send a batch without records."""
        data = with_payload(sample_batch(), b"", record_count=0)
        self.assertEqual(error_code(produce, data), ErrorCode.INVALID_RECORD)

    def test_control_batch(self) -> None:
        """Clients may not write control batches, transactional or not."""
        for transactional in (False, True):
            data = sample_batch(
                is_control=True, is_transactional=transactional, producer_id=1,
                producer_epoch=0, base_sequence=0,
            )
            self.assertEqual(error_code(produce, data), ErrorCode.INVALID_RECORD)

    def test_transactional_batch(self) -> None:
        """A transactional (non-control) batch with a producer id passes."""
        data = sample_batch(is_transactional=True, producer_id=1, producer_epoch=0, base_sequence=0)
        self.assertEqual(len(produce(data, True)), 1)

    def test_producer_without_sequence(self) -> None:
        """A producer id needs a non-negative baseSequence."""
        data = sample_batch(producer_id=5, producer_epoch=0, base_sequence=-1)
        self.assertEqual(error_code(produce, data), ErrorCode.INVALID_RECORD)

    def test_zstd_needs_v7(self) -> None:
        """zstd in Produce v3-v6 is UNSUPPORTED_COMPRESSION_TYPE; v7 is fine."""
        data = sample_batch(4)
        self.assertEqual(
            error_code(produce, data, produce_version=6), ErrorCode.UNSUPPORTED_COMPRESSION_TYPE
        )
        self.assertEqual(len(produce(data, produce_version=7)), 1)
        self.assertEqual(len(produce(sample_batch(3), produce_version=3)), 1)

    def test_full_checks_records(self) -> None:
        """Broken record fields pass the default walk but not the full check."""
        body = sample_batch()[61:]
        # The last record's last header value (null, length zigzag(-1) = 1)
        # now claims one byte, past the record's end.
        data = with_payload(sample_batch(), body[:-1] + b"\x02")
        self.assertEqual(len(produce(data, False)), 1)
        self.assertEqual(error_code(produce, data, True), ErrorCode.INVALID_RECORD)

    def test_garbage_payload(self) -> None:
        """A compressed batch whose payload does not decompress is INVALID_RECORD."""
        for codec in (1, 2, 3, 4):
            data = with_payload(sample_batch(codec), b"this is not compressed data at all")
            for full in (False, True):
                self.assertEqual(error_code(produce, data, full), ErrorCode.INVALID_RECORD, codec)

    def test_fake_gzip(self) -> None:
        """A "gzip" batch of a gzip magic and garbage is INVALID_RECORD."""
        data = with_payload(sample_batch(1), bytes.fromhex("1f8b0800") + b"\xaa" * 40)
        self.assertEqual(error_code(produce, data), ErrorCode.INVALID_RECORD)

    def test_cap(self) -> None:
        """Compressed records inflating past the cap are refused."""
        for codec in range(1, 5):
            for full in (False, True):
                self.assertEqual(
                    error_code(validate_produce_records, sample_batch(codec), full=full,
                               max_decompressed=100),
                    ErrorCode.INVALID_RECORD,
                    codec,
                )

    def test_bomb(self) -> None:
        """A batch decompressing to 1 GiB is refused under a 1 MiB cap."""
        member = compress(1, bytes(1 << 20))
        data = with_payload(sample_batch(1), member * 1024)
        for full in (False, True):
            self.assertEqual(error_code(produce, data, full), ErrorCode.INVALID_RECORD)

    def test_ratio(self) -> None:
        """Past C{max_ratio} times its compressed size (and 1 MiB) a batch is refused."""
        records = [(None, bytes(100_000), [], 1_700_000_000_000)] * 30
        data = build_batch(records, codec=4)
        self.assertLess(len(data) * 1000, 3_000_000)
        with self.assertRaises(KafkaError) as caught:
            validate_produce_records(data, full=False, max_decompressed=64 << 20, max_ratio=1000)
        self.assertEqual(caught.exception.code, ErrorCode.INVALID_RECORD)
        self.assertIn("1000 times", caught.exception.message or "")
        # No ratio limit, or a small batch under the 1 MiB allowance: accepted.
        self.assertEqual(len(validate_produce_records(
            data, full=False, max_decompressed=64 << 20, max_ratio=0)), 1)
        small = build_batch([(None, bytes(500_000), [], 1)], codec=4)
        self.assertEqual(len(validate_produce_records(
            small, full=False, max_decompressed=64 << 20, max_ratio=2)), 1)

    def test_offsets_beyond_records(self) -> None:
        """A produced batch spanning more offsets than it has records (a compacted batch's shape) is INVALID_RECORD."""
        data = sample_batch()
        count = parse_header(data).record_count
        self.assertEqual(error_code(produce, patched(data, 23, "i", count)), ErrorCode.INVALID_RECORD)

    def test_count_lies(self) -> None:
        """A header whose recordCount is not the number of records is INVALID_RECORD."""
        three = sample_batch()[:61] + b"".join(
            build_batch([r])[61:] for r in SAMPLE_RECORDS[:3])
        for codec in range(5):
            one = with_payload(sample_batch(codec), sample_batch(codec)[61:], record_count=1)
            self.assertEqual(error_code(produce, one), ErrorCode.INVALID_RECORD, codec)
        # Three records whose offsetDeltas are all 0, under a header saying 3.
        self.assertEqual(error_code(produce, with_payload(three, three[61:], record_count=3)),
                         ErrorCode.INVALID_RECORD)
        # 2^31-1 records claimed by a 72-byte batch holding one.
        huge = with_payload(sample_batch(), build_batch([SAMPLE_RECORDS[0]])[61:],
                            record_count=2**31 - 1)
        self.assertEqual(error_code(produce, huge), ErrorCode.INVALID_RECORD)

    def test_random_records(self) -> None:
        """Random bytes as the records section are INVALID_RECORD."""
        rng = random.Random(19)
        for _ in range(200):
            payload = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300)))
            data = with_payload(sample_batch(), payload, record_count=rng.randrange(1, 6))
            self.assertEqual(error_code(produce, data), ErrorCode.INVALID_RECORD)

    def test_huge_record_length(self) -> None:
        """A record length varint of 2^31-1 is INVALID_RECORD."""
        out = bytearray()
        write_varint(2**31 - 1, out)
        data = with_payload(sample_batch(), bytes(out) + b"\x00" * 20, record_count=1)
        self.assertEqual(error_code(produce, data), ErrorCode.INVALID_RECORD)

    def test_timestamp_overflow(self) -> None:
        """A record timestamp outside 64 bits is INVALID_TIMESTAMP, in either direction."""
        def batch(base: int, second_delta: int) -> bytes:
            data = patched(sample_batch(), B.BASE_TIMESTAMP_OFFSET, "q", base)
            data = patched(data, B.MAX_TIMESTAMP_OFFSET, "q", base)
            return with_payload(data, raw_record(0, 0, 0, 1, b"k", 1, b"v", 0)
                                + raw_record(0, second_delta, 1, 1, b"k", 1, b"v", 0),
                                record_count=2)

        self.assertEqual(error_code(produce, batch(2**63 - 1, 1)), ErrorCode.INVALID_TIMESTAMP)
        self.assertEqual(error_code(produce, batch(-(2**63), -1)), ErrorCode.INVALID_TIMESTAMP)
        self.assertEqual(len(produce(batch(2**63 - 2, 1))), 1)

    def test_max_timestamp_corrected(self) -> None:
        """The returned header carries the records' largest timestamp."""
        data = patched(sample_batch(), B.MAX_TIMESTAMP_OFFSET, "q", 2**63 - 1)
        [(_, _, header)] = produce(data)
        self.assertEqual(header.max_timestamp, SAMPLE_RECORDS[-1][3])
        self.assertEqual(B.stated_max_timestamp(data), 2**63 - 1)
        fixed = B.with_max_timestamp(data, header.max_timestamp)
        [(_, _, stored)] = split_batches(fixed)
        self.assertEqual(stored.max_timestamp, SAMPLE_RECORDS[-1][3])


class TimestampBoundsTests(SynchronousTestCase):
    """With C{timestamp_bounds}, records outside them refuse the batch with INVALID_TIMESTAMP, each named."""

    NOW = 1_700_000_000_000

    def records(self, *timestamps: int, keys: bool = True) -> list[tuple[bytes | None, bytes, list, int]]:
        """One record per timestamp, keyed C{k<index>} (or keyless with C{keys=False})."""
        return [(b"k%d" % i if keys else None, b"v", [], t) for i, t in enumerate(timestamps)]

    def refused(self, data: bytes, bounds: tuple[int, int], **kwargs: object) -> InvalidTimestamps:
        """The L{InvalidTimestamps} validating C{data} within C{bounds} raises."""
        with self.assertRaises(InvalidTimestamps) as raised:
            produce(data, timestamp_bounds=bounds, **kwargs)
        self.assertEqual(raised.exception.code, ErrorCode.INVALID_TIMESTAMP)
        self.assertEqual(raised.exception.message,
                         "One or more records have been rejected due to invalid timestamp")
        return raised.exception

    def test_within(self) -> None:
        """Timestamps at the bounds themselves, of every codec, pass."""
        bounds = (self.NOW - 10, self.NOW + 10)
        for codec in range(5):
            data = build_batch(self.records(self.NOW - 10, self.NOW, self.NOW + 10), codec=codec)
            self.assertEqual(len(produce(data, timestamp_bounds=bounds)), 1)

    def test_each_named(self) -> None:
        """Every record outside is named with Kafka's message, in batch order, compressed or not."""
        bounds = (self.NOW - 1000, self.NOW + 3_600_000)
        timestamps = (self.NOW, self.NOW + 3_600_001, self.NOW - 5000, self.NOW + 1)
        for codec in (0, 1, 4):
            error = self.refused(build_batch(self.records(*timestamps), codec=codec), bounds)
            self.assertEqual(error.record_errors, [
                (1, f"Timestamp {self.NOW + 3_600_001} of message with offset 1 is out of range. "
                    f"The timestamp should be within [{self.NOW - 1000}, {self.NOW + 3_600_000}]"),
                (2, f"Timestamp {self.NOW - 5000} of message with offset 2 is out of range. "
                    f"The timestamp should be within [{self.NOW - 1000}, {self.NOW + 3_600_000}]"),
            ])

    def test_no_timestamp_never_out(self) -> None:
        """A record without a timestamp (-1) is below any bound yet never refused."""
        data = build_batch(self.records(-1, self.NOW))
        self.assertEqual(len(produce(data, timestamp_bounds=(self.NOW - 10, self.NOW + 10))), 1)
        error = self.refused(build_batch(self.records(-1, self.NOW - 11)), (self.NOW - 10, self.NOW + 10))
        self.assertEqual([index for index, _ in error.record_errors], [1])

    def test_unchecked_without_bounds(self) -> None:
        """Without bounds (LogAppendTime topics, unbounded configs) any timestamp passes."""
        self.assertEqual(len(produce(build_batch(self.records(0, 2**62)))), 1)

    def test_log_append_time_batch(self) -> None:
        """A batch with the LogAppendTime bit is judged by its maxTimestamp, for every record."""
        data = build_batch(self.records(self.NOW, self.NOW), timestamp_type=1)
        self.assertEqual(len(produce(data, timestamp_bounds=(self.NOW, self.NOW))), 1)
        error = self.refused(data, (self.NOW + 1, self.NOW + 2))
        self.assertEqual([index for index, _ in error.record_errors], [0, 1])

    def test_with_keyless_records(self) -> None:
        """On a compacted topic keyless records are listed too (a record with both faults for its key)."""
        records = self.records(self.NOW, self.NOW + 100, self.NOW + 100) + [(None, b"v", [], self.NOW)]
        records[2] = (None, b"v", [], self.NOW + 100)
        error = self.refused(build_batch(records), (self.NOW, self.NOW + 10), require_keys="c-0")
        keyless = "Compacted topic cannot accept message without key in topic partition c-0."
        self.assertEqual([(i, m if m == keyless else "stale") for i, m in error.record_errors],
                         [(1, "stale"), (2, keyless), (3, keyless)])
        # in bounds, the keyless records alone are INVALID_RECORD
        with self.assertRaises(KeylessRecords):
            produce(build_batch(records), timestamp_bounds=(self.NOW, self.NOW + 100), require_keys="c-0")


class RewriteTests(SynchronousTestCase):
    """In-place rewrites keep the batch valid."""

    def test_set_base_offset(self) -> None:
        """baseOffset changes and the CRC still holds."""
        data = bytearray(b"pad" + sample_batch(2))
        set_base_offset(data, 3, 123456789012)
        [(_, _, header)] = split_batches(bytes(data[3:]))
        self.assertEqual(header.base_offset, 123456789012)

    def test_set_partition_leader_epoch(self) -> None:
        """partitionLeaderEpoch changes and the CRC still holds."""
        data = bytearray(sample_batch())
        set_partition_leader_epoch(data, 0, 17)
        [(_, _, header)] = split_batches(data)
        self.assertEqual(header.partition_leader_epoch, 17)

    def test_set_log_append_time(self) -> None:
        """Only maxTimestamp, the timestampType bit and the CRC change."""
        original = b"pad" + sample_batch(3, producer_id=4, producer_epoch=1, base_sequence=8)
        data = bytearray(original)
        set_log_append_time(data, 3, 1_800_000_000_000)
        [(_, _, after)] = split_batches(bytes(data[3:]))
        before = parse_header(original, 3)
        self.assertEqual(after.max_timestamp, 1_800_000_000_000)
        self.assertEqual(after.timestamp_type, 1)
        self.assertEqual(after.attributes, before.attributes | 0x08)
        self.assertNotEqual(after.crc, before.crc)
        self.assertEqual(
            after._replace(max_timestamp=0, attributes=0, crc=0),
            before._replace(max_timestamp=0, attributes=0, crc=0),
        )
        self.assertEqual(data[:3], original[:3])
        self.assertEqual(data[3 + 61 :], original[3 + 61 :])

    def test_compute_crc(self) -> None:
        """compute_crc matches the stored CRC of a built batch."""
        data = sample_batch(1)
        self.assertEqual(compute_crc(b"xyz" + data, 3), parse_header(data).crc)
