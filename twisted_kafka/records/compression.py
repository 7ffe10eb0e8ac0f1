# -*- test-case-name: tests.records.test_compression -*-
"""Kafka's record compression codecs, with a hard cap on decompressed size.

Codec ids are the batch attributes' bits 0-2: 0 none, 1 gzip, 2 snappy,
3 lz4, 4 zstd. Framing, as the clients write it:

    - gzip: a gzip stream (zlib C{wbits=31}); several members are read in
      sequence, as Java's C{GZIPInputStream} does.
    - snappy: either the xerial framing the Java client and kafka-python
      write (C{\\x82SNAPPY\\x00}, int32 version, int32 compat, then blocks of
      int32 length + raw snappy) or one raw snappy block (librdkafka).
    - lz4: an LZ4 frame with independent blocks. Frames whose header checksum
      is wrong (the pre-0.10 "KafkaLZ4" framing hashed the magic too) are
      read block by block with the checksum ignored; the batch CRC-32C
      already covers these bytes.
    - zstd: one or more zstd frames, with or without a content size.

L{decompress} never produces, nor allocates for, more than C{max_size + 1}
bytes: a compression bomb fails as soon as its output passes the cap. Every
failure is a L{KafkaError} with C{INVALID_RECORD} (Kafka answers a
truncated compressed stream with INVALID_RECORD, "premature EOF", and other
undecodable data with UNKNOWN_SERVER_ERROR; INVALID_RECORD tells the
producer the truth without inviting a retry).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Iterator

import cramjam
import lz4.block
import lz4.frame
import zstandard

from twisted_kafka.errors import ErrorCode, KafkaError

CODEC_NONE = 0
CODEC_GZIP = 1
CODEC_SNAPPY = 2
CODEC_LZ4 = 3
CODEC_ZSTD = 4

CODEC_NAMES = {
    CODEC_NONE: "none",
    CODEC_GZIP: "gzip",
    CODEC_SNAPPY: "snappy",
    CODEC_LZ4: "lz4",
    CODEC_ZSTD: "zstd",
}

XERIAL_MAGIC = b"\x82SNAPPY\x00"
#: magic, version 1, compatible version 1 (what xerial and kafka-python write).
XERIAL_HEADER = XERIAL_MAGIC + struct.pack(">ii", 1, 1)
#: The uncompressed block size of xerial's SnappyOutputStream.
XERIAL_BLOCK_SIZE = 32 * 1024

_GZIP_WBITS = 31
_CHUNK = 256 * 1024
_INT32 = struct.Struct(">i")
_UINT32_LE = struct.Struct("<I")
_LZ4_MAGIC = 0x184D2204
_LZ4_BLOCK_SIZES = {4: 64 * 1024, 5: 256 * 1024, 6: 1024 * 1024, 7: 4 * 1024 * 1024}

Buffer = bytes | bytearray | memoryview


def _invalid(message: str) -> KafkaError:
    """An C{INVALID_RECORD} error with C{message}."""
    return KafkaError(ErrorCode.INVALID_RECORD, message)


class DecompressedTooLarge(KafkaError):
    """C{INVALID_RECORD}: the records inflate past the size allowed."""


def _too_large(codec: int, max_size: int) -> KafkaError:
    """The error for output larger than C{max_size}."""
    return DecompressedTooLarge(
        ErrorCode.INVALID_RECORD,
        f"{CODEC_NAMES[codec]} records decompress to more than {max_size} bytes",
    )


def decompress(codec: int, data: Buffer, max_size: int) -> bytes:
    """Decompress a batch's records section written with C{codec}.

    @param max_size: the most bytes of output accepted.
    @raise KafkaError: C{INVALID_RECORD} for undecodable data, output over
        C{max_size}, or an unknown codec (C{UNSUPPORTED_COMPRESSION_TYPE}).
    """
    if codec == CODEC_NONE:
        if len(data) > max_size:
            raise _too_large(codec, max_size)
        return bytes(data)
    reader = _DECOMPRESSORS.get(codec)
    if reader is None:
        raise KafkaError(
            ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, f"unknown compression codec {codec}"
        )
    try:
        return reader(data, max_size)
    except KafkaError:
        raise
    except (zlib.error, cramjam.DecompressionError, zstandard.ZstdError,
            lz4.block.LZ4BlockError, RuntimeError, ValueError, struct.error) as e:
        raise _invalid(f"{CODEC_NAMES[codec]} records cannot be decompressed: {e}") from None


def _gunzip(data: Buffer, max_size: int) -> bytes:
    """Inflate one or more gzip members, at most C{max_size} bytes."""
    chunks: list[bytes] = []
    total = 0
    rest: Buffer = data
    while True:
        inflater = zlib.decompressobj(_GZIP_WBITS)
        out = inflater.decompress(rest, max_size - total + 1)
        total += len(out)
        chunks.append(out)
        if total > max_size:
            raise _too_large(CODEC_GZIP, max_size)
        if not inflater.eof:
            raise _invalid("gzip records are truncated")
        rest = inflater.unused_data
        if not rest:
            return b"".join(chunks)


def _unsnappy(data: Buffer, max_size: int) -> bytes:
    """Decompress xerial-framed or raw snappy, at most C{max_size} bytes."""
    chunks: list[bytes] = []
    total = 0
    for block in _unsnappy_pieces(memoryview(data), max_size - total):
        total += len(block)
        if total > max_size:
            raise _too_large(CODEC_SNAPPY, max_size)
        chunks.append(block)
    return b"".join(chunks)


def _unsnappy_raw(block: memoryview, max_size: int) -> bytes:
    """Decompress one raw snappy block after checking its declared length."""
    declared = _snappy_length(block)
    if declared > max_size:
        raise _too_large(CODEC_SNAPPY, max_size)
    return bytes(cramjam.snappy.decompress_raw(block))


def _snappy_length(block: memoryview) -> int:
    """The uncompressed length a raw snappy block starts with (a uvarint)."""
    result = 0
    for shift, byte in zip(range(0, 35, 7), block):
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result
    raise _invalid("snappy block has no valid length preamble")


def _unlz4(data: Buffer, max_size: int) -> bytes:
    """Decompress an LZ4 frame, at most C{max_size} bytes."""
    inflater = lz4.frame.LZ4FrameDecompressor()
    try:
        out = inflater.decompress(data, max_size + 1)
    except RuntimeError:
        # Possibly the old KafkaLZ4 framing, with a wrong header checksum.
        return _unlz4_blocks(memoryview(data), max_size)
    if len(out) > max_size:
        raise _too_large(CODEC_LZ4, max_size)
    if not inflater.eof:
        raise _invalid("lz4 records are truncated")
    return bytes(out)


def _unlz4_blocks(view: memoryview, max_size: int) -> bytes:
    """Read an LZ4 frame block by block, ignoring its header checksum."""
    if len(view) < 7 or _UINT32_LE.unpack_from(view, 0)[0] != _LZ4_MAGIC:
        raise _invalid("lz4 records do not start with an LZ4 frame")
    flags, block_descriptor = view[4], view[5]
    if flags >> 6 != 1:
        raise _invalid(f"lz4 frame has unsupported version {flags >> 6}")
    block_max = _LZ4_BLOCK_SIZES.get((block_descriptor >> 4) & 0x07)
    if block_max is None:
        raise _invalid("lz4 frame has an invalid block size")
    block_checksum = bool(flags & 0x10)
    pos = 7 + (8 if flags & 0x08 else 0)  # magic, FLG, BD, [size], HC
    chunks: list[bytes] = []
    total = 0
    while True:
        if len(view) - pos < 4:
            raise _invalid("lz4 records are truncated")
        (size,) = _UINT32_LE.unpack_from(view, pos)
        pos += 4
        if size == 0:  # end mark
            return b"".join(chunks)
        stored = bool(size & 0x80000000)
        size &= 0x7FFFFFFF
        if size > block_max or pos + size > len(view):
            raise _invalid(f"lz4 block of {size} bytes is invalid")
        block = view[pos : pos + size]
        if stored:
            out = bytes(block)
        else:
            out = lz4.block.decompress(block, uncompressed_size=block_max)
        total += len(out)
        if total > max_size:
            raise _too_large(CODEC_LZ4, max_size)
        chunks.append(out)
        pos += size + (4 if block_checksum else 0)


_ZSTD_DECOMPRESSOR = zstandard.ZstdDecompressor()
_ZSTD_COMPRESSOR = zstandard.ZstdCompressor()
#: The most output one byte of zstd input can produce (a 128 KiB RLE block
#: takes 4 bytes), used to size input slices so output stays bounded.
_ZSTD_MAX_RATIO = 32 * 1024
_ZSTD_MIN_SLICE = 64


def _unzstd(data: Buffer, max_size: int) -> bytes:
    """Decompress one or more zstd frames, at most about C{max_size} bytes.

    The decompressor has no output limit, so input is fed in slices small
    enough that one slice cannot produce much more than what is left of
    C{max_size} (plus at most 2 MiB): a bomb is refused after inflating
    roughly C{max_size} bytes, never all of it.
    """
    view = memoryview(data)
    chunks: list[bytes] = []
    total = 0
    pos = 0
    inflater = _ZSTD_DECOMPRESSOR.decompressobj()
    while True:
        step = max(_ZSTD_MIN_SLICE, (max_size - total) // _ZSTD_MAX_RATIO)
        out = inflater.decompress(view[pos : pos + step])
        pos = min(pos + step, len(view))
        if out:
            total += len(out)
            if total > max_size:
                raise _too_large(CODEC_ZSTD, max_size)
            chunks.append(out)
        if inflater.eof:
            pos -= len(inflater.unused_data)
            if pos >= len(view):
                return b"".join(chunks)
            inflater = _ZSTD_DECOMPRESSOR.decompressobj()
        elif pos >= len(view):
            raise _invalid("zstd records are truncated")


_DECOMPRESSORS: dict[int, Callable[[Buffer, int], bytes]] = {
    CODEC_GZIP: _gunzip,
    CODEC_SNAPPY: _unsnappy,
    CODEC_LZ4: _unlz4,
    CODEC_ZSTD: _unzstd,
}


def decompress_stream(codec: int, data: Buffer, max_size: int) -> Iterator[bytes]:
    """Yield the decompressed records section of C{codec} piece by piece.

    For a reader that may stop early (ListOffsets looking for one record):
    gzip, lz4 frames, zstd and xerial snappy are inflated about 256 KiB at
    a time, so stopping early costs only what was read; a raw snappy block
    and the old KafkaLZ4 framing come as one piece.  Never more than
    C{max_size} bytes in all, and the same errors as L{decompress}.
    """
    if codec == CODEC_NONE:
        yield decompress(codec, data, max_size)
        return
    pieces = _STREAMS.get(codec)
    if pieces is None:
        yield decompress(codec, data, max_size)
        return
    total = 0
    try:
        for piece in pieces(memoryview(data), max_size):
            total += len(piece)
            if total > max_size:
                raise _too_large(codec, max_size)
            if piece:
                yield piece
    except KafkaError:
        raise
    except (zlib.error, cramjam.DecompressionError, zstandard.ZstdError,
            lz4.block.LZ4BlockError, RuntimeError, ValueError, struct.error) as e:
        raise _invalid(f"{CODEC_NAMES[codec]} records cannot be decompressed: {e}") from None


def _gunzip_pieces(view: memoryview, max_size: int) -> Iterator[bytes]:
    """Inflate gzip members a chunk at a time."""
    rest: Buffer = view
    while True:
        inflater = zlib.decompressobj(_GZIP_WBITS)
        while not inflater.eof:
            yield inflater.decompress(rest, _CHUNK)
            rest = inflater.unconsumed_tail
            if not rest and not inflater.eof:
                tail = inflater.flush()
                if tail:
                    yield tail
                if not inflater.eof:
                    raise _invalid("gzip records are truncated")
        rest = inflater.unused_data
        if not rest:
            return


def _unlz4_pieces(view: memoryview, max_size: int) -> Iterator[bytes]:
    """Decompress an LZ4 frame a chunk at a time (old framing: all at once)."""
    inflater = lz4.frame.LZ4FrameDecompressor()
    try:
        piece = inflater.decompress(view, _CHUNK)
    except RuntimeError:
        yield _unlz4_blocks(view, max_size)
        return
    yield piece
    while not inflater.eof:
        if not inflater.needs_input:
            yield inflater.decompress(b"", _CHUNK)
        else:
            raise _invalid("lz4 records are truncated")


def _unzstd_pieces(view: memoryview, max_size: int) -> Iterator[bytes]:
    """Decompress zstd frames in bounded input slices (see L{_unzstd})."""
    pos = 0
    inflater = _ZSTD_DECOMPRESSOR.decompressobj()
    step = 256  # at most 8 MiB of output per slice
    while True:
        yield inflater.decompress(view[pos : pos + step])
        pos = min(pos + step, len(view))
        if inflater.eof:
            pos -= len(inflater.unused_data)
            if pos >= len(view):
                return
            inflater = _ZSTD_DECOMPRESSOR.decompressobj()
        elif pos >= len(view):
            raise _invalid("zstd records are truncated")


def _unsnappy_pieces(view: memoryview, max_size: int) -> Iterator[bytes]:
    """Xerial snappy block by block; a raw block at once."""
    if len(view) < len(XERIAL_HEADER) or view[: len(XERIAL_MAGIC)] != XERIAL_MAGIC:
        yield _unsnappy_raw(view, max_size)
        return
    pos = len(XERIAL_HEADER)
    while pos < len(view):
        if len(view) - pos < _INT32.size:
            raise _invalid("snappy (xerial) block length is truncated")
        (size,) = _INT32.unpack_from(view, pos)
        pos += _INT32.size
        if size < 0 or pos + size > len(view):
            raise _invalid(f"snappy (xerial) block of {size} bytes overruns the data")
        yield _unsnappy_raw(view[pos : pos + size], max_size)
        pos += size


_STREAMS: dict[int, Callable[[memoryview, int], Iterator[bytes]]] = {
    CODEC_GZIP: _gunzip_pieces,
    CODEC_SNAPPY: _unsnappy_pieces,
    CODEC_LZ4: _unlz4_pieces,
    CODEC_ZSTD: _unzstd_pieces,
}


def compress(codec: int, data: Buffer, *, xerial: bool = True, level: int | None = None) -> bytes:
    """Compress C{data} with C{codec}, framed the way the Java client does.

    @param xerial: for snappy, use the xerial block framing (readable by every
        client) rather than one raw snappy block (what librdkafka writes).
    @param level: the codec's level as Kafka's C{compression.gzip.level}
        (1 to 9, -1 zlib's default), C{compression.lz4.level} (1 to 17; lz4
        caps its high-compression levels at 12) and C{compression.zstd.level}
        (-131072 to 22) give it; C{None}: each library's default (lz4's fast
        mode). Snappy and no compression have no level.
    @raise KafkaError: C{UNSUPPORTED_COMPRESSION_TYPE} for an unknown codec.
    """
    if codec == CODEC_NONE:
        return bytes(data)
    if codec == CODEC_GZIP:
        deflater = zlib.compressobj(-1 if level is None else level, wbits=_GZIP_WBITS)
        return deflater.compress(data) + deflater.flush()
    if codec == CODEC_SNAPPY:
        if not xerial:
            return bytes(cramjam.snappy.compress_raw(data))
        return _snappy_xerial(memoryview(data))
    if codec == CODEC_LZ4:
        compressed: bytes = lz4.frame.compress(
            data, compression_level=0 if level is None else level,
            block_linked=False, store_size=False, content_checksum=False
        )
        return compressed
    if codec == CODEC_ZSTD:
        if level is None:
            return _ZSTD_COMPRESSOR.compress(data)
        return zstandard.ZstdCompressor(level=level).compress(data)
    raise KafkaError(
        ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, f"unknown compression codec {codec}"
    )


def _snappy_xerial(view: memoryview) -> bytes:
    """Snappy with xerial framing: 32 KiB blocks, each int32-length-prefixed."""
    parts = [XERIAL_HEADER]
    for pos in range(0, len(view), XERIAL_BLOCK_SIZE):
        block = bytes(cramjam.snappy.compress_raw(view[pos : pos + XERIAL_BLOCK_SIZE]))
        parts.append(_INT32.pack(len(block)))
        parts.append(block)
    return b"".join(parts)
