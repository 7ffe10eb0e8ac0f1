# -*- test-case-name: tests.records.test_compaction -*-
"""Tests for L{twisted_kafka.records.compaction}: record spans and filtered batches."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.records.batch import CODEC_NONE, CODEC_SNAPPY, parse_header, split_batches
from twisted_kafka.records.compaction import batch_records, filter_batch
from twisted_kafka.records.compression import XERIAL_MAGIC, compress
from twisted_kafka.records.record import build_batch, iter_records

RECORDS: list[tuple[bytes | None, bytes | None, list[tuple[str, bytes]], int]] = [
    (b"a", b"1", [("h", b"v")], 1000),
    (b"b", None, [], 1001),
    (None, b"3", [], 1005),
    (b"a", b"4", [], 1002),
]


class BatchRecordsTests(SynchronousTestCase):
    """L{batch_records} finds every record's offset, key and tombstone flag, in every codec."""

    def test_spans(self) -> None:
        """Offsets are the base offset plus each delta; null values are tombstones."""
        for codec in range(5):
            batch = build_batch(RECORDS, base_offset=100, codec=codec)
            _, spans = batch_records(batch, parse_header(batch), 1 << 20)
            self.assertEqual([(s.offset, s.key, s.tombstone) for s in spans],
                             [(100, b"a", False), (101, b"b", True), (102, None, False), (103, b"a", False)], codec)


class FilterBatchTests(SynchronousTestCase):
    """L{filter_batch} keeps offsets, codec and header fields; only the records change."""

    def test_keeps_chosen_records(self) -> None:
        """The kept records read back at their offsets, with their timestamps and headers, in the same codec."""
        for codec in range(5):
            batch = build_batch(RECORDS, base_offset=100, codec=codec, producer_id=5, producer_epoch=1, base_sequence=9)
            header = parse_header(batch)
            records, spans = batch_records(batch, header, 1 << 20)
            out = filter_batch(batch, header, records, [spans[1], spans[3]])
            [(_, _, new)] = split_batches(out)  # CRC and lengths are right
            self.assertEqual((new.base_offset, new.last_offset_delta, new.record_count, new.codec),
                             (100, 3, 2, codec))
            self.assertEqual((new.producer_id, new.producer_epoch, new.base_sequence, new.max_timestamp),
                             (5, 1, 9, header.max_timestamp))
            read = [(r.offset, r.key, r.value, r.headers, r.timestamp) for r in iter_records(out, new, 1 << 20)]
            self.assertEqual(read, [(101, b"b", None, [], 1001), (103, b"a", b"4", [], 1002)], codec)

    def test_empty(self) -> None:
        """With nothing kept the batch is empty and uncompressed, and still spans its offsets."""
        batch = build_batch(RECORDS, base_offset=7, codec=1)
        header = parse_header(batch)
        records, _ = batch_records(batch, header, 1 << 20)
        [(_, _, new)] = split_batches(filter_batch(batch, header, records, []))
        self.assertEqual((new.record_count, new.codec, new.next_offset, new.size), (0, CODEC_NONE, 11, 61))

    def test_snappy_framing_kept(self) -> None:
        """A raw snappy block (librdkafka's framing) stays raw; xerial stays xerial."""
        raw_records = build_batch(RECORDS)[61:]
        for xerial in (True, False):
            body = compress(CODEC_SNAPPY, raw_records, xerial=xerial)
            batch = bytearray(build_batch(RECORDS, codec=CODEC_SNAPPY)[:61]) + body
            batch[8:12] = (len(batch) - 12).to_bytes(4, "big")
            header = parse_header(bytes(batch))
            records, spans = batch_records(bytes(batch), header, 1 << 20)
            out = filter_batch(bytes(batch), header, records, spans[:1])
            self.assertEqual(out[61:69] == XERIAL_MAGIC, xerial)
