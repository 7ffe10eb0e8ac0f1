# -*- test-case-name: tests.records.test_recompress -*-
"""Tests for L{twisted_kafka.records.recompress}: a batch rewritten with another codec."""

from __future__ import annotations

import zlib

from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.records.batch import (
    CODEC_GZIP,
    CODEC_LZ4,
    CODEC_NONE,
    CODEC_SNAPPY,
    CODEC_ZSTD,
    RECORDS_OFFSET,
    parse_header,
    split_batches,
    validate_produce_records,
)
from twisted_kafka.records.compression import XERIAL_MAGIC, DecompressedTooLarge, decompress
from twisted_kafka.records.recompress import recompress
from twisted_kafka.records.record import iter_records

from ._helpers import SAMPLE_RECORDS, sample_batch

CODECS = (CODEC_NONE, CODEC_GZIP, CODEC_SNAPPY, CODEC_LZ4, CODEC_ZSTD)
LIMIT = 1 << 20


def records_of(batch: bytes | bytearray) -> list[tuple[int, int, bytes | None, bytes | None, list]]:
    """Every record of C{batch} as C{(offset, timestamp, key, value, headers)}."""
    [(_, _, header)] = split_batches(batch)
    return [tuple(r) for r in iter_records(batch, header, LIMIT)]  # type: ignore[misc]


class RecompressTests(SynchronousTestCase):
    """L{recompress} keeps every record and header field but the codec, length and CRC."""

    def test_every_pair(self) -> None:
        """From every codec to every other, the records read back the same and the CRC is valid."""
        for source in CODECS:
            original = sample_batch(source, producer_id=7, producer_epoch=2, base_sequence=40)
            for target in CODECS:
                if target == source:
                    continue
                out = recompress(original, target, None, LIMIT)
                [(_, end, header)] = split_batches(out)  # checks the CRC
                self.assertEqual((end, header.codec), (len(out), target), (source, target))
                self.assertEqual(records_of(out), records_of(original), (source, target))
                validate_produce_records(out, full=True, max_decompressed=LIMIT)

    def test_header_kept(self) -> None:
        """Producer fields, timestamps, counts and the other attribute bits are as produced."""
        original = sample_batch(CODEC_LZ4, producer_id=7, producer_epoch=2, base_sequence=40,
                                is_transactional=True, partition_leader_epoch=3)
        before = parse_header(original)
        after = parse_header(recompress(original, CODEC_GZIP, None, LIMIT))
        self.assertEqual(after.attributes, (before.attributes & ~0x07) | CODEC_GZIP)
        self.assertTrue(after.is_transactional)
        unchanged = ("base_offset", "partition_leader_epoch", "magic", "last_offset_delta",
                     "base_timestamp", "max_timestamp", "producer_id", "producer_epoch",
                     "base_sequence", "record_count")
        self.assertEqual([getattr(after, f) for f in unchanged], [getattr(before, f) for f in unchanged])

    def test_records_bytes_kept(self) -> None:
        """The uncompressed records section is the producer's, byte for byte."""
        original = sample_batch(CODEC_NONE)
        out = recompress(original, CODEC_ZSTD, None, LIMIT)
        self.assertEqual(decompress(CODEC_ZSTD, memoryview(out)[RECORDS_OFFSET:], LIMIT),
                         original[RECORDS_OFFSET:])
        self.assertEqual(bytes(recompress(out, CODEC_NONE, None, LIMIT)), original)

    def test_input_unchanged(self) -> None:
        """The batch given (a bytearray or a view) is not changed; the result is a new bytearray."""
        original = bytearray(sample_batch(CODEC_SNAPPY))
        copy = bytes(original)
        out = recompress(memoryview(original), CODEC_GZIP, None, LIMIT)
        self.assertIsInstance(out, bytearray)
        self.assertEqual(bytes(original), copy)

    def test_gzip_level(self) -> None:
        """The gzip level is zlib's: level 1 and level 9 write what zlib writes at them."""
        original = sample_batch(CODEC_NONE)
        for level in (1, 9):
            out = recompress(original, CODEC_GZIP, level, LIMIT)
            deflater = zlib.compressobj(level, wbits=31)
            expected = deflater.compress(original[RECORDS_OFFSET:]) + deflater.flush()
            self.assertEqual(bytes(out[RECORDS_OFFSET:]), expected)

    def test_levels_change_output(self) -> None:
        """lz4 and zstd levels are applied: the lowest and highest write different bytes."""
        original = sample_batch(CODEC_NONE)
        for codec, low, high in ((CODEC_LZ4, 1, 17), (CODEC_ZSTD, -131072, 22)):
            a = recompress(original, codec, low, LIMIT)
            b = recompress(original, codec, high, LIMIT)
            self.assertNotEqual(a, b, codec)
            self.assertEqual(records_of(a), records_of(b))

    def test_snappy_xerial(self) -> None:
        """Snappy is written with the xerial framing, as the Java broker writes it."""
        out = recompress(sample_batch(CODEC_GZIP), CODEC_SNAPPY, None, LIMIT)
        self.assertEqual(bytes(out[RECORDS_OFFSET:RECORDS_OFFSET + len(XERIAL_MAGIC)]), XERIAL_MAGIC)

    def test_decompression_bounded(self) -> None:
        """Records that decompress past C{max_size} are refused, not inflated."""
        original = sample_batch(CODEC_GZIP)
        with self.assertRaises(DecompressedTooLarge):
            recompress(original, CODEC_NONE, None, 100)
        self.assertEqual(len(SAMPLE_RECORDS), parse_header(recompress(original, CODEC_NONE, None, LIMIT)).record_count)
