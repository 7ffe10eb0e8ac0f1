# -*- test-case-name: tests.store.test_open_files -*-
"""Tests for L{twisted_kafka.store.open_files}: a bounded number of open sealed segment files."""

from __future__ import annotations

import os

from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.store.open_files import SealedFiles
from twisted_kafka.store.partition import PartitionLog

from .helpers import StoreTestMixin


def open_logs(directory: str) -> int:
    """How many descriptors of this process point at a C{.log} file in C{directory}."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if os.path.dirname(target) == directory and target.endswith(".log"):
            count += 1
    return count


class FakeSegment:
    """Just enough of a segment: a descriptor to hand over."""

    def __init__(self, fd: int) -> None:
        self.fd: int | None = fd

    def detach_fd(self) -> int | None:
        """Give up the descriptor."""
        fd, self.fd = self.fd, None
        return fd


class SealedFilesTests(SynchronousTestCase):
    """The LRU itself."""

    def test_least_recently_used_closed(self) -> None:
        """Past the limit the least recently used file is closed; busy ones are skipped."""
        closed: list[int | None] = []
        busy: set[object] = set()
        files = SealedFiles(2, closed.append, busy.__contains__)
        a, b, c, d = (FakeSegment(n) for n in (10, 11, 12, 13))
        files.used(a)  # type: ignore[arg-type]
        files.used(b)  # type: ignore[arg-type]
        files.used(a)  # type: ignore[arg-type]
        files.used(c)  # type: ignore[arg-type]
        self.assertEqual(closed, [11])
        busy.add(a)
        files.used(d)  # type: ignore[arg-type]
        self.assertEqual(closed, [11, 12])
        self.assertEqual((len(files), files.evictions), (2, 2))

    def test_never_the_one_just_used(self) -> None:
        """If everything else is busy, the limit is exceeded rather than closing the file in use."""
        closed: list[int | None] = []
        files = SealedFiles(1, closed.append, lambda segment: segment is not last)
        first, last = FakeSegment(1), FakeSegment(2)
        files.used(first)  # type: ignore[arg-type]
        files.used(last)  # type: ignore[arg-type]
        self.assertEqual(closed, [])
        self.assertEqual(len(files), 2)


class StoreOpenFilesTests(StoreTestMixin, SynchronousTestCase):
    """Reading many sealed segments keeps at most the configured number of their files open."""

    def _fill(self, **config: object) -> PartitionLog:
        store = self.open_store(segment_bytes=1000, index_interval_bytes=300, max_open_sealed_files=3, **config)
        log = store.vhost("/").create_topic("t", 1).partitions[0]
        self.stored = self.fill(log, 60)
        self.assertGreater(len(log.segments()), 10)
        return log

    def test_reads_bounded(self) -> None:
        """Reading every segment leaves at most the limit of sealed files open, plus the active one."""
        log = self._fill()
        self.assertEqual(self.read_all(log), self.stored)
        self.assertLessEqual(open_logs(log.directory), 3 + 1)
        self.assertEqual(self.read_all(log), self.stored)  # reopened on use

    def test_start_up_bounded(self) -> None:
        """Opening a partition with many sealed segments (clean or not) stays within the limit."""
        log = self._fill()
        store = self.reopen(self.store_of(log), segment_bytes=1000, index_interval_bytes=300, max_open_sealed_files=3)
        log = self.partition(store)
        self.assertLessEqual(open_logs(log.directory), 3 + 1)
        store = self.reopen(store, clean=False, segment_bytes=1000, index_interval_bytes=300, max_open_sealed_files=3)
        log = self.partition(store)
        self.assertLessEqual(open_logs(log.directory), 3 + 1)
        self.assertEqual(self.read_all(log), self.stored)

    def test_segments_waiting_for_fsync_stay_open(self) -> None:
        """Sealed segments not yet covered by an fsync round keep their file until the round has run."""
        log = self._fill(fsync=True)
        waiting = [s for s in log.segments() if s._fd is not None]
        self.assertGreater(len(waiting), 4)
        self.threads.run_all()
        self.read_all(log)
        self.assertLessEqual(open_logs(log.directory), 3 + 1)

    def store_of(self, log: PartitionLog):  # type: ignore[no-untyped-def]
        """The only running store (the one C{log} belongs to)."""
        [store] = self._stores
        return store

    def test_limit_must_be_positive(self) -> None:
        """A limit below 1 is refused."""
        from twisted_kafka.store.config import StoreConfig
        from twisted_kafka.store.service import StreamStore

        self.assertRaises(ValueError, StreamStore, self.data_dir, StoreConfig(), self.clock, self.threads, 0)
