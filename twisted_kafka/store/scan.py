# -*- test-case-name: tests.store.test_scan -*-
"""Walking the batches of a segment file, for recovery and index rebuilds.

A L{BatchScanner} reads a region of a C{.log} file in large chunks and yields
each complete batch's position, size and parsed header, checking header
sanity, offset continuity and (optionally) the CRC-32C. It stops at the first
batch that fails and records why in L{BatchScanner.error}; everything before
that position is a valid prefix of the log.

This is start-up and repair work, so per-batch Python is acceptable here; the
append and read paths never use it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import crc32c

from twisted_kafka.store.batch_header import (
    CRC_START,
    F_BASE_OFFSET,
    F_BATCH_LENGTH,
    F_CRC,
    F_LAST_OFFSET_DELTA,
    F_MAGIC,
    HEADER,
    HEADER_SIZE,
    LOG_OVERHEAD,
    MAGIC_V2,
    MIN_BATCH_LENGTH,
)

#: How much to read at a time.
CHUNK = 1 << 20

Header = tuple[int, int, int, int, int, int, int, int, int, int, int, int, int]


class BatchScanner:
    """Iterate over the valid batches of C{fd} between two positions.

    @ivar position: where the valid prefix ends (after iteration: the
        truncation point if L{error} is set).
    @ivar next_offset: the offset the next batch may start at, at the earliest
        (compacted segments have gaps between batches).
    @ivar error: why the scan stopped early, or C{None} if it reached C{end}.
    """

    def __init__(
        self,
        fd: int,
        start: int,
        end: int,
        expected_offset: int,
        verify_crc: bool = True,
        chunk: int = CHUNK,
    ) -> None:
        self._fd = fd
        self.position = start
        self._end = end
        self.next_offset = expected_offset
        self._verify_crc = verify_crc
        self._chunk = chunk
        self.error: str | None = None

    def __iter__(self) -> Iterator[tuple[int, int, Header]]:
        """Yield C{(position, size, header)} for every valid batch in order."""
        fd, end, chunk = self._fd, self._end, self._chunk
        buf = b""
        buf_start = self.position
        pos = self.position
        while pos < end:
            off = pos - buf_start
            if off + HEADER_SIZE > len(buf):
                buf = os.pread(fd, min(max(chunk, HEADER_SIZE), end - pos), pos)
                buf_start, off = pos, 0
                if len(buf) < HEADER_SIZE:
                    self.error = f"torn batch header ({len(buf)} bytes) at position {pos}"
                    return
            header = HEADER.unpack_from(buf, off)
            length = header[F_BATCH_LENGTH]
            if header[F_MAGIC] != MAGIC_V2 or length < MIN_BATCH_LENGTH or header[F_LAST_OFFSET_DELTA] < 0:
                self.error = f"invalid batch header at position {pos}"
                return
            if header[F_BASE_OFFSET] < self.next_offset:
                # later offsets may be missing (a compacted log), but never go backwards
                self.error = (
                    f"batch at position {pos} has base offset {header[F_BASE_OFFSET]},"
                    f" expected at least {self.next_offset}"
                )
                return
            size = length + LOG_OVERHEAD
            if pos + size > end:
                self.error = f"torn batch at position {pos}: {end - pos} of {size} bytes present"
                return
            if off + size > len(buf):
                if self._verify_crc:
                    buf = os.pread(fd, max(min(chunk, end - pos), size), pos)
                    buf_start, off = pos, 0
                    if len(buf) < size:
                        self.error = f"torn batch at position {pos}"
                        return
                else:
                    buf, buf_start, off = b"", pos + size, 0
            if self._verify_crc:
                view = memoryview(buf)[off + CRC_START : off + size]
                if crc32c.crc32c(view) != header[F_CRC]:
                    self.error = f"CRC mismatch in batch at position {pos} (offset {header[F_BASE_OFFSET]})"
                    return
            yield pos, size, header
            pos += size
            self.position = pos
            self.next_offset = header[F_BASE_OFFSET] + header[F_LAST_OFFSET_DELTA] + 1
