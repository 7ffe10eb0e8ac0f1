# -*- test-case-name: tests.store.test_cleaner -*-
"""The log cleaner: compacted topics keep the latest record of every key.

Kafka's C{LogCleaner}, for a single broker. Every C{cleaner_backoff_ms} the
L{LogCleaner} looks at the partitions of compacted topics
(C{cleanup.policy} with C{compact}) and cleans, one at a time, each whose
dirty part is worth it: its I{dirty ratio} (bytes after the partition's
I{first dirty offset} over all cleanable bytes) reaches
C{min.cleanable.dirty.ratio}, or its oldest dirty segment is older than
C{max.compaction.lag.ms}. Only sealed segments whose newest record is older
than C{min.compaction.lag.ms} are cleanable; the active segment never is.

A L{CleanerPass} then:

    1. maps the dirty part: key -> offset of its latest record, in an
       L{OffsetMap} held within C{cleaner_dedupe_buffer_size} bytes; if the
       map fills up, this pass stops at the batch where it did and the next
       pass goes on from there;
    2. rewrites the segments from the log start to the end of the mapped
       part, in groups of consecutive segments that together fit in
       C{segment.bytes}: a record stays if its key was not mapped or this is
       the key's latest offset, or it lies beyond the mapped part. Tombstones
       (null values) go once the part of the log holding them was first
       cleaned more than C{delete.retention.ms} ago (the I{marks} of the
       L{CleanerCheckpoint}). Offsets never change, batches keep their codec,
       and the last batch of every producer id and of every group stays
       (empty if need be), so idempotent producers keep their sequence and
       segments stay contiguous;
    3. swaps each cleaned group in by the rename protocol of
       L{twisted_kafka.store.swap}, fsyncing through the store's group commit
       (never on the reactor thread), and records the new first dirty offset.

All of it runs in slices on the reactor (L{SlicedTask}, at most
L{SLICE_SECONDS} of work per slice, a batch at a time); the pass reads the
segments through descriptors of its own, so retention or DeleteRecords may
delete a segment meanwhile: the pass then finds the partition changed and
drops its work. Reads keep using the old segments until the swap, which
replaces them between two reactor turns.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from twisted.internet.defer import Deferred
from twisted.logger import Logger

from twisted_kafka.errors import KafkaError
from twisted_kafka.records.batch import HEADER as RECORD_HEADER
from twisted_kafka.records.batch import HEADER_SIZE, LOG_OVERHEAD, BatchHeader
from twisted_kafka.records.compaction import RecordSpan, batch_records, filter_batch
from twisted_kafka.store import metafile, swap
from twisted_kafka.store.segment import Segment
from twisted_kafka.store.slices import SlicedTask, run_for

if TYPE_CHECKING:
    from twisted_kafka.store.group_commit import GroupCommit
    from twisted_kafka.store.partition import PartitionLog
    from twisted_kafka.store.runtime import ReactorClock

#: The file of a partition directory holding its L{CleanerCheckpoint}.
CHECKPOINT_FILE = "cleaner-checkpoint"

#: Longest stretch of cleaning work between two returns to the reactor.
SLICE_SECONDS = 0.005

#: What an L{OffsetMap} entry costs beyond its key's bytes (dict slot, bytes and int objects).
ENTRY_OVERHEAD = 120

#: Source segments are read this much at a time.
READ_CHUNK = 1 << 20

#: Cleaned bytes are written this much at a time.
WRITE_CHUNK = 1 << 20

#: The most a stored batch's records may decompress to (they passed the produce checks).
DECOMPRESS_LIMIT = 1 << 30

#: At most this many marks are kept (older neighbours are merged, keeping tombstones longer).
MAX_MARKS = 64

INT32_MAX = 2**31 - 1


class OffsetMap:
    """Key -> offset of its latest record, within a memory budget (Kafka's dedupe buffer).

    Whole keys are kept (no hash collisions can drop a record); each entry
    is charged its key's length plus L{ENTRY_OVERHEAD}.

    @ivar budget: the bytes it may use.
    @ivar used: the bytes charged so far.
    """

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.used = 0
        self._offsets: dict[bytes, int] = {}

    def __len__(self) -> int:
        return len(self._offsets)

    def cost(self, keys: list[bytes]) -> int:
        """What mapping C{keys} would add to L{used}."""
        offsets = self._offsets
        return sum(len(key) + ENTRY_OVERHEAD for key in set(keys) if key not in offsets)

    def put(self, key: bytes, offset: int) -> None:
        """Record C{offset} as the latest of C{key}."""
        offsets = self._offsets
        if key not in offsets:
            self.used += len(key) + ENTRY_OVERHEAD
        offsets[key] = offset

    def latest(self, key: bytes) -> int | None:
        """The latest offset mapped for C{key}, or C{None}."""
        return self._offsets.get(key)


@dataclass
class CleanerCheckpoint:
    """What the cleaner remembers of a partition (its C{cleaner-checkpoint} file).

    @ivar first_dirty: offsets below it have been cleaned.
    @ivar marks: C{(end, ms)} pairs, ascending: the offsets below C{end} (and
        at or above the previous pair's) were first cleaned at C{ms}. A
        tombstone goes once its offsets were first cleaned more than
        C{delete.retention.ms} ago.
    """

    first_dirty: int = 0
    marks: list[tuple[int, int]] = field(default_factory=list)

    @classmethod
    def load(cls, directory: str) -> CleanerCheckpoint:
        """Read the checkpoint of C{directory}; a fresh one if missing or unreadable."""
        path = os.path.join(directory, CHECKPOINT_FILE)
        try:
            content = metafile.read(path, CHECKPOINT_FILE)
        except metafile.MetadataFileError as e:
            LogCleaner.log.warn("Ignoring unreadable {path}: {error}", path=path, error=str(e))
            return cls()
        if content is None:
            return cls()
        try:
            first_dirty = int(content["first_dirty"])
            marks = [(int(end), int(ms)) for end, ms in content["marks"]]
        except (KeyError, TypeError, ValueError):
            LogCleaner.log.warn("Ignoring bad {path}", path=path)
            return cls()
        return cls(first_dirty, marks)

    def save(self, directory: str, durable: bool) -> None:
        """Write it to C{directory} (atomically)."""
        metafile.write(
            os.path.join(directory, CHECKPOINT_FILE),
            CHECKPOINT_FILE,
            {"first_dirty": self.first_dirty, "marks": [list(mark) for mark in self.marks]},
            durable=durable,
        )

    def first_cleaned(self, offset: int) -> int | None:
        """When C{offset} was first cleaned (ms), or C{None} if it never was."""
        for end, ms in self.marks:
            if offset < end:
                return ms
        return None

    def advance(self, end: int, now_ms: int, delete_retention_ms: int) -> None:
        """Offsets below C{end} are now cleaned, those from L{first_dirty} for the first time at C{now_ms}."""
        if end <= self.first_dirty:
            return
        self.first_dirty = end
        self.marks.append((end, now_ms))
        expired = now_ms - delete_retention_ms
        merged: list[tuple[int, int]] = []
        for mark in self.marks:
            if merged and merged[-1][1] < expired and mark[1] < expired:
                merged[-1] = (mark[0], max(merged[-1][1], mark[1]))  # tombstones below both may go
            else:
                merged.append(mark)
        while len(merged) > MAX_MARKS:
            (_, ms), (end2, ms2) = merged[0], merged[1]
            merged[0:2] = [(end2, max(ms, ms2))]
        self.marks = merged


@dataclass
class PassResult:
    """What one cleaning pass did.

    @ivar start: the first dirty offset when it began.
    @ivar end: offsets below it are clean now.
    @ivar bytes_read: bytes of the segments it rewrote.
    @ivar bytes_written: bytes of their cleaned copies.
    @ivar records_removed: records dropped (superseded values and expired tombstones).
    @ivar segments_before: how many segments it replaced.
    @ivar segments_after: how many took their place.
    @ivar seconds: wall time from its start to the end of its swap.
    """

    start: int = 0
    end: int = 0
    bytes_read: int = 0
    bytes_written: int = 0
    records_removed: int = 0
    segments_before: int = 0
    segments_after: int = 0
    seconds: float = 0.0


class PartitionChanged(Exception):
    """The partition lost a segment the pass was working on (retention, DeleteRecords, deletion)."""


@dataclass
class _Group:
    """A run of consecutive segments cleaned into one, and its cleaned copy."""

    sources: list[Segment]
    cleaned: Segment | None = None
    changed: bool = False

    @property
    def base(self) -> int:
        return self.sources[0].base_offset

    @property
    def end(self) -> int:
        return self.sources[-1].next_offset


class CleanerPass:
    """One clean of one partition: L{steps} (in slices), then L{finish} (the swap).

    @ivar result: what it did so far.
    """

    def __init__(self, partition: PartitionLog, now_ms: int, budget: int) -> None:
        self.partition = partition
        self.now_ms = now_ms
        self.budget = budget
        self.result = PassResult()
        self._groups: list[_Group] = []
        self._fds: list[int] = []

    # -- slices --------------------------------------------------------------

    def steps(self) -> Iterator[None]:
        """Map the dirty part and write the cleaned copies, yielding between batches.

        @raise PartitionChanged: the partition changed under it (the work is dropped).
        """
        partition = self.partition
        segments = partition.cleanable_segments(self.now_ms)
        checkpoint = partition.cleaner_checkpoint
        first_dirty = max(checkpoint.first_dirty, partition.log_start_offset)
        self.result.start = self.result.end = first_dirty
        dirty = [segment for segment in segments if segment.next_offset > first_dirty]
        if not dirty:
            return
        offsets = OffsetMap(self.budget)
        end = first_dirty
        full = False
        for segment in dirty:
            batches = self._batches(segment)
            for header, batch in batches:
                if header.next_offset <= first_dirty:
                    continue
                if header.is_control:
                    end = header.next_offset
                    continue
                _, spans = batch_records(batch, header, DECOMPRESS_LIMIT)
                keys = [span.key for span in spans if span.key is not None]
                if len(offsets) and offsets.used + offsets.cost(keys) > offsets.budget:
                    full = True
                    break
                for span in spans:
                    if span.key is not None:
                        offsets.put(span.key, span.offset)
                end = header.next_offset
                yield None
            batches.close()
            if full:
                break
        self.result.end = end
        if end <= first_dirty:
            return
        sources = [segment for segment in segments if segment.base_offset < end]
        self._groups = _group(sources, partition.settings.segment_bytes)
        keep_batches = partition.last_producer_batches()
        retention = partition.settings.delete_retention_ms
        for group in self._groups:
            yield from self._clean_group(group, offsets, end, keep_batches, checkpoint, retention)

    def _batches(self, segment: Segment) -> Generator[tuple[BatchHeader, memoryview], None, None]:
        """The batches of C{segment}'s file, read through a descriptor of the pass's own."""
        if not self.partition.owns(segment):
            raise PartitionChanged(segment.log_path)
        try:
            fd = os.open(segment.log_path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            raise PartitionChanged(segment.log_path) from None
        self._fds.append(fd)
        try:
            size = segment.size
            position = 0
            while position < size:
                chunk = os.pread(fd, min(READ_CHUNK, size - position), position)
                if len(chunk) < HEADER_SIZE:
                    raise PartitionChanged(f"{segment.log_path} ends early at {position}")
                view = memoryview(chunk)
                offset = 0
                while offset + HEADER_SIZE <= len(chunk):
                    header = BatchHeader._make(RECORD_HEADER.unpack_from(chunk, offset))
                    batch_size = header.batch_length + LOG_OVERHEAD
                    if offset + batch_size > len(chunk):
                        if offset == 0:  # one batch larger than a chunk
                            whole = os.pread(fd, batch_size, position)
                            if len(whole) < batch_size:
                                raise PartitionChanged(f"{segment.log_path} ends early at {position}")
                            yield header, memoryview(whole)
                            offset = batch_size
                        break
                    yield header, view[offset : offset + batch_size]
                    offset += batch_size
                position += offset
        finally:
            self._close(fd)

    def _close(self, fd: int) -> None:
        """Close one of the pass's descriptors (unless L{abandon} already did)."""
        if fd in self._fds:
            self._fds.remove(fd)
            os.close(fd)

    def _clean_group(
        self,
        group: _Group,
        offsets: OffsetMap,
        end: int,
        keep_batches: set[int],
        checkpoint: CleanerCheckpoint,
        retention_ms: int,
    ) -> Iterator[None]:
        """Write the cleaned copy of C{group} to its C{.cleaned} file."""
        partition = self.partition
        directory = partition.directory
        path = swap.cleaned_path(directory, group.base)
        cleaned = Segment(directory, group.base, partition.settings.index_interval_bytes)
        cleaned.reset_for_scan()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
        self._fds.append(fd)
        pending = bytearray()
        written = 0
        group.changed = len(group.sources) > 1
        removed = 0
        try:
            last_source = group.sources[-1]
            for source in group.sources:
                self.result.bytes_read += source.size
                for header, batch in self._batches(source):
                    out = batch
                    if header.base_offset < end and not header.is_control:
                        records, spans = batch_records(batch, header, DECOMPRESS_LIMIT)
                        kept = [span for span in spans if self._keeps(span, offsets, end, checkpoint, retention_ms)]
                        if len(kept) < len(spans):
                            removed += len(spans) - len(kept)
                            last = source is last_source and header.next_offset == last_source.next_offset
                            if kept or last or header.base_offset in keep_batches:
                                out = memoryview(filter_batch(batch, header, records, kept))
                            else:
                                out = memoryview(b"")
                    if len(out):
                        position = written + len(pending)
                        pending += out
                        stored = header if out is batch else BatchHeader._make(RECORD_HEADER.unpack_from(out))
                        cleaned.track(position, len(out), tuple(stored), cleaned.index_interval)  # type: ignore[arg-type]
                        if len(pending) >= WRITE_CHUNK:
                            written += _write_all(fd, pending, written)
                            pending.clear()
                    yield None
            if pending:
                written += _write_all(fd, pending, written)
        finally:
            self._close(fd)
        cleaned.seal_time_index()
        group.changed = group.changed or removed > 0
        group.cleaned = cleaned
        self.result.records_removed += removed
        self.result.bytes_written += written

    def _keeps(
        self, span: RecordSpan, offsets: OffsetMap, end: int, checkpoint: CleanerCheckpoint, retention_ms: int
    ) -> bool:
        """Whether the record C{span} survives the clean."""
        if span.key is None or span.offset >= end:
            return True
        latest = offsets.latest(span.key)
        if latest is not None and span.offset < latest:
            return False
        if span.tombstone:
            cleaned_at = checkpoint.first_cleaned(span.offset)
            if cleaned_at is not None and self.now_ms - cleaned_at > retention_ms:
                return False
        return True

    # -- swap ----------------------------------------------------------------

    def finish(self, commit: GroupCommit) -> Deferred[PassResult]:
        """Swap the cleaned groups in (fsyncing each step through C{commit}), then save the checkpoint."""
        done: Deferred[PassResult] = Deferred()
        groups = [group for group in self._groups if group.changed]
        for group in self._groups:
            if not group.changed:
                swap._unlink(swap.cleaned_path(self.partition.directory, group.base))
        if not self._groups:
            done.callback(self.result)
            return done
        directory = self.partition.directory

        def fail(why: BaseException) -> None:
            self.abandon()
            done.errback(why)

        def commit_swaps() -> None:  # step 2
            try:
                self._check_intact(groups)
                for group in groups:
                    os.replace(swap.cleaned_path(directory, group.base), swap.swap_path(directory, group.base, group.end))
            except (OSError, PartitionChanged) as e:
                fail(e)
                return
            commit.dirty_paths.add(directory)
            commit.after_round(install)
            commit.request_round()

        def install() -> None:  # step 3
            try:
                self._check_intact(groups)
                self._install(groups)
            except (OSError, PartitionChanged) as e:
                fail(e)
                return
            commit.dirty_paths.add(directory)
            commit.request_round()
            done.callback(self.result)

        commit.dirty_paths.update(swap.cleaned_path(directory, group.base) for group in groups)
        commit.dirty_paths.add(directory)
        commit.after_round(commit_swaps)
        commit.request_round()
        return done

    def _check_intact(self, groups: list[_Group]) -> None:
        """Raise L{PartitionChanged} unless every source segment is still the partition's."""
        for group in groups:
            for source in group.sources:
                if not self.partition.owns(source):
                    raise PartitionChanged(source.log_path)

    def _install(self, groups: list[_Group]) -> None:
        """Step 3 for every group, then the partition's segments and checkpoint."""
        partition = self.partition
        for group in groups:
            assert group.cleaned is not None
            swap.install(partition.directory, group.base, group.end)  # also removes the old indexes
            group.cleaned.write_indexes()
            partition.swap_in(group.sources, group.cleaned)
        self.result.segments_before = sum(len(group.sources) for group in self._groups)
        self.result.segments_after = len(self._groups)
        checkpoint = partition.cleaner_checkpoint
        checkpoint.advance(self.result.end, self.now_ms, partition.settings.delete_retention_ms)
        try:
            checkpoint.save(partition.directory, durable=False)
        except OSError as e:
            LogCleaner.log.warn("Could not write the cleaner checkpoint of {dir}: {error}", dir=partition.directory, error=e)

    def abandon(self) -> None:
        """Drop the pass's files (cleaned copies and uncommitted swap files) and descriptors."""
        for fd in self._fds:
            os.close(fd)
        self._fds.clear()
        directory = self.partition.directory
        for group in self._groups:
            swap._unlink(swap.cleaned_path(directory, group.base))
            swap._unlink(swap.swap_path(directory, group.base, group.end))


def _group(segments: list[Segment], max_bytes: int) -> list[_Group]:
    """Consecutive segments in runs that fit in C{max_bytes} and an int32 offset range."""
    groups: list[_Group] = []
    for segment in segments:
        if groups:
            current = groups[-1]
            size = sum(s.size for s in current.sources) + segment.size
            if size <= max_bytes and segment.next_offset - current.base <= INT32_MAX:
                current.sources.append(segment)
                continue
        groups.append(_Group([segment]))
    return groups


def _write_all(fd: int, data: bytearray, position: int) -> int:
    """Write all of C{data} at C{position}; return its length."""
    view = memoryview(data)
    done = 0
    while done < len(view):
        done += os.pwrite(fd, view[done:], position + done)
    return done


class LogCleaner:
    """Cleans the compacted partitions of the store, one pass at a time, in slices.

    @param partitions: returns every partition of the store.
    @ivar passes: how many passes completed (swapped in or found nothing to do).
    @ivar results: the result of each completed pass, newest last (the last 100).
    """

    log = Logger()

    def __init__(
        self,
        clock: ReactorClock,
        commit: GroupCommit,
        partitions: Callable[[], list[PartitionLog]],
        budget: int,
        backoff_ms: int,
        timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._clock = clock
        self._commit = commit
        self._partitions = partitions
        self._budget = budget
        self._backoff = backoff_ms / 1000.0
        self._timer = timer
        self._queue: list[PartitionLog] = []
        self._pass: CleanerPass | None = None
        self._work: Iterator[None] | None = None
        self._swapping = False
        self._task = SlicedTask(clock, self._slice)
        self._stopped = True
        #: set by L{stop}: swaps finishing later start nothing
        self._halted = False
        self._idle: list[Deferred[None]] = []
        #: whether a pass of the current round cleaned anything (then look again at once)
        self._progress = False
        self._started = 0.0
        self.passes = 0
        self.results: list[PassResult] = []

    def start(self) -> None:
        """Look for partitions to clean one backoff from now, and every backoff after."""
        self._stopped = self._halted = False
        self._task.start(self._backoff)

    def stop(self) -> None:
        """Stop at once, dropping the work of a pass in progress."""
        self._stopped = self._halted = True
        self._task.stop()
        if self._pass is not None:
            self._pass.abandon()
        self._pass = self._work = None
        self._queue = []
        self._fire_idle()

    def run_now(self) -> Deferred[None]:
        """Look for partitions to clean now; fires once the passes this starts have finished."""
        d: Deferred[None] = Deferred()
        self._idle.append(d)
        self._halted = False
        if self._pass is None and not self._queue and not self._swapping:
            self._task.run_now()
        return d

    def _pick(self) -> list[PartitionLog]:
        """The partitions to clean now, dirtiest first."""
        now_ms = int(self._clock.seconds() * 1000)
        ranked: list[tuple[float, int, PartitionLog]] = []
        for i, partition in enumerate(self._partitions()):
            if not partition.settings.compact:
                continue
            need = partition.cleaning_need(now_ms)
            if need is not None:
                ranked.append((-need, i, partition))
        ranked.sort(key=lambda item: (item[0], item[1]))
        return [partition for _, _, partition in ranked]

    def _slice(self) -> bool:
        """One slice: begin a round or a pass if none is running, then work until the slice is used up."""
        if self._swapping:
            return False  # the swap's fsync rounds call back
        if self._pass is None:
            if not self._queue:
                self._queue = self._pick()
                if not self._queue:
                    return self._round_over()
            partition = self._queue.pop(0)
            self._pass = CleanerPass(partition, int(self._clock.seconds() * 1000), self._budget)
            self._started = time.perf_counter()
            self._work = self._pass.steps()
        assert self._work is not None
        try:
            if run_for(self._work, SLICE_SECONDS, self._timer):
                return True
        except PartitionChanged as e:
            self._drop(e)
            return self._next()
        except (KafkaError, OSError) as e:
            self.log.warn("Cannot clean {partition}: {error}", partition=self._pass.partition, error=e)
            self._drop(e)
            return self._next()
        self._swapping = True
        cleaner_pass = self._pass
        cleaner_pass.finish(self._commit).addCallbacks(self._swapped, self._swap_failed)
        return False

    def _swapped(self, result: PassResult) -> None:
        """A pass is done: log it and go on with the next partition."""
        self._swapping = False
        result.seconds = time.perf_counter() - self._started
        self.passes += 1
        self.results = (self.results + [result])[-100:]
        stats = self._commit.stats
        stats.cleaner_passes += 1
        stats.cleaner_bytes_read += result.bytes_read
        stats.cleaner_bytes_written += result.bytes_written
        stats.cleaner_records_removed += result.records_removed
        if result.end > result.start:
            self._progress = True
        if self._pass is not None and result.segments_before:
            self.log.info(
                "Cleaned {partition} up to offset {end}: {before} segments ({read} bytes) into {after}"
                " ({written} bytes), {removed} records removed, in {seconds:.3f} s",
                partition=self._pass.partition,
                end=result.end,
                before=result.segments_before,
                after=result.segments_after,
                read=result.bytes_read,
                written=result.bytes_written,
                removed=result.records_removed,
                seconds=result.seconds,
            )
        self._pass = self._work = None
        if not self._halted:
            self._next()

    def _swap_failed(self, failure: object) -> None:
        """The swap found the partition changed (or a file error): drop this pass."""
        self._swapping = False
        self._drop(failure)
        if not self._halted:
            self._next()

    def _drop(self, why: object) -> None:
        """Log and forget the pass in progress."""
        cleaner_pass = self._pass
        if cleaner_pass is not None:
            cleaner_pass.abandon()
            self.log.info("Cleaning {partition} stopped: {why}", partition=cleaner_pass.partition, why=why)
        self._pass = self._work = None

    def _next(self) -> bool:
        """Go on with the next partition of this round, or end it."""
        if self._queue:
            self._task.start()
            return False
        return self._round_over()

    def _round_over(self) -> bool:
        """The round is over: look again at once if it cleaned something, else wake the waiters and back off."""
        if self._progress:
            self._progress = False
            self._task.start()
            return False
        self._fire_idle()
        if not self._stopped:
            self._task.start(self._backoff)
        return False

    def _fire_idle(self) -> None:
        waiters, self._idle = self._idle, []
        for d in waiters:
            d.callback(None)
