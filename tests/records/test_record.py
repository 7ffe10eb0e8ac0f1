# -*- test-case-name: tests.records.test_record -*-
"""Tests for L{twisted_kafka.records.record} and L{twisted_kafka.records.record_format}."""

from __future__ import annotations

import random
import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.errors import ErrorCode, KafkaError
from twisted_kafka.records.batch import (
    BatchHeader,
    compute_crc,
    parse_header,
    set_log_append_time,
    split_batches,
    validate_produce_records,
)
from twisted_kafka.records.record import (
    BudgetSpent, DecompressionBudget, Record, build_batch, iter_records, record_times)
from twisted_kafka.records.record_format import check_records, read_varint, write_varint

from ._helpers import SAMPLE_RECORDS, error_code, mutate, raw_record, sample_batch, with_payload

CAP = 1 << 20
CODECS = range(5)


def read_back(data: bytes) -> list[Record]:
    """Every record of the single batch in C{data}."""
    [(start, end, header)] = split_batches(data)
    return list(iter_records(data[start:end], header, CAP))


def full_check(data: bytes) -> None:
    """Run the full produce validation on C{data}."""
    validate_produce_records(data, full=True, max_decompressed=CAP)


class VarintTests(SynchronousTestCase):
    """Zigzag varints, both ways."""

    def test_known_encodings(self) -> None:
        """Values encode as Kafka's ByteUtils.writeVarlong does."""
        cases = {0: b"\x00", -1: b"\x01", 1: b"\x02", -64: b"\x7f", 64: b"\x80\x01",
                 300: b"\xd8\x04", 2**31 - 1: b"\xfe\xff\xff\xff\x0f",
                 -(2**63): b"\xff" * 9 + b"\x01"}
        for value, encoded in cases.items():
            out = bytearray()
            write_varint(value, out)
            self.assertEqual(bytes(out), encoded, value)
            self.assertEqual(read_varint(encoded, 0), (value, len(encoded)))

    def test_too_long(self) -> None:
        """An eleven-byte varint is INVALID_RECORD."""
        self.assertEqual(error_code(read_varint, b"\x80" * 10 + b"\x01", 0), ErrorCode.INVALID_RECORD)

    @given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
    def test_round_trip(self, value: int) -> None:
        """Any int64 round-trips."""
        out = bytearray()
        write_varint(value, out)
        self.assertEqual(read_varint(bytes(out), 0), (value, len(out)))


class IterRecordsTests(SynchronousTestCase):
    """L{iter_records} reads what L{build_batch} writes."""

    def test_every_codec(self) -> None:
        """Keys, values, headers, offsets and timestamps come back for each codec."""
        for codec in CODECS:
            records = read_back(sample_batch(codec, base_offset=100))
            self.assertEqual(
                records,
                [Record(100 + i, ts, k, v, list(h)) for i, (k, v, h, ts) in enumerate(SAMPLE_RECORDS)],
            )

    def test_nulls_and_empties(self) -> None:
        """Null and empty keys/values/header values stay distinct."""
        fields = [(None, None, [], 5), (b"", b"", [("", b"")], 3), (b"k", None, [("h", None)], 9)]
        records = read_back(build_batch(fields))
        self.assertEqual([(r.key, r.value, r.headers, r.timestamp) for r in records],
                         [(k, v, h, t) for k, v, h, t in fields])

    def test_log_append_time(self) -> None:
        """Under LogAppendTime every record takes the batch's maxTimestamp."""
        data = bytearray(sample_batch(2))
        set_log_append_time(data, 0, 1_900_000_000_000)
        self.assertEqual({r.timestamp for r in read_back(bytes(data))}, {1_900_000_000_000})

    def test_empty_batch(self) -> None:
        """A batch without records yields nothing."""
        data = build_batch([])
        [(_, _, header)] = split_batches(data)
        self.assertEqual((header.record_count, header.last_offset_delta), (0, -1))
        self.assertEqual(read_back(data), [])

    def test_batch_fields(self) -> None:
        """Producer state, transactional and control bits are written as asked."""
        data = build_batch(SAMPLE_RECORDS[:1], producer_id=9, producer_epoch=2, base_sequence=40,
                           is_transactional=True, is_control=True, timestamp_type=1)
        header = parse_header(data)
        self.assertEqual((header.producer_id, header.producer_epoch, header.base_sequence), (9, 2, 40))
        self.assertTrue(header.is_transactional and header.is_control)
        self.assertEqual(header.timestamp_type, 1)
        self.assertEqual(header.partition_leader_epoch, -1)

    def test_cap(self) -> None:
        """iter_records honours the decompression cap."""
        data = sample_batch(1)
        header = parse_header(data)
        self.assertEqual(error_code(list, iter_records(data, header, 10)), ErrorCode.INVALID_RECORD)


