# -*- test-case-name: tests.store.test_index_rebuild -*-
"""Rebuilding a segment's indexes at run time, in time slices.

When a read finds a stale index entry, the segment's indexes are replaced by
empty ones and an L{IndexRebuild} walks the batch headers from position 0,
at most L{SLICE_SECONDS} or L{SLICE_BATCHES} batches at a time, yielding to
the reactor in between (a L{twisted_kafka.store.slices.SlicedTask}), so a 1 GiB segment never
stalls the reactor. Every entry it adds is correct by construction; the
segment walks headers from L{IndexRebuild.frontier} for anything beyond it.

Appends to the segment meanwhile add no index entries (they lie beyond the
frontier); the rebuild indexes them when it gets there, and it finishes at
the segment's size as it is in the slice that reaches it. Start-up rebuilds
(before any listener accepts) stay synchronous
(L{twisted_kafka.store.segment_indexes.IndexedSegment.rebuild_indexes}).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from twisted.logger import Logger

from twisted_kafka.store.batch_header import F_BASE_OFFSET, F_LAST_OFFSET_DELTA, F_MAX_TIMESTAMP
from twisted_kafka.store.index import OffsetIndex, TimeIndex
from twisted_kafka.store.runtime import ReactorClock
from twisted_kafka.store.scan import BatchScanner
from twisted_kafka.store.slices import SlicedTask

if TYPE_CHECKING:
    from twisted_kafka.store.segment_indexes import IndexedSegment

#: Longest stretch of header walking between two returns to the reactor.
SLICE_SECONDS = 0.003
#: Most batch headers walked in one slice.
SLICE_BATCHES = 4096
#: How much of the log one read of the walk covers.
SCAN_CHUNK = 256 * 1024


class IndexRebuild:
    """The indexes of one segment being rebuilt from its log, a slice at a time.

    @ivar index: the offset index being built (the segment's index meanwhile).
    @ivar time_index: the time index being built.
    @ivar position: the frontier: where the next batch to index starts.
    @ivar next_offset: the base offset of the batch at L{position}.
    @ivar max_timestamp: the largest maxTimestamp before L{position} (-1: none).
    """

    log = Logger()

    def __init__(self, segment: IndexedSegment, clock: ReactorClock, timer: Callable[[], float] = time.perf_counter) -> None:
        self.segment = segment
        self.index = OffsetIndex()
        self.time_index = TimeIndex()
        self.position = 0
        self.next_offset = segment.base_offset
        self.max_timestamp = -1
        self.offset_of_max_timestamp = segment.base_offset
        self.bytes_since_index = 0
        self.slice_seconds = SLICE_SECONDS
        self.slice_batches = SLICE_BATCHES
        self._timer = timer
        self._task = SlicedTask(clock, self._slice)
        self._started = timer()

    def __repr__(self) -> str:
        return f"<IndexRebuild of {self.segment.log_path} at {self.position}/{self.segment.size}>"

    def frontier(self) -> tuple[int, int]:
        """C{(relative offset, position)} of the first batch not yet indexed (a verified entry)."""
        return self.next_offset - self.segment.base_offset, self.position

    def start(self) -> None:
        """Schedule the first slice."""
        self._task.start()

    def stop(self) -> None:
        """Cancel the next slice (the segment is going away)."""
        self._task.stop()

    @property
    def slices(self) -> int:
        """How many slices have run."""
        return self._task.slices

    def _slice(self) -> bool:
        """Walk headers for one slice; C{True} if more is left, else finish."""
        try:
            error = self.walk(self.slice_seconds, self.slice_batches)
        except OSError as e:
            self.log.warn("Index rebuild of {path} failed: {error}", path=self.segment.log_path, error=e)
            self.segment.stop_rebuild()
            return False
        if error is None and self.position < self.segment.size:
            return True
        if error is not None:
            self.log.warn(
                "Index rebuild of {path} stopped at position {position}: {error}",
                path=self.segment.log_path,
                position=self.position,
                error=error,
            )
        self.segment.rebuilt(self, complete=error is None)
        self.log.info(
            "Rebuilt the indexes of {path} ({entries} entries) in {slices} slices, {seconds:.3f} s",
            path=self.segment.log_path,
            entries=len(self.index),
            slices=self.slices,
            seconds=self._timer() - self._started,
        )
        return False

    def walk(self, seconds: float, batches: int) -> str | None:
        """Index the batches after the frontier for at most C{seconds} or C{batches} batches.

        @return: why the walk stopped short of the segment's end (a damaged
            log; the rebuild cannot go on), or C{None}.
        """
        segment = self.segment
        base = segment.base_offset
        interval = segment.index_interval
        index, time_index = self.index, self.time_index
        timer = self._timer
        deadline = timer() + seconds
        end = segment.size
        scanner = BatchScanner(segment.fd, self.position, end, self.next_offset, verify_crc=False, chunk=SCAN_CHUNK)
        left = batches
        for position, size, header in scanner:
            offset = header[F_BASE_OFFSET]
            timestamp = header[F_MAX_TIMESTAMP]
            if timestamp > self.max_timestamp:
                self.max_timestamp = timestamp
                self.offset_of_max_timestamp = offset
            if self.bytes_since_index > interval:
                index.append(offset - base, position)
                time_index.maybe_append(self.max_timestamp, self.offset_of_max_timestamp - base)
                self.bytes_since_index = size
            else:
                self.bytes_since_index += size
            self.position = position + size
            self.next_offset = offset + header[F_LAST_OFFSET_DELTA] + 1
            left -= 1
            if not left or timer() >= deadline:
                return None
        return scanner.error
