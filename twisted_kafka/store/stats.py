# -*- test-case-name: tests.store.test_stats -*-
"""What the store counts about its own work, for the metrics endpoint.

The store knows nothing of Prometheus: it adds to plain integers and
L{BucketCounts} here, and L{twisted_kafka.observability} turns them into
metrics when scraped.  Every update is an integer addition (or one bisect
for a histogram), made once per fsync round, failed write, deleted
segment or cleaner pass; nothing is counted per record.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence

#: Bucket bounds (seconds) of fsync round durations.
FSYNC_SECONDS_BOUNDS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
#: Bucket bounds of the files (segments, indexes, directories) one fsync round covers.
FSYNC_FILES_BOUNDS = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0)


class BucketCounts:
    """A histogram as plain counts: one per upper bound, then one for +Inf.

    @ivar bounds: the upper bounds, increasing.
    @ivar counts: how many observations fell in each bucket (not cumulative;
        the last one is above every bound).
    @ivar total: the sum of every observation.
    """

    __slots__ = ("bounds", "counts", "total")

    def __init__(self, bounds: Sequence[float]) -> None:
        self.bounds = tuple(bounds)
        self.counts = [0] * (len(self.bounds) + 1)
        self.total = 0.0

    def observe(self, value: float) -> None:
        """Count one observation of C{value}."""
        self.counts[bisect_left(self.bounds, value)] += 1
        self.total += value

    def cumulative(self) -> list[tuple[float, int]]:
        """C{(upper bound, observations <= it)} for every bound, then C{(inf, all)}."""
        out = []
        running = 0
        for bound, count in zip(self.bounds + (float("inf"),), self.counts):
            running += count
            out.append((bound, running))
        return out


class StoreStats:
    """Counters of the store's background and durability work.

    @ivar fsync_seconds: how long each fsync round took.
    @ivar fsync_files: how many files each round fsynced.
    @ivar fsync_failures: fsync rounds that failed.
    @ivar append_failures: appends refused because a write failed.
    @ivar read_failures: reads that failed with an I/O error.
    @ivar retention_segments: segments deleted by retention or DeleteRecords.
    @ivar retention_bytes: bytes of the segments deleted.
    @ivar cleaner_passes: cleaner passes finished (compacted partitions).
    @ivar cleaner_bytes_read: bytes the cleaner read.
    @ivar cleaner_bytes_written: bytes the cleaner wrote.
    @ivar cleaner_records_removed: records the cleaner removed.
    """

    def __init__(self) -> None:
        self.fsync_seconds = BucketCounts(FSYNC_SECONDS_BOUNDS)
        self.fsync_files = BucketCounts(FSYNC_FILES_BOUNDS)
        self.fsync_failures = 0
        self.append_failures = 0
        self.read_failures = 0
        self.retention_segments = 0
        self.retention_bytes = 0
        self.cleaner_passes = 0
        self.cleaner_bytes_read = 0
        self.cleaner_bytes_written = 0
        self.cleaner_records_removed = 0
