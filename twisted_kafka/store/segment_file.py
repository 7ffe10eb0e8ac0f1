# -*- test-case-name: tests.store.test_segment -*-
"""A segment's C{.log} file: its paths, its descriptor, header walks and the positioned write.

L{SegmentFile} knows nothing of indexes: it opens the file on first use
(counting a sealed segment's descriptor against the store's limit on open
files), walks batch headers, and writes one batch at the end with one
C{pwritev}, cutting the file back if that fails.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

from twisted_kafka.store.batch_header import (
    APPEND_PREFIX,
    F_BATCH_LENGTH,
    F_MAX_TIMESTAMP,
    HEADER,
    HEADER_SIZE,
    LOG_OVERHEAD,
    MIN_BATCH_LENGTH,
    PARTITION_LEADER_EPOCH,
)

if TYPE_CHECKING:
    from twisted_kafka.store.open_files import SealedFiles

LOG_SUFFIX = ".log"
INDEX_SUFFIX = ".index"
TIME_INDEX_SUFFIX = ".timeindex"

#: How much a header walk reads at a time.
WALK_CHUNK = 8192

Header = tuple[int, int, int, int, int, int, int, int, int, int, int, int, int]


def segment_name(base_offset: int) -> str:
    """The file name stem of the segment starting at C{base_offset}."""
    return f"{base_offset:020d}"


class SegmentFile:
    """The C{.log} file of one segment and where its valid batches end.

    @ivar base_offset: offset of its first batch (and its file name).
    @ivar size: bytes of valid batches in the file.
    @ivar next_offset: one past the last offset it holds (C{base_offset} if empty).
    @ivar broken: set when a failed append could not be cut back: the file is unusable.
    @ivar open_files: the store's limit on open sealed files, while this segment is sealed.
    """

    def __init__(self, directory: str, base_offset: int) -> None:
        self.directory = directory
        self.base_offset = base_offset
        stem = os.path.join(directory, segment_name(base_offset))
        self.log_path = stem + LOG_SUFFIX
        self.index_path = stem + INDEX_SUFFIX
        self.time_index_path = stem + TIME_INDEX_SUFFIX
        self.size = 0
        self.next_offset = base_offset
        self._fd: int | None = None
        self.broken = False
        self.open_files: SealedFiles | None = None

    @property
    def fd(self) -> int:
        """The open C{.log} file (opened on first use)."""
        fd = self._fd
        if fd is None:
            fd = self._fd = os.open(self.log_path, os.O_RDWR | os.O_CLOEXEC)
            if self.open_files is not None:
                self.open_files.used(self)
        return fd

    def detach_fd(self) -> int | None:
        """Forget the open file and hand it to the caller to close."""
        fd, self._fd = self._fd, None
        if self.open_files is not None:
            self.open_files.forget(self)
        return fd

    def seal(self, open_files: SealedFiles | None) -> None:
        """Count this segment's open file against C{open_files} from now on (it is no longer active)."""
        self.open_files = open_files
        if open_files is not None and self._fd is not None:
            open_files.used(self)

    def unseal(self) -> None:
        """This segment is the active one: its file stays open, outside any limit."""
        if self.open_files is not None:
            self.open_files.forget(self)
        self.open_files = None

    def touch(self) -> None:
        """Mark a sealed segment's open file as recently used."""
        if self.open_files is not None and self._fd is not None:
            self.open_files.used(self)

    def headers(self, position: int, end: int) -> Iterator[tuple[int, int, Header]]:
        """Yield C{(position, size, header)} of the batches starting in C{[position, end)}.

        Reads L{WALK_CHUNK} bytes at a time and skips over batch bodies; stops
        quietly at anything that is not a plausible header.
        """
        fd = self.fd
        buf = b""
        buf_start = position
        while position < end:
            off = position - buf_start
            if off + HEADER_SIZE > len(buf):
                buf = os.pread(fd, max(HEADER_SIZE, min(WALK_CHUNK, self.size - position)), position)
                buf_start, off = position, 0
                if len(buf) < HEADER_SIZE:
                    return
            header = HEADER.unpack_from(buf, off)
            length = header[F_BATCH_LENGTH]
            if length < MIN_BATCH_LENGTH:
                return
            size = length + LOG_OVERHEAD
            yield position, size, header
            position += size

    def first_timestamp(self) -> int | None:
        """The maxTimestamp of the first batch, or C{None} if the segment is empty."""
        if not self.size:
            return None
        data = os.pread(self.fd, HEADER_SIZE, 0)
        if len(data) < HEADER_SIZE:
            return None
        max_timestamp: int = HEADER.unpack_from(data)[F_MAX_TIMESTAMP]
        return max_timestamp

    def truncate(self, size: int) -> None:
        """Cut the file at C{size} (recovery).

        The indexes are not touched: recovery has rebuilt them from the
        batches it kept, all of which lie before C{size}.
        """
        os.ftruncate(self.fd, size)
        self.size = size

    def write_batch(self, batch: bytes | bytearray | memoryview, offset: int) -> int:
        """Write one batch at the end (L{size}) with its baseOffset set to C{offset}.

        Its partitionLeaderEpoch is stamped with L{PARTITION_LEADER_EPOCH},
        as a Kafka leader does; both fields are outside the CRC, and they go
        out in one C{pwritev} with the producer's bytes (no copy). L{size} is
        left to the caller.

        @return: the position it was written at.
        @raise OSError: nothing was stored (the file was cut back, or
            L{broken} is set if that failed too).
        """
        position = self.size
        n = len(batch)
        fd = self._fd
        if fd is None:
            fd = self.fd
        size = APPEND_PREFIX.size
        view = memoryview(batch)[size:]
        prefix = APPEND_PREFIX.pack(offset, n - LOG_OVERHEAD, PARTITION_LEADER_EPOCH)
        try:
            written = os.pwritev(fd, [prefix, view], position)
            while written < n:
                rest: list[bytes | memoryview]
                if written < size:
                    rest = [prefix[written:], view]
                else:
                    rest = [view[written - size :]]
                more = os.pwritev(fd, rest, position + written)
                if not more:
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                written += more
        except OSError:
            try:
                os.ftruncate(fd, position)
            except OSError:
                self.broken = True
            raise
        return position
