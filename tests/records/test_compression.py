# -*- test-case-name: tests.records.test_compression -*-
"""Tests for L{twisted_kafka.records.compression}."""

from __future__ import annotations

import random
import struct
import tracemalloc
import zlib

import cramjam
import lz4.frame
import zstandard
from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.errors import ErrorCode, KafkaError
from twisted_kafka.records.compression import (
    CODEC_GZIP,
    CODEC_LZ4,
    CODEC_NONE,
    CODEC_SNAPPY,
    CODEC_ZSTD,
    XERIAL_HEADER,
    DecompressedTooLarge,
    decompress_stream,
    compress,
    decompress,
)

from ._helpers import error_code, mutate

CODECS = (CODEC_GZIP, CODEC_SNAPPY, CODEC_LZ4, CODEC_ZSTD)
#: Compressible and incompressible parts, several xerial/lz4 blocks long.
DATA = b"kafka record " * 8000 + random.Random(1).randbytes(70000)
GIB = 1 << 30
MIB = 1 << 20


def lz4_bomb(blocks: int) -> bytes:
    """An LZ4 frame of C{blocks} independent 4 MiB blocks of zeros."""
    frame = lz4.frame.compress(
        bytes(4 * MIB), block_size=lz4.frame.BLOCKSIZE_MAX4MB, block_linked=False,
        store_size=False, content_checksum=False,
    )
    header, block, end = frame[:7], frame[7:-4], frame[-4:]
    return header + block * blocks + end


class RoundTripTests(SynchronousTestCase):
    """What L{compress} writes, L{decompress} reads back."""

    def test_every_codec(self) -> None:
        """Each codec round-trips, including empty input."""
        for codec in (CODEC_NONE,) + CODECS:
            for data in (DATA, b"", b"x"):
                self.assertEqual(decompress(codec, compress(codec, data), len(data)), data, codec)

    def test_memoryview_input(self) -> None:
        """Decompression takes a memoryview without copying it first."""
        for codec in CODECS:
            view = memoryview(b"pad" + compress(codec, DATA))[3:]
            self.assertEqual(decompress(codec, view, len(DATA)), DATA)

    def test_snappy_xerial_framing(self) -> None:
        """Snappy is written with the xerial header and 32 KiB blocks."""
        data = compress(CODEC_SNAPPY, DATA)
        self.assertEqual(data[:16], b"\x82SNAPPY\x00\x00\x00\x00\x01\x00\x00\x00\x01")
        (first,) = struct.unpack_from(">i", data, 16)
        self.assertEqual(bytes(cramjam.snappy.decompress_raw(data[20 : 20 + first])), DATA[: 32 * 1024])

    def test_snappy_raw(self) -> None:
        """A raw snappy block (what librdkafka writes) is read too."""
        raw = compress(CODEC_SNAPPY, DATA, xerial=False)
        self.assertEqual(raw, bytes(cramjam.snappy.compress_raw(DATA)))
        self.assertEqual(decompress(CODEC_SNAPPY, raw, len(DATA)), DATA)

    def test_snappy_xerial_little_endian_version(self) -> None:
        """The xerial version/compat fields are not checked (Redpanda writes them little-endian)."""
        data = bytearray(compress(CODEC_SNAPPY, DATA))
        data[8:16] = struct.pack("<ii", 1, 1)
        self.assertEqual(decompress(CODEC_SNAPPY, bytes(data), len(DATA)), DATA)

    def test_gzip_members(self) -> None:
        """Concatenated gzip members are read in sequence."""
        data = compress(CODEC_GZIP, b"one") + compress(CODEC_GZIP, b"two")
        self.assertEqual(decompress(CODEC_GZIP, data, 6), b"onetwo")

    def test_zstd_without_content_size(self) -> None:
        """A zstd frame with no content size in its header (streamed) is read."""
        frame = zstandard.ZstdCompressor(write_content_size=False).compress(DATA)
        self.assertEqual(zstandard.get_frame_parameters(frame).content_size, zstandard.CONTENTSIZE_UNKNOWN)
        self.assertEqual(decompress(CODEC_ZSTD, frame, len(DATA)), DATA)

    def test_zstd_frames(self) -> None:
        """Several zstd frames are read in sequence."""
        frame = compress(CODEC_ZSTD, DATA)
        self.assertEqual(decompress(CODEC_ZSTD, frame + frame, 2 * len(DATA)), DATA + DATA)

    def test_lz4_java_framing(self) -> None:
        """LZ4 is written with independent blocks and no content size, as Java does."""
        frame = compress(CODEC_LZ4, DATA)
        info = lz4.frame.get_frame_info(frame)
        self.assertFalse(info["block_linked"])
        self.assertEqual(info["content_size"], 0)

    def test_lz4_broken_header_checksum(self) -> None:
        """An LZ4 frame with a wrong header checksum (old KafkaLZ4) is read block by block."""
        for data in (DATA, b"", b"tiny"):
            frame = bytearray(
                lz4.frame.compress(data, block_linked=False, content_checksum=True, block_checksum=True)
            )
            checksum_at = 6 + (8 if frame[4] & 0x08 else 0)
            frame[checksum_at] ^= 0xFF
            self.assertEqual(decompress(CODEC_LZ4, bytes(frame), len(data)), data)


