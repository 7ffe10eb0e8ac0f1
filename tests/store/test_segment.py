# -*- test-case-name: tests.store.test_segment -*-
"""Tests for L{twisted_kafka.store.segment.Segment}."""

from __future__ import annotations

import os

from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.store.segment import Segment, StaleIndex, _after_stale_index
from twisted_kafka.store.segment_file import segment_name

from .helpers import NOW_MS, as_stored, make_batch


class SegmentTests(SynchronousTestCase):
    """Appending to and reading from one segment file."""

    def setUp(self) -> None:
        """Set up what each test here uses."""
        self.dir = self.mktemp()
        os.makedirs(self.dir)
        self.segment = Segment.create(self.dir, 100, 300)
        self.addCleanup(lambda: os.close(self.segment.detach_fd() or os.open(os.devnull, 0)))
        self.batches: list[bytes] = []
        offset = 100
        for i in range(10):
            batch = make_batch(2, tag=i, timestamp=NOW_MS + i)
            self.segment.append(batch, offset, 1, NOW_MS + i + 1, 300)
            self.batches.append(as_stored(batch, offset))
            offset += 2

    def test_name(self) -> None:
        """Files are named by the 20-digit base offset."""
        self.assertEqual(segment_name(100), "00000000000000000100")
        self.assertEqual(os.path.basename(self.segment.log_path), "00000000000000000100.log")

    def test_file_is_concatenated_batches(self) -> None:
        """The .log file is exactly the stored batches back to back."""
        with open(self.segment.log_path, "rb") as f:
            self.assertEqual(f.read(), b"".join(self.batches))
        self.assertEqual((self.segment.size, self.segment.next_offset), (sum(map(len, self.batches)), 120))

    def test_index_interval(self) -> None:
        """An index entry is added once more than index_interval bytes were written since the last."""
        size = len(self.batches[0])
        self.assertGreater(300, size)
        per_entry = 300 // size + 1
        positions = list(self.segment.index.positions)
        self.assertEqual(positions[0], per_entry * size)
        self.assertEqual(len(positions), len(self.batches[1:]) // per_entry)

    def test_time_index(self) -> None:
        """Time index entries follow the index entries with the running max timestamp."""
        index = self.segment.time_index
        self.assertEqual(len(index), len(self.segment.index))
        self.assertEqual(self.segment.max_timestamp, NOW_MS + 10)
        self.assertEqual(self.segment.offset_of_max_timestamp, 118)

    def test_read_whole_batches(self) -> None:
        """read returns whole batches from the one holding the offset."""
        self.assertEqual(self.segment.read(105, 1), self.batches[2])
        two = len(self.batches[2]) + len(self.batches[3])
        self.assertEqual(self.segment.read(104, two), self.batches[2] + self.batches[3])
        self.assertEqual(self.segment.read(104, two - 1), self.batches[2])
        self.assertEqual(self.segment.read(100, 10**6), b"".join(self.batches))

    def test_find_timestamp(self) -> None:
        """The first batch reaching the timestamp, not before min_offset."""
        self.assertEqual(self.segment.find_timestamp(NOW_MS + 5, 0), (108, NOW_MS + 5))
        self.assertEqual(self.segment.find_timestamp(NOW_MS, 110), (110, NOW_MS + 6))
        self.assertIsNone(self.segment.find_timestamp(NOW_MS + 11, 0))

    def test_written_indexes_load_lazily(self) -> None:
        """A sealed segment's indexes are read from disk only when first needed."""
        self.segment.write_indexes()
        reopened = Segment(self.dir, 100, 300)
        reopened.size = self.segment.size
        reopened.next_offset = 120
        self.addCleanup(lambda: os.close(reopened.detach_fd() or os.open(os.devnull, 0)))
        self.assertTrue(reopened.check_index_files())
        self.assertFalse(reopened.indexes_loaded())
        self.assertEqual(reopened.max_timestamp, NOW_MS + 10)
        self.assertEqual(reopened.read(117, 1), self.batches[8])
        self.assertTrue(reopened.indexes_loaded())
        self.assertEqual(list(reopened.index.positions), list(self.segment.index.positions))

    def test_bad_index_rebuilt_on_use(self) -> None:
        """An index entry that does not point at its batch is noticed on use and the index rebuilt."""
        self.segment.write_indexes()
        with open(self.segment.index_path, "r+b") as f:
            f.seek(4)
            f.write(b"\0\0\0\1")  # first entry now points at position 1
        reopened = Segment(self.dir, 100, 300)
        reopened.size = self.segment.size
        reopened.next_offset = 120
        self.addCleanup(lambda: os.close(reopened.detach_fd() or os.open(os.devnull, 0)))
        self.assertEqual(reopened.read(103, 1), self.batches[1])  # no entry involved
        self.assertEqual(reopened.read(105, 1), self.batches[2])  # the bad entry is noticed
        self.assertEqual(list(reopened.index.positions), list(self.segment.index.positions))


class AfterStaleIndexTests(SynchronousTestCase):
    """The one retry rule of segment lookups: once more after a stale index entry."""

    def _lookup(self, stale: int) -> tuple[str, list[int]]:
        """Run a lookup that meets C{stale} stale entries before answering."""
        calls: list[int] = []

        def lookup(value: int, scale: int = 1) -> str:
            calls.append(value * scale)
            if len(calls) <= stale:
                raise StaleIndex("x.index")
            return f"found {value * scale}"

        return _after_stale_index("default", lookup, 3, scale=2), calls

    def test_answers_at_once(self) -> None:
        """Without a stale entry the lookup runs once with its arguments."""
        self.assertEqual(self._lookup(0), ("found 6", [6]))

    def test_retries_once(self) -> None:
        """One stale entry: the lookup runs again (on the rebuilt index)."""
        self.assertEqual(self._lookup(1), ("found 6", [6, 6]))

    def test_gives_up_after_two(self) -> None:
        """Two stale entries in a row: the default, without a third try."""
        self.assertEqual(self._lookup(2), ("default", [6, 6]))
