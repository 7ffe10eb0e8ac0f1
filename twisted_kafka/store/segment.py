# -*- test-case-name: tests.store.test_segment -*-
"""One segment of a stream queue: a C{.log} file and its two sparse indexes.

A segment holds consecutive record batches starting at its base offset (the
20-digit file name). Appends go to the end of the active (last) segment with
one positioned write; reads find the batch holding an offset through the
sparse offset index and a short header walk, then return whole batches with
one C{os.pread}, or (L{Segment.read_file_records}, for Fetch) as a range of
the file for C{os.sendfile}. See C{docs/on-disk-format.md}.

The jobs are split by module: L{twisted_kafka.store.segment_file} (the file,
header walks, the positioned write), L{twisted_kafka.store.segment_indexes}
(the indexes and their rebuilds) and this one (appends and reads). A stale
index entry found at run time starts an L{IndexRebuild} in time slices;
until it finishes, reads walk headers from its frontier for anything it has
not reached.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import ParamSpec, TypeVar

from twisted_kafka.protocol.file_records import FileRecords
from twisted_kafka.store.batch_header import F_BASE_OFFSET, F_LAST_OFFSET_DELTA, F_MAX_TIMESTAMP
from twisted_kafka.store.index import OffsetIndex, TimeIndex
from twisted_kafka.store.segment_file import Header
from twisted_kafka.store.segment_indexes import IndexedSegment

#: Reads of at least this many bytes can be answered as a file range (sendfile).
FILE_RECORDS_MIN = 64 * 1024

_P = ParamSpec("_P")
_R = TypeVar("_R")


class Segment(IndexedSegment):
    """A C{.log} file, its in-memory indexes and what is known about its contents.

    See L{SegmentFile} and L{IndexedSegment} for the attributes they keep.

    @ivar rolling_base_ms: when the segment's age starts (for C{segment.ms}),
        or C{None} while it is empty.
    """

    def __init__(self, directory: str, base_offset: int, index_interval: int = 4096) -> None:
        super().__init__(directory, base_offset, index_interval)
        self.rolling_base_ms: int | None = None

    def __repr__(self) -> str:
        return f"<Segment {self.log_path} [{self.base_offset}, {self.next_offset}) {self.size}B>"

    @classmethod
    def create(cls, directory: str, base_offset: int, index_interval: int = 4096) -> Segment:
        """Create an empty segment file (the new active segment)."""
        segment = cls(directory, base_offset, index_interval)
        for path in (segment.index_path, segment.time_index_path):
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
        segment._fd = os.open(segment.log_path, os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
        segment._index = OffsetIndex()
        segment._time_index = TimeIndex()
        return segment

    # -- append / read -------------------------------------------------------

    def append(self, batch: bytes | bytearray | memoryview, offset: int, last_delta: int,
               max_timestamp: int, index_interval: int) -> None:
        """Write one batch at the end with its baseOffset set to C{offset} (L{write_batch}) and index it.

        @raise OSError: nothing was stored (the file was cut back).
        """
        position = self.write_batch(batch, offset)
        self._account(position, len(batch), offset, last_delta, max_timestamp, index_interval)

    def _checked_headers(self, entry: tuple[int, int], end: int) -> Iterator[tuple[int, int, Header]]:
        """L{headers} from an index entry, verifying the entry points at the right batch.

        A wrong entry (the indexes are only hints) rebuilds the indexes and
        raises L{StaleIndex} so the caller starts over.
        """
        relative, position = entry
        # the first batch of a compacted segment may start past its base offset, and a
        # rebuild's frontier names the offset after the last batch it indexed, which
        # may be below the next batch's in a compacted segment
        first = position > 0
        rebuild = self.rebuild
        at_least = rebuild is not None and entry == rebuild.frontier()
        for found in self.headers(position, end):
            stored = found[2][F_BASE_OFFSET]
            expected = self.base_offset + relative
            if first and (stored < expected if at_least else stored != expected):
                self._replace_indexes()
                raise StaleIndex(self.index_path)
            first = False
            yield found

    def locate(self, offset: int) -> tuple[int, int, Header] | None:
        """Position, size and header of the batch holding C{offset} (or the first after it, in a gap)."""
        return _after_stale_index(None, self._locate, offset)

    def _start_entry(self, relative: int) -> tuple[int, int]:
        """Where a header walk for C{relative} starts: its index entry, or the rebuild's frontier past it."""
        entry = self.index.lookup(relative)
        rebuild = self.rebuild
        if rebuild is not None:
            frontier = rebuild.frontier()
            if frontier[0] <= relative:
                return frontier
        return entry

    def _locate(self, offset: int) -> tuple[int, int, Header] | None:
        entry = self._start_entry(offset - self.base_offset)
        for position, size, header in self._checked_headers(entry, self.size):
            if offset <= header[F_BASE_OFFSET] + header[F_LAST_OFFSET_DELTA]:
                # the batch holding it, or the next one after a gap (a compacted log), as Kafka reads
                return position, size, header
        return None

    def read(self, offset: int, max_bytes: int, min_one: bool = True) -> bytes:
        """Whole batches from the one holding C{offset}, as described in L{PartitionLog.read}."""
        span = _after_stale_index(None, self._span, offset, max_bytes, min_one)
        if span is None:
            return b""
        start, end = span
        return os.pread(self.fd, end - start, start)

    def read_file_records(self, offset: int, max_bytes: int,
                          min_one: bool = True) -> bytes | FileRecords:
        """The batches L{read} returns, as a range of this file once they are L{FILE_RECORDS_MIN} bytes or more."""
        span = _after_stale_index(None, self._span, offset, max_bytes, min_one)
        if span is None:
            return b""
        start, end = span
        if end - start >= FILE_RECORDS_MIN:
            try:
                return FileRecords.of(self.fd, start, end - start)
            except OSError:
                pass  # out of descriptors (EMFILE): read the bytes instead
        return os.pread(self.fd, end - start, start)

    def _span(self, offset: int, max_bytes: int, min_one: bool) -> tuple[int, int] | None:
        """Where the batches L{read} returns lie in the file, or C{None} for none."""
        found = self._locate(offset)
        if found is None:
            return None
        start, first_size, _ = found
        if first_size > max_bytes and not min_one:
            return None
        first_end = start + first_size
        limit = start + max(max_bytes, first_size)
        if limit >= self.size:
            end = self.size
        else:
            entry = self.index.floor_position(limit)
            rebuild = self.rebuild
            if rebuild is not None and entry[1] < rebuild.position <= limit:
                entry = rebuild.frontier()
            if entry[1] > first_end:
                end = entry[1]
                walk = self._checked_headers(entry, limit)
            else:
                end = first_end
                walk = self.headers(first_end, limit)
            for position, size, _ in walk:
                if position + size > limit:
                    break
                end = position + size
        return start, end

    def find_timestamp(self, timestamp: int, min_offset: int) -> tuple[int, int] | None:
        """C{(base offset, maxTimestamp)} of the first batch with maxTimestamp >= C{timestamp}.

        Batches ending before C{min_offset} are skipped.
        """
        return _after_stale_index(None, self._find_timestamp, timestamp, min_offset)

    def _find_timestamp(self, timestamp: int, min_offset: int) -> tuple[int, int] | None:
        relative = self.time_index.lookup_before(timestamp)
        entry = (0, 0) if relative is None else self.index.lookup(relative)
        if min_offset > self.base_offset:
            entry = max(entry, self._start_entry(min_offset - self.base_offset))
        rebuild = self.rebuild
        if rebuild is not None and rebuild.max_timestamp < timestamp:
            entry = max(entry, rebuild.frontier())  # every batch before the frontier is older
        for _, _, header in self._checked_headers(entry, self.size):
            if header[F_MAX_TIMESTAMP] >= timestamp and header[F_BASE_OFFSET] + header[F_LAST_OFFSET_DELTA] >= min_offset:
                return header[F_BASE_OFFSET], header[F_MAX_TIMESTAMP]
        return None


class StaleIndex(Exception):
    """An index entry did not point at the batch it names (the index was rebuilt)."""


def _after_stale_index(default: _R, lookup: Callable[_P, _R], *args: _P.args, **kwargs: _P.kwargs) -> _R:
    """C{lookup(*args)}, tried once more if it met a stale index entry; C{default} if it met two.

    A stale entry makes the segment replace its indexes before
    L{StaleIndex} is raised, so the second try follows fresh ones.
    """
    for _ in range(2):
        try:
            return lookup(*args, **kwargs)
        except StaleIndex:
            pass
    return default