def batch_of(*records: bytes, count: int | None = None) -> bytes:
    """A valid-CRC batch over hand-made C{records} (recordCount defaults to their number)."""
    return with_payload(sample_batch(), b"".join(records), len(records) if count is None else count)


GOOD = raw_record(b"\x00", 0, 0, 1, b"k", 1, b"v", 0)


def good_at(delta: int) -> bytes:
    """A well-formed record with offsetDelta C{delta}."""
    return raw_record(b"\x00", 0, delta, 1, b"k", 1, b"v", 0)


class LyingRecordTests(SynchronousTestCase):
    """Records whose lengths or varints lie are INVALID_RECORD in full mode and in iter_records."""

    def assertInvalid(self, data: bytes, ordered_only: bool = False) -> None:
        """C{data} passes the header checks but fails full validation (and iteration)."""
        self.assertEqual(len(split_batches(data)), 1)
        self.assertEqual(error_code(full_check, data), ErrorCode.INVALID_RECORD)
        if not ordered_only:
            self.assertEqual(error_code(read_back, data), ErrorCode.INVALID_RECORD)

    def test_well_formed(self) -> None:
        """The hand-made records are fine as they are."""
        data = batch_of(good_at(0), good_at(1))
        full_check(data)
        self.assertEqual([(r.offset, r.key, r.value) for r in read_back(data)], [(0, b"k", b"v"), (1, b"k", b"v")])

    def test_record_length_too_long(self) -> None:
        """A record length past the end of the batch."""
        self.assertInvalid(batch_of(b"\x7e" + GOOD[1:]))

    def test_record_length_too_short(self) -> None:
        """A record length shorter than its fields."""
        self.assertInvalid(batch_of(bytes([GOOD[0] - 2]) + GOOD[1:]))

    def test_record_length_negative(self) -> None:
        """A negative record length."""
        self.assertInvalid(batch_of(b"\x01" + GOOD[1:]))

    def test_key_length_past_record(self) -> None:
        """A key length running past the record."""
        self.assertInvalid(batch_of(raw_record(b"\x00", 0, 0, 40, b"k", 1, b"v", 0)))

    def test_negative_lengths(self) -> None:
        """Key and value lengths below -1, a negative header count or header key length."""
        self.assertInvalid(batch_of(raw_record(b"\x00", 0, 0, -2, b"k", 1, b"v", 0)))
        self.assertInvalid(batch_of(raw_record(b"\x00", 0, 0, 1, b"k", -5, b"v", 0)))
        self.assertInvalid(batch_of(raw_record(b"\x00", 0, 0, 1, b"k", 1, b"v", -1)))
        self.assertInvalid(batch_of(raw_record(b"\x00", 0, 0, 1, b"k", 1, b"v", 1, -1, -1)))

    def test_header_count_lies(self) -> None:
        """A header count larger than the record could hold."""
        self.assertInvalid(batch_of(raw_record(b"\x00", 0, 0, 1, b"k", 1, b"v", 2**31 - 1)))
        self.assertInvalid(batch_of(raw_record(b"\x00", 0, 0, 1, b"k", 1, b"v", 2, 1, b"h", -1)))

    def test_offset_delta_order(self) -> None:
        """offsetDeltas must run 0..n-1 in full mode (iteration allows gaps)."""
        self.assertInvalid(batch_of(good_at(1), good_at(0)), ordered_only=True)
        self.assertInvalid(batch_of(good_at(0), good_at(2)), ordered_only=True)

    def test_count_too_high(self) -> None:
        """recordCount above the records present."""
        self.assertInvalid(batch_of(good_at(0), good_at(1), count=3))
        self.assertInvalid(batch_of(good_at(0), count=2**31 - 1))
        big = [raw_record(b"\x00", 0, delta, -1, 40, b"v" * 40, 0) for delta in (0, 1)]
        self.assertInvalid(batch_of(*big, count=3))

    def test_count_too_low(self) -> None:
        """Bytes left after recordCount records."""
        self.assertInvalid(batch_of(good_at(0), good_at(1), count=1))

    def test_varint_overlong(self) -> None:
        """A varint of eleven bytes inside a record."""
        self.assertInvalid(batch_of(raw_record(b"\x00", b"\x80" * 10 + b"\x01", 0, 1, b"k", 1, b"v", 0)))

    def test_truncated_inside_record(self) -> None:
        """The records section cut short, at every byte of the last record."""
        whole = good_at(0) + good_at(1)
        for cut in range(len(good_at(0)) + 1, len(whole)):
            self.assertInvalid(with_payload(sample_batch(), whole[:cut], 2))

    def test_check_records_range(self) -> None:
        """check_records reads only between its bounds."""
        body = b"junk" + good_at(0) + b"more junk"
        check_records(body, 4, 4 + len(good_at(0)), 1)
        self.assertEqual(error_code(check_records, body, 4, len(body), 1), ErrorCode.INVALID_RECORD)