class MalformedTests(SynchronousTestCase):
    """Bad input is a KafkaError, never a library exception."""

    def test_garbage(self) -> None:
        """Bytes that are not compressed data are INVALID_RECORD.

        (A lone zero byte is a valid, empty, raw snappy block.)
        """
        for codec in CODECS:
            for garbage in (b"", b"\xff", b"not compressed at all, honestly" * 3, random.Random(2).randbytes(300)):
                self.assertEqual(
                    error_code(decompress, codec, garbage, MIB), ErrorCode.INVALID_RECORD, (codec, garbage)
                )

    def test_truncated(self) -> None:
        """Compressed data cut anywhere is INVALID_RECORD."""
        for codec in CODECS:
            data = compress(codec, DATA)
            for cut in (1, 5, 10, 17, 21, len(data) // 2, len(data) - 1):
                self.assertEqual(
                    error_code(decompress, codec, data[:cut], len(DATA)), ErrorCode.INVALID_RECORD, (codec, cut)
                )

    def test_trailing_garbage(self) -> None:
        """Junk after a gzip member or zstd frame is INVALID_RECORD."""
        for codec in (CODEC_GZIP, CODEC_ZSTD):
            data = compress(codec, DATA) + b"junk"
            self.assertEqual(error_code(decompress, codec, data, len(DATA)), ErrorCode.INVALID_RECORD)

    def test_xerial_block_overrun(self) -> None:
        """A xerial block length past the end is INVALID_RECORD."""
        data = XERIAL_HEADER + struct.pack(">i", 1000) + b"abc"
        self.assertEqual(error_code(decompress, CODEC_SNAPPY, data, MIB), ErrorCode.INVALID_RECORD)
        data = XERIAL_HEADER + struct.pack(">i", -5) + b"abc"
        self.assertEqual(error_code(decompress, CODEC_SNAPPY, data, MIB), ErrorCode.INVALID_RECORD)

    def test_unknown_codec(self) -> None:
        """Codec 5 is UNSUPPORTED_COMPRESSION_TYPE both ways."""
        self.assertEqual(error_code(decompress, 5, b"x", 10), ErrorCode.UNSUPPORTED_COMPRESSION_TYPE)
        self.assertEqual(error_code(compress, 5, b"x"), ErrorCode.UNSUPPORTED_COMPRESSION_TYPE)


class BombTests(SynchronousTestCase):
    """Output beyond the cap is refused without producing it."""

    def assertRefusedSmall(self, codec: int, bomb: bytes) -> None:
        """C{bomb} is INVALID_RECORD under a 1 MiB cap, allocating under 16 MiB."""
        tracemalloc.start()
        try:
            code = error_code(decompress, codec, bomb, MIB)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        self.assertEqual(code, ErrorCode.INVALID_RECORD)
        self.assertLess(peak, 16 * MIB)

    def test_exact_cap(self) -> None:
        """Output of exactly the cap is accepted; one byte more is not."""
        for codec in (CODEC_NONE,) + CODECS:
            data = compress(codec, DATA)
            self.assertEqual(decompress(codec, data, len(DATA)), DATA)
            self.assertEqual(error_code(decompress, codec, data, len(DATA) - 1), ErrorCode.INVALID_RECORD)

    def test_gzip(self) -> None:
        """1 GiB of zeros in 1024 gzip members, and 64 MiB in one."""
        self.assertRefusedSmall(CODEC_GZIP, compress(CODEC_GZIP, bytes(MIB)) * 1024)
        deflater = zlib.compressobj(wbits=31)
        chunk = bytes(MIB)
        one = b"".join([deflater.compress(chunk) for _ in range(64)] + [deflater.flush()])
        self.assertRefusedSmall(CODEC_GZIP, one)

    def test_zstd(self) -> None:
        """1 GiB of zeros in zstd, with and without content sizes."""
        self.assertRefusedSmall(CODEC_ZSTD, compress(CODEC_ZSTD, bytes(MIB)) * 1024)
        streamed = zstandard.ZstdCompressor(write_content_size=False).compressobj()
        chunk = bytes(4 * MIB)
        one = b"".join([streamed.compress(chunk) for _ in range(16)] + [streamed.flush()])
        self.assertRefusedSmall(CODEC_ZSTD, one)

    def test_lz4(self) -> None:
        """1 GiB of zeros in one LZ4 frame, through both LZ4 readers."""
        bomb = lz4_bomb(256)
        self.assertRefusedSmall(CODEC_LZ4, bomb)
        broken = bytearray(bomb)
        broken[6] ^= 0xFF  # header checksum: takes the block-by-block path
        self.assertRefusedSmall(CODEC_LZ4, bytes(broken))

    def test_snappy(self) -> None:
        """A raw block claiming 1 GiB, and 1 GiB of xerial blocks, are refused."""
        preamble = bytes([0x80, 0x80, 0x80, 0x80, 0x04])  # uvarint 2**30
        self.assertRefusedSmall(CODEC_SNAPPY, preamble + b"\x00" * 10)
        block = bytes(cramjam.snappy.compress_raw(bytes(32 * 1024)))
        framed = XERIAL_HEADER + (struct.pack(">i", len(block)) + block) * (GIB // (32 * 1024))
        self.assertRefusedSmall(CODEC_SNAPPY, framed)


class MutationTests(SynchronousTestCase):
    """Randomly damaged compressed data gives output or a KafkaError, nothing else."""

    def test_mutations(self) -> None:
        """Flip, drop and insert bytes at seeded random places, for every codec
        (and LZ4 frames with a broken header checksum, read block by block)."""
        rng = random.Random(7)
        originals = {codec: compress(codec, DATA[:20000] + DATA[-3000:]) for codec in CODECS}
        frame = bytearray(originals[CODEC_LZ4])
        frame[6] ^= 0xFF
        for codec, original in list(originals.items()) + [(CODEC_LZ4, bytes(frame))]:
            for _ in range(150):
                data = mutate(rng, original)
                try:
                    decompress(codec, data, 1 << 16)
                except KafkaError as e:
                    self.assertIn(e.code, (ErrorCode.INVALID_RECORD,))


class StreamTests(SynchronousTestCase):
    """L{decompress_stream} gives what L{decompress} gives, piece by piece."""

    def test_same_bytes(self) -> None:
        """Every codec and framing streams to the same bytes, in bounded pieces."""
        data = bytes(range(256)) * 5000 + b"tail"
        cases = [(codec, compress(codec, data)) for codec in range(5)]
        cases.append((1, compress(1, data[:1000]) + compress(1, data[1000:])))  # two members
        cases.append((2, compress(2, data, xerial=False)))  # raw snappy
        for codec, packed in cases:
            pieces = list(decompress_stream(codec, packed, 1 << 24))
            self.assertEqual(b"".join(pieces), decompress(codec, packed, 1 << 24), codec)
            if codec in (1, 3):
                self.assertGreater(len(pieces), 1, codec)
                self.assertLessEqual(max(map(len, pieces)), 256 * 1024, codec)

    def test_bounded(self) -> None:
        """Past C{max_size} the stream fails the way L{decompress} does."""
        for codec in range(1, 5):
            packed = compress(codec, bytes(4 << 20))
            with self.assertRaises(DecompressedTooLarge):
                list(decompress_stream(codec, packed, 1 << 20))

    def test_truncated(self) -> None:
        """A cut stream is INVALID_RECORD."""
        for codec in (1, 3, 4):
            packed = compress(codec, bytes(range(256)) * 4000)
            with self.assertRaises(KafkaError) as caught:
                list(decompress_stream(codec, packed[: len(packed) // 2], 1 << 24))
            self.assertEqual(caught.exception.code, ErrorCode.INVALID_RECORD, codec)
