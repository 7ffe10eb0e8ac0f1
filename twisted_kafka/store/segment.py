# -*- test-case-name: tests.store.test_segment -*-
"""One segment of a stream queue: a ``.log`` file and its two sparse indexes.

A segment holds consecutive record batches starting at its base offset (the
20-digit file name). Appends go to the end of the active (last) segment with
one positioned write; reads find the batch holding an offset through the
sparse offset index and a short header walk, then return whole batches with
one ``os.pread``. See ``docs/on-disk-format.md``.

A stale index entry found at run time (once L{Segment.clock} is set) starts
an L{IndexRebuild} in time slices; until it finishes, reads walk headers from
its frontier for anything it has not reached.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, TypeVar

from twisted_kafka.store.batch_header import (
    APPEND_PREFIX,
    BASE_OFFSET,
    PARTITION_LEADER_EPOCH,
    F_BASE_OFFSET,
    F_BATCH_LENGTH,
    F_LAST_OFFSET_DELTA,
    F_MAX_TIMESTAMP,
    HEADER,
    HEADER_SIZE,
    LOG_OVERHEAD,
    MIN_BATCH_LENGTH,
)
from twisted_kafka.store.index import OffsetIndex, TimeIndex
from twisted_kafka.store.index_rebuild import IndexRebuild
from twisted_kafka.store.scan import BatchScanner

if TYPE_CHECKING:
    from twisted_kafka.store.open_files import SealedFiles
    from twisted_kafka.store.runtime import ReactorClock

LOG_SUFFIX = ".log"
INDEX_SUFFIX = ".index"
TIME_INDEX_SUFFIX = ".timeindex"

#: How much a header walk reads at a time.
WALK_CHUNK = 8192

Header = tuple[int, int, int, int, int, int, int, int, int, int, int, int, int]


def segment_name(base_offset: int) -> str:
    """The file name stem of the segment starting at C{base_offset}."""
    return f"{base_offset:020d}"


class Segment:
    """A ``.log`` file, its in-memory indexes and what is known about its contents.

    @ivar base_offset: offset of its first batch (and its file name).
    @ivar size: bytes of valid batches in the file.
    @ivar next_offset: one past the last offset it holds (C{base_offset} if empty).
    @ivar max_timestamp: largest batch maxTimestamp (-1 if unknown).
    @ivar offset_of_max_timestamp: base offset of the batch carrying it.
    @ivar rolling_base_ms: when the segment's age starts (for C{segment.ms}),
        or C{None} while it is empty.
    @ivar bytes_since_index: bytes appended since the last index entry.
    @ivar clock: the reactor's clock once the store serves (run-time index
        rebuilds then go in slices); C{None} during start-up (synchronous).
    @ivar rebuild: the index rebuild in progress, if any.
    """

    def __init__(self, directory: str, base_offset: int, index_interval: int = 4096) -> None:
        self.directory = directory
        #: bytes between index entries when the indexes are rebuilt
        self.index_interval = index_interval
        self.base_offset = base_offset
        stem = os.path.join(directory, segment_name(base_offset))
        self.log_path = stem + LOG_SUFFIX
        self.index_path = stem + INDEX_SUFFIX
        self.time_index_path = stem + TIME_INDEX_SUFFIX
        self.size = 0
        self.next_offset = base_offset
        self.max_timestamp = -1
        self.offset_of_max_timestamp = base_offset
        self.rolling_base_ms: int | None = None
        self.bytes_since_index = 0
        self._index: OffsetIndex | None = None
        self._time_index: TimeIndex | None = None
        self._fd: int | None = None
        #: set when a failed append could not be cut back: the file is unusable
        self.broken = False
        #: the store's limit on open sealed files, while this segment is sealed
        self.open_files: SealedFiles | None = None
        self.clock: ReactorClock | None = None
        self.rebuild: IndexRebuild | None = None

    def __repr__(self) -> str:
        return f"<Segment {self.log_path} [{self.base_offset}, {self.next_offset}) {self.size}B>"

    # -- files ---------------------------------------------------------------

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

    @property
    def fd(self) -> int:
        """The open ``.log`` file (opened on first use)."""
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
        return BASE_OFFSET.unpack_from(data)[0] == self.base_offset + relative

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

        C{None} if the batches are not contiguous or do not end exactly at the end of the file.
        """
        size = self.size
        for found, batch_size, header in self.headers(position, size):
            if header[F_BASE_OFFSET] != offset or found + batch_size > size:
                return None
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

    def first_timestamp(self) -> int | None:
        """The maxTimestamp of the first batch, or C{None} if the segment is empty."""
        if not self.size:
            return None
        data = os.pread(self.fd, HEADER_SIZE, 0)
        if len(data) < HEADER_SIZE:
            return None
        return HEADER.unpack_from(data)[F_MAX_TIMESTAMP]

    def truncate(self, size: int) -> None:
        """Cut the file at C{size} (recovery) and forget index entries past it."""
        os.ftruncate(self.fd, size)
        self.size = size

    # -- append / read -------------------------------------------------------

    def append(self, batch: bytes | bytearray | memoryview, offset: int, last_delta: int,
               max_timestamp: int, index_interval: int) -> None:
        """Write one batch at the end with its baseOffset set to C{offset}.

        Its partitionLeaderEpoch is stamped with L{PARTITION_LEADER_EPOCH},
        as a Kafka leader does; both fields are outside the CRC, and they go
        out in one C{pwritev} with the producer's bytes (no copy).

        @raise OSError: nothing was stored (the file was cut back).
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
        self._account(position, n, offset, last_delta, max_timestamp, index_interval)

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

    def _checked_headers(self, entry: tuple[int, int], end: int) -> Iterator[tuple[int, int, Header]]:
        """L{headers} from an index entry, verifying the entry points at the right batch.

        A wrong entry (the indexes are only hints) rebuilds the indexes and
        raises L{StaleIndex} so the caller starts over.
        """
        relative, position = entry
        first = True
        for found in self.headers(position, end):
            if first and found[2][F_BASE_OFFSET] != self.base_offset + relative:
                self._replace_indexes()
                raise StaleIndex(self.index_path)
            first = False
            yield found

    def locate(self, offset: int) -> tuple[int, int, Header] | None:
        """Position, size and header of the batch holding C{offset}."""
        for _ in range(2):
            try:
                return self._locate(offset)
            except StaleIndex:
                pass
        return None

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
            if header[F_BASE_OFFSET] > offset:
                return None  # not in this segment (or the segment is damaged)
            if offset <= header[F_BASE_OFFSET] + header[F_LAST_OFFSET_DELTA]:
                return position, size, header
        return None

    def read(self, offset: int, max_bytes: int, min_one: bool = True) -> bytes:
        """Whole batches from the one holding C{offset}, as described in L{PartitionLog.read}."""
        for _ in range(2):
            try:
                return self._read(offset, max_bytes, min_one)
            except StaleIndex:
                pass
        return b""

    def _read(self, offset: int, max_bytes: int, min_one: bool) -> bytes:
        found = self._locate(offset)
        if found is None:
            return b""
        start, first_size, _ = found
        if first_size > max_bytes and not min_one:
            return b""
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
        return os.pread(self.fd, end - start, start)

    def find_timestamp(self, timestamp: int, min_offset: int) -> tuple[int, int] | None:
        """C{(base offset, maxTimestamp)} of the first batch with maxTimestamp >= C{timestamp}.

        Batches ending before C{min_offset} are skipped.
        """
        for _ in range(2):
            try:
                return self._find_timestamp(timestamp, min_offset)
            except StaleIndex:
                pass
        return None

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
