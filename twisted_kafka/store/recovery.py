# -*- test-case-name: tests.store.test_recovery -*-
"""Opening a partition directory: cleanup, index checks and crash recovery.

After a clean shutdown every segment's indexes were written and the log ends
on a batch boundary, so opening is a cheap sanity check of each index file
and a short header walk from each segment's last index entry to its end.

After an unclean one, every segment from the partition's recovery point (the
first segment not known to be fsynced) is rescanned: batch headers, CRC-32C
and offset continuity. The log is cut at the first torn or corrupt batch,
every later segment is removed (they hold nothing acknowledged: an fsync
round that covers a later segment covers this one too), and what was cut is
logged. Sealed segments below the recovery point keep their indexes when
those look sane, so start-up time does not grow with the amount of data.

Segments below the recovery point (all of them after a clean shutdown) were
fsynced, so damage found in one of them (a torn or corrupt batch, a missing
segment) cuts or loses only that segment's batches and leaves a hole in the
offsets; the later segments are kept, as Kafka keeps flushed segments, and
reads skip the hole.

Leftovers of interrupted operations are removed: C{*.tmp} files, anything
C{*.deleted}, index files without a log, and segments entirely below the
log start offset. An interrupted clean of a compacted log is rolled back
(its C{.cleaned} copies removed) or, past its commit point, completed
(L{twisted_kafka.store.swap}).
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass

from twisted.logger import Logger

from twisted_kafka.store import metafile, swap
from twisted_kafka.store.batch_header import (
    F_BASE_OFFSET,
    F_LAST_OFFSET_DELTA,
    F_MAX_TIMESTAMP,
    F_PRODUCER_EPOCH,
    F_PRODUCER_ID,
    F_BASE_SEQUENCE,
)
from twisted_kafka.store.open_files import SealedFiles
from twisted_kafka.store.producers import ProducerStateTable
from twisted_kafka.store.scan import BatchScanner
from twisted_kafka.store.segment import Segment
from twisted_kafka.store.segment_file import INDEX_SUFFIX, LOG_SUFFIX, TIME_INDEX_SUFFIX

log = Logger()

LOG_START_FILE = "log-start-offset"
RECOVERY_POINT_FILE = "recovery-point"
SNAPSHOT_SUFFIX = ".snapshot"
DELETED_SUFFIX = ".deleted"

_SEGMENT_FILE = re.compile(r"(\d{20})(\.log|\.index|\.timeindex|\.snapshot)")

#: Producer snapshots kept per partition.
SNAPSHOTS_TO_KEEP = 2


def snapshot_path(directory: str, offset: int) -> str:
    """Path of the producer-state snapshot taken at C{offset}."""
    return os.path.join(directory, f"{offset:020d}{SNAPSHOT_SUFFIX}")


def remove_path(path: str) -> None:
    """Remove a file or a directory tree, ignoring one that is already gone."""
    try:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.unlink(path)
    except FileNotFoundError:
        pass


@dataclass
class LoadedLog:
    """The result of opening a partition directory.

    @ivar segments: segments in offset order, at least one; the last is active.
    @ivar log_start_offset: the first readable offset.
    @ivar producers: idempotent-producer state as of the end of the log.
    """

    segments: list[Segment]
    log_start_offset: int
    producers: ProducerStateTable


class PartitionLoader:
    """Open (and if needed repair) one partition directory."""

    def __init__(
        self,
        directory: str,
        clean: bool,
        index_interval: int,
        now_ms: int,
        durable: bool,
        open_files: SealedFiles | None = None,
    ) -> None:
        self.directory = directory
        self.open_files = open_files
        self.clean = clean
        self.index_interval = index_interval
        self.now_ms = now_ms
        self.durable = durable
        self.truncated = False

    def load(self) -> LoadedLog:
        """Open the directory and return its consistent log."""
        os.makedirs(self.directory, exist_ok=True)
        if swap.finish_interrupted(self.directory):
            self.truncated = True  # the directory changed: fsync it
        bases, snapshots = self._list_and_clean()
        log_start = self._read_offset(LOG_START_FILE)
        recovery_point = self._read_offset(RECOVERY_POINT_FILE)
        segments = [Segment(self.directory, base, self.index_interval) for base in bases]
        for segment in segments:
            segment.size = os.path.getsize(segment.log_path)
            segment.open_files = self.open_files  # sealed until we know which one is active
        for left, right in zip(segments, segments[1:]):
            left.next_offset = right.base_offset
        if segments:
            segments[-1].next_offset = segments[-1].base_offset
        # Segments wholly below the log start (an interrupted retention or DeleteRecords).
        if log_start is not None:
            while len(segments) > 1 and segments[1].base_offset <= log_start:
                self._remove_segment_files(segments.pop(0), "below the log start offset")
        if segments:
            self._open_segments(segments, recovery_point)
        if not segments:
            start = log_start or 0
            segments = [Segment.create(self.directory, start, self.index_interval)]
        if self.truncated and self.durable:
            metafile.fsync_dir(self.directory)
        active = segments[-1]
        active.unseal()
        first_ts = active.first_timestamp()
        active.rolling_base_ms = self.now_ms if first_ts is None else min(max(first_ts, 0), self.now_ms)
        end = active.next_offset
        start = segments[0].base_offset
        if log_start is None or log_start < start:
            log_start = start
        if log_start > end:
            log_start = end
        producers = self._load_producers(segments, snapshots, log_start, end)
        return LoadedLog(segments, log_start, producers)

    # -- files ---------------------------------------------------------------

    def _list_and_clean(self) -> tuple[list[int], dict[int, str]]:
        """Remove leftovers; return the segment base offsets and the snapshot files."""
        logs: set[int] = set()
        indexes: list[tuple[int, str]] = []
        snapshots: dict[int, str] = {}
        for name in os.listdir(self.directory):
            path = os.path.join(self.directory, name)
            if name.endswith(metafile.TEMP_SUFFIX) or name.endswith(DELETED_SUFFIX):
                log.info("Removing leftover {path}", path=path)
                remove_path(path)
                continue
            match = _SEGMENT_FILE.fullmatch(name)
            if match is None:
                continue
            base, suffix = int(match.group(1)), match.group(2)
            if suffix == LOG_SUFFIX:
                logs.add(base)
            elif suffix == SNAPSHOT_SUFFIX:
                snapshots[base] = path
            else:
                indexes.append((base, path))
        for base, path in indexes:
            if base not in logs:
                log.info("Removing index without a log: {path}", path=path)
                remove_path(path)
        return sorted(logs), snapshots

    def _read_offset(self, name: str) -> int | None:
        """Read a checkpoint file holding one offset; C{None} if missing or unreadable."""
        path = os.path.join(self.directory, name)
        try:
            content = metafile.read(path, name)
        except metafile.MetadataFileError as e:
            log.warn("Ignoring unreadable {path}: {error}", path=path, error=str(e))
            return None
        if content is None:
            return None
        offset = content.get("offset")
        if not isinstance(offset, int) or offset < 0:
            log.warn("Ignoring bad {path}", path=path)
            return None
        return offset

    def _remove_segment_files(self, segment: Segment, why: str) -> None:
        """Delete a segment's files (log first, so leftovers are only indexes)."""
        log.warn("Removing segment {path} ({why})", path=segment.log_path, why=why)
        fd = segment.detach_fd()
        if fd is not None:
            os.close(fd)
        for path in (segment.log_path, segment.index_path, segment.time_index_path):
            remove_path(path)
        self.truncated = True

    # -- segments ------------------------------------------------------------

    def _open_segments(self, segments: list[Segment], recovery_point: int | None) -> None:
        """Check or recover every segment, cutting the log at the first bad batch."""
        if self.clean:
            first_to_scan = len(segments)
        else:
            first_to_scan = 0
            if recovery_point is not None:
                first_to_scan = len(segments) - 1
                for i, segment in enumerate(segments):
                    if segment.base_offset >= recovery_point:
                        first_to_scan = i
                        break
        i = 0
        while i < len(segments):
            segment = segments[i]
            last = i == len(segments) - 1
            if i >= first_to_scan:
                ok = self._recover(segment)
            elif last:
                clean_ok = self._open_clean_active(segment)
                if clean_ok is None:
                    ok = self._recover(segment)
                else:
                    ok = clean_ok
            elif segment.check_index_files():
                ok = True
            else:
                log.info("Rebuilding indexes of {path}", path=segment.log_path)
                ok = self._recover(segment)
            if not last and segment.indexes_loaded():
                try:
                    segment.write_indexes()
                    segment.drop_indexes()
                except OSError as e:
                    log.warn("Could not write indexes of {path}: {error}", path=segment.log_path, error=e)
            # Below the recovery point (or after a clean shutdown) a segment was fsynced,
            # so the segments after it hold acknowledged data: damage here leaves a hole
            # (reads skip it) instead of discarding them, as Kafka keeps flushed segments.
            flushed = i < first_to_scan and not last
            if not last and segment.next_offset != segments[i + 1].base_offset:
                hole = segment.next_offset < segments[i + 1].base_offset
                log.warn(
                    "Segment {path} ends at offset {end} but the next one starts at {next}{what}",
                    path=segment.log_path,
                    end=segment.next_offset,
                    next=segments[i + 1].base_offset,
                    what=": those offsets are lost; keeping the later segments" if hole and flushed else "",
                )
                ok = hole and flushed
            elif not ok and flushed:
                log.error(
                    "Fsynced segment {path} was damaged; keeping the later segments", path=segment.log_path
                )
                ok = True
            if not ok:
                for later in segments[i + 1 :]:
                    self._remove_segment_files(later, "after a truncation point")
                del segments[i + 1 :]
                if segment.size == 0 and len(segments) > 1:
                    self._remove_segment_files(segment, "empty after truncation")
                    segments.pop()
                break
            i += 1

    def _open_clean_active(self, segment: Segment) -> bool | None:
        """Load the active segment's indexes after a clean shutdown.

        Walks the batch headers after the last index entry to find the end.
        C{None} if anything does not add up (the segment is then recovered).
        """
        segment.next_offset = segment.base_offset + (1 << 62)  # the end is not known yet
        if not segment.check_index_files():
            return None
        index = segment.index  # loads and checks, or rebuilds
        last = index.last()
        relative, position = last if last is not None else (0, 0)
        if position >= segment.size and segment.size:
            return None
        next_offset = segment.base_offset + relative
        end = position
        for pos, size, header in segment.headers(position, segment.size):
            if header[F_BASE_OFFSET] != next_offset or pos + size > segment.size:
                return None
            next_offset = header[F_BASE_OFFSET] + header[F_LAST_OFFSET_DELTA] + 1
            end = pos + size
        if end != segment.size:
            return None
        segment.next_offset = next_offset
        segment.bytes_since_index = segment.size - position
        tail = segment.time_index.last()
        if tail is not None:
            segment.max_timestamp, rel = tail
            segment.offset_of_max_timestamp = segment.base_offset + rel
        return True

    def _recover(self, segment: Segment) -> bool:
        """Rescan a segment with CRC checks; cut it at the first bad batch.

        @return: C{True} if the whole file was valid.
        """
        file_size = segment.size
        segment.reset_for_scan()
        scanner = BatchScanner(segment.fd, 0, file_size, segment.base_offset, verify_crc=True)
        for position, size, header in scanner:
            segment.track(position, size, header, self.index_interval)
        segment.seal_time_index()
        if scanner.error is None:
            return True
        log.warn(
            "Recovery of {path}: {error}; truncating {cut} bytes at position {position}"
            " (log now ends at offset {offset})",
            path=segment.log_path,
            error=scanner.error,
            cut=file_size - scanner.position,
            position=scanner.position,
            offset=segment.next_offset,
        )
        segment.truncate(scanner.position)
        if self.durable:
            os.fsync(segment.fd)
        self.truncated = True
        return False

    # -- producer state ------------------------------------------------------

    def _load_producers(
        self, segments: list[Segment], snapshots: dict[int, str], log_start: int, end: int
    ) -> ProducerStateTable:
        """Producer state at the end of the log: newest usable snapshot plus a header walk."""
        producers: ProducerStateTable | None = None
        # without a snapshot: the last two segments, as Kafka does (bounded, and a
        # producer whose last batch went just before the latest roll is still known)
        start_offset = segments[-2 if len(segments) > 1 else -1].base_offset
        for offset in sorted(snapshots, reverse=True):
            if offset > end or offset < segments[0].base_offset:
                remove_path(snapshots.pop(offset))
                continue
            if producers is not None:
                continue
            try:
                content = metafile.read(snapshots[offset], "producer-snapshot")
                if content is None or content.get("offset") != offset:
                    raise ValueError("offset mismatch")
                producers = ProducerStateTable.from_json(content.get("producers", []))
                start_offset = offset
            except (metafile.MetadataFileError, ValueError) as e:
                log.warn("Ignoring producer snapshot {path}: {error}", path=snapshots[offset], error=str(e))
        if producers is None:
            producers = ProducerStateTable()
        if start_offset < end:
            self._replay(segments, producers, start_offset, end)
        producers.evict_before(log_start)
        return producers

    def _replay(self, segments: list[Segment], producers: ProducerStateTable, start: int, end: int) -> None:
        """Feed the headers of the batches from C{start} to C{end} into C{producers}."""
        for segment in segments:
            if segment.next_offset <= start:
                continue
            position = 0
            expected = segment.base_offset
            if segment.base_offset < start:
                found = segment.locate(start)
                if found is None:
                    continue
                position, _, header = found
                expected = header[F_BASE_OFFSET]
            scanner = BatchScanner(segment.fd, position, segment.size, expected, verify_crc=False)
            for _, _, header in scanner:
                if header[F_PRODUCER_ID] >= 0:
                    producers.record(
                        header[F_PRODUCER_ID],
                        header[F_PRODUCER_EPOCH],
                        header[F_BASE_SEQUENCE],
                        header[F_LAST_OFFSET_DELTA],
                        header[F_BASE_OFFSET],
                        header[F_MAX_TIMESTAMP],
                    )
