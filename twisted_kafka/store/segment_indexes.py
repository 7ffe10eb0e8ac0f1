# -*- test-case-name: tests.store.test_segment -*-
"""A segment's two sparse indexes: loading, checking, keeping up with appends, rebuilding, writing.

The indexes are hints: loading checks only what is cheap, a read verifies the
entry it follows (see L{twisted_kafka.store.segment}), and a bad index is
rebuilt from the log: synchronously during start-up, or, once
L{IndexedSegment.clock} is set, by an L{IndexRebuild} in time slices.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, TypeVar

from twisted_kafka.store.batch_header import (
    BASE_OFFSET,
    F_BASE_OFFSET,
    F_LAST_OFFSET_DELTA,
    F_MAX_TIMESTAMP,
    LOG_OVERHEAD,
)
from twisted_kafka.store.index import OffsetIndex, TimeIndex
from twisted_kafka.store.index_rebuild import IndexRebuild
from twisted_kafka.store.scan import BatchScanner
from twisted_kafka.store.segment_file import Header, SegmentFile

if TYPE_CHECKING:
    from twisted_kafka.store.runtime import ReactorClock


class IndexedSegment(SegmentFile):
    """A segment file with its offset and time indexes and its max timestamp.

    @ivar index_interval: bytes between index entries when the indexes are rebuilt.
    @ivar max_timestamp: largest batch maxTimestamp (-1 if unknown).
    @ivar offset_of_max_timestamp: base offset of the batch carrying it.
    @ivar bytes_since_index: bytes appended since the last index entry.
    @ivar clock: the reactor's clock once the store serves (run-time index
        rebuilds then go in slices); C{None} during start-up (synchronous).
    @ivar rebuild: the index rebuild in progress, if any.
    """

    def __init__(self, directory: str, base_offset: int, index_interval: int = 4096) -> None:
        super().__init__(directory, base_offset)
        self.index_interval = index_interval
        self.max_timestamp = -1
        self.offset_of_max_timestamp = base_offset
        self.bytes_since_index = 0
        self._index: OffsetIndex | None = None
        self._time_index: TimeIndex | None = None
        self.clock: ReactorClock | None = None
        self.rebuild: IndexRebuild | None = None

    @property
    def index(self) -> OffsetIndex:
        """The offset index, loaded on first use.

        Loading checks only what is cheap (whole entries, bounds, the last
        entry pointing at its batch); every entry is verified when a read
        follows it. A bad file is rebuilt from the log.
        """
        index = self._index
        if index is None:
            index = _read_index(self.index_path, OffsetIndex)
            if index is None or not index.is_sane(self.size) or not self._entry_points_at_batch(index.last()):
                return self._replace_indexes()[0]
            self._index = index
        return index

    @property
    def time_index(self) -> TimeIndex:
        """The time index, loaded (and fully checked: it cannot be verified on use) on first use."""
        time_index = self._time_index
        if time_index is None:
            time_index = _read_index(self.time_index_path, TimeIndex)
            if time_index is None or not time_index.is_sane(self.next_offset - self.base_offset):
                return self._replace_indexes()[1]
            self._time_index = time_index
        return time_index

    def indexes_loaded(self) -> bool:
        """Whether the offset index is in memory."""
        return self._index is not None

    def drop_indexes(self) -> None:
        """Forget the in-memory indexes of a sealed segment (they are on disk; reloaded on use).

        Not while they are being rebuilt: the rebuild writes them when it finishes.
        """
        if self.rebuild is None:
            self._index = self._time_index = None

    def _entry_points_at_batch(self, entry: tuple[int, int] | None) -> bool:
        """Whether an index entry points at a batch header with the right offset."""
        if entry is None:
            return True
        relative, position = entry
        data = os.pread(self.fd, LOG_OVERHEAD, position)
        if len(data) < LOG_OVERHEAD:
            return False
        stored: int = BASE_OFFSET.unpack_from(data)[0]
        return stored == self.base_offset + relative

    def reset_for_scan(self) -> None:
        """Forget everything known about the contents before a full rescan."""
        self.stop_rebuild()
        self._index = OffsetIndex()
        self._time_index = TimeIndex()
        self.max_timestamp = -1
        self.offset_of_max_timestamp = self.base_offset
        self.bytes_since_index = 0
        self.size = 0
        self.next_offset = self.base_offset

    def check_index_files(self) -> bool:
        """A cheap start-up check of the index files of a sealed segment.

        Looks at the file sizes and the last entry of each (without loading
        the whole index), walks the batch headers from the last offset-index
        entry to the end of the file to learn where the segment really ends
        (L{next_offset}), and takes the segment's max timestamp from the time
        index. C{False} means the indexes must be rebuilt (or the file does
        not end on a batch boundary).
        """
        try:
            index_size = os.path.getsize(self.index_path)
            time_size = os.path.getsize(self.time_index_path)
        except OSError:
            return False
        if index_size % OffsetIndex.ENTRY_SIZE or time_size % TimeIndex.ENTRY_SIZE:
            return False
        if index_size:
            with open(self.index_path, "rb") as f:
                f.seek(index_size - OffsetIndex.ENTRY_SIZE)
                last = OffsetIndex.from_bytes(f.read()).last()
            if last is None or last[0] < 0 or not 0 <= last[1] < self.size:
                return False
            if not self._entry_points_at_batch(last):
                return False
        relative, position = last if index_size and last is not None else (0, 0)
        end = self._walk_to_end(self.base_offset + relative, position)
        if end is None:
            return False
        self.next_offset = end
        if time_size:
            with open(self.time_index_path, "rb") as f:
                f.seek(time_size - TimeIndex.ENTRY_SIZE)
                last_time = TimeIndex.from_bytes(f.read()).last()
            if last_time is None or not 0 <= last_time[1] < self.next_offset - self.base_offset:
                return False
            self.max_timestamp, relative = last_time
            self.offset_of_max_timestamp = self.base_offset + relative
        return True

    def _walk_to_end(self, offset: int, position: int) -> int | None:
        """The offset after the last batch, walking headers from the batch at C{position} (holding C{offset}).

        C{None} if the offsets go backwards or the batches do not end exactly at the end of the file.
        """
        size = self.size
        for found, batch_size, header in self.headers(position, size):
            if header[F_BASE_OFFSET] < offset or found + batch_size > size:
                return None  # backwards (a compacted segment may skip offsets) or torn
            offset = header[F_BASE_OFFSET] + header[F_LAST_OFFSET_DELTA] + 1
            position = found + batch_size
        return offset if position == size else None

    def rebuild_indexes(self) -> tuple[OffsetIndex, TimeIndex]:
        """Rebuild both indexes by walking the batch headers of the log."""
        size, next_offset = self.size, self.next_offset
        self._index = OffsetIndex()
        self._time_index = TimeIndex()
        self.max_timestamp = -1
        self.bytes_since_index = 0
        scanner = BatchScanner(self.fd, 0, size, self.base_offset, verify_crc=False)
        for position, batch_size, header in scanner:
            self.track(position, batch_size, header, self.index_interval)
        self.seal_time_index()
        self.size, self.next_offset = size, next_offset
        return self._index, self._time_index

    def _replace_indexes(self) -> tuple[OffsetIndex, TimeIndex]:
        """Indexes found wrong: rebuild them now (start-up) or start a sliced rebuild (run time).

        A sliced rebuild replaces both indexes with empty ones at once and
        removes the bad files (so nothing stale is loaded after a restart).
        """
        if self.clock is None:
            return self.rebuild_indexes()
        rebuild = self.rebuild
        if rebuild is None:
            rebuild = self.rebuild = IndexRebuild(self, self.clock)
            self._index, self._time_index = rebuild.index, rebuild.time_index
            for path in (self.index_path, self.time_index_path):
                try:
                    os.unlink(path)
                except OSError:
                    pass
            rebuild.start()
        return rebuild.index, rebuild.time_index

    def rebuilt(self, rebuild: IndexRebuild, complete: bool) -> None:
        """C{rebuild} indexed the whole log (or stopped at damage): use it and write the index files."""
        if rebuild is not self.rebuild:
            return
        self.rebuild = None
        self.bytes_since_index = rebuild.bytes_since_index
        if complete:
            self.max_timestamp = rebuild.max_timestamp
            self.offset_of_max_timestamp = rebuild.offset_of_max_timestamp
        try:
            self.write_indexes()
        except OSError as e:
            rebuild.log.warn("Could not write indexes of {path}: {error}", path=self.log_path, error=e)

    def stop_rebuild(self) -> None:
        """Abandon a rebuild in progress (the segment is deleted or closed); its indexes are forgotten."""
        rebuild, self.rebuild = self.rebuild, None
        if rebuild is not None:
            rebuild.stop()
            self._index = self._time_index = None

    def track(self, position: int, size: int, header: Header, index_interval: int) -> None:
        """Account for a batch found in the file (recovery and rebuilds)."""
        self._account(
            position, size, header[F_BASE_OFFSET], header[F_LAST_OFFSET_DELTA], header[F_MAX_TIMESTAMP], index_interval
        )

    def _account(
        self, position: int, size: int, offset: int, last_delta: int, max_timestamp: int, index_interval: int
    ) -> None:
        """Update size, end offset, max timestamp and indexes for a batch now in the file."""
        self.size = position + size
        self.next_offset = offset + last_delta + 1
        if max_timestamp > self.max_timestamp:
            self.max_timestamp = max_timestamp
            self.offset_of_max_timestamp = offset
        if self.rebuild is not None:
            return  # beyond the rebuild's frontier: it indexes this batch when it gets there
        if self.bytes_since_index > index_interval:
            self._add_index_entry(offset, position)
            self.bytes_since_index = size
        else:
            self.bytes_since_index += size

    def _add_index_entry(self, offset: int, position: int) -> None:
        """Index the batch at C{position} (and the running max timestamp)."""
        base = self.base_offset
        index = self._index if self._index is not None else self.index
        index.offsets.append(offset - base)
        index.positions.append(position)
        times = self._time_index if self._time_index is not None else self.time_index
        timestamp = self.max_timestamp
        stamps = times.timestamps
        if timestamp >= 0 and (not stamps or timestamp > stamps[-1]):
            stamps.append(timestamp)
            times.offsets.append(self.offset_of_max_timestamp - base)

    def seal_time_index(self) -> None:
        """Make the time index's last entry the segment's max timestamp (as Kafka does)."""
        if self._time_index is not None and self.max_timestamp >= 0:
            self._time_index.maybe_append(self.max_timestamp, self.offset_of_max_timestamp - self.base_offset)

    def write_indexes(self) -> None:
        """Write both indexes to their files (not fsynced).

        Nothing while they are being rebuilt: the rebuild writes them when it finishes.
        """
        if self.rebuild is not None:
            return
        self.seal_time_index()
        for path, index in ((self.index_path, self.index), (self.time_index_path, self.time_index)):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
            try:
                os.write(fd, index.to_bytes())
            finally:
                os.close(fd)


_Index = TypeVar("_Index", OffsetIndex, TimeIndex)


def _read_index(path: str, kind: type[_Index]) -> _Index | None:
    """Parse an index file; C{None} if missing or not a whole number of entries."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None
    if len(data) % kind.ENTRY_SIZE:
        return None
    return kind.from_bytes(data)