header_names = st.text(max_size=8)
nullable = st.none() | st.binary(max_size=40)
record_fields = st.tuples(
    nullable,
    nullable,
    st.lists(st.tuples(header_names, nullable), max_size=3),
    st.integers(min_value=0, max_value=2**41),
)


class PropertyTests(SynchronousTestCase):
    """Random records survive build_batch -> checks -> iter_records."""

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(record_fields, min_size=1, max_size=20), st.integers(min_value=0, max_value=2**40))
    def test_round_trip(self, fields: list, base_offset: int) -> None:
        """What goes in comes out, for every codec; the full check accepts it."""
        expected = [(base_offset + i, k, v, list(h), t) for i, (k, v, h, t) in enumerate(fields)]
        for codec in CODECS:
            data = build_batch(fields, codec=codec, base_offset=base_offset)
            self.assertEqual(
                [(r.offset, r.key, r.value, r.headers, r.timestamp) for r in read_back(data)], expected
            )
            header: BatchHeader = parse_header(data)
            self.assertEqual(header.max_timestamp, max(t for _, _, _, t in fields))
            self.assertEqual(header.codec, codec)
            full_check(build_batch(fields, codec=codec))


class RecordMutationTests(SynchronousTestCase):
    """Damaged records sections (CRC fixed) give records or a KafkaError, nothing else."""

    def test_mutations(self) -> None:
        """Flip, drop and insert bytes of the records at seeded random places."""
        rng = random.Random(11)
        for codec in (0, 0, 1, 4):
            original = sample_batch(codec)
            body = original[61:]
            for _ in range(150):
                mutated = mutate(rng, body)
                data = with_payload(original, mutated)
                for check in (full_check, read_back):
                    try:
                        check(data)
                    except KafkaError as e:
                        self.assertEqual(e.code, ErrorCode.INVALID_RECORD)


class RecordTimesTests(SynchronousTestCase):
    """L{record_times} reads offsets and timestamps lazily, within a budget."""

    def test_every_codec(self) -> None:
        """Each codec yields every record's offset and timestamp."""
        records = [(b"k", b"v" * 50, [("h", b"x")], 1000 + 3 * i) for i in range(20)]
        for codec in range(5):
            data = build_batch(records, codec=codec, base_offset=40)
            [(_, _, header)] = split_batches(data)
            got = list(record_times(data, header, DecompressionBudget(1 << 20)))
            self.assertEqual(got, [(40 + i, 1000 + 3 * i) for i in range(20)], codec)

    def test_large_records_skipped(self) -> None:
        """Records larger than one decompressed piece are skipped over correctly."""
        records = [(None, bytes(700_000 + i), [], 10 + i) for i in range(4)]
        for codec in range(5):
            data = build_batch(records, codec=codec)
            [(_, _, header)] = split_batches(data)
            got = list(record_times(data, header, DecompressionBudget(8 << 20)))
            self.assertEqual(got, [(i, 10 + i) for i in range(4)], codec)

    def test_lazy(self) -> None:
        """Stopping after the first record leaves most of the budget."""
        data = build_batch([(None, bytes(1 << 20), [], 5)] * 8, codec=1)
        [(_, _, header)] = split_batches(data)
        budget = DecompressionBudget(64 << 20)
        self.assertEqual(next(record_times(data, header, budget)), (0, 5))
        self.assertGreater(budget.remaining, (64 << 20) - (1 << 20))

    def test_budget_spent(self) -> None:
        """A batch inflating past the budget raises L{BudgetSpent}."""
        data = build_batch([(None, bytes(1 << 20), [], 5)] * 3, codec=4)
        [(_, _, header)] = split_batches(data)
        with self.assertRaises(BudgetSpent):
            list(record_times(data, header, DecompressionBudget(1 << 20)))

    def test_log_append_time(self) -> None:
        """In a LogAppendTime batch every record has the batch's maxTimestamp."""
        data = bytearray(build_batch([(None, b"a", [], 5), (None, b"b", [], 6)]))
        set_log_append_time(data, 0, 777)
        [(_, _, header)] = split_batches(data)
        self.assertEqual(list(record_times(data, header, DecompressionBudget(1 << 20))),
                         [(0, 777), (1, 777)])

    def test_overflowing_timestamp_skipped(self) -> None:
        """A stored record whose timestamp passes 2^63-1 is never yielded."""
        data = build_batch([(None, b"a", [], 2**63 - 2), (None, b"b", [], 2**63 - 1)])
        data = bytearray(data)
        struct.pack_into(">q", data, 27, 2**63 - 1)  # baseTimestamp: deltas 0 and 1
        struct.pack_into(">I", data, 17, compute_crc(data))
        [(_, _, header)] = split_batches(data)
        self.assertEqual(list(record_times(data, header, DecompressionBudget(1 << 20))),
                         [(0, 2**63 - 1)])
