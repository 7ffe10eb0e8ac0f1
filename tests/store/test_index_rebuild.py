# -*- test-case-name: tests.store.test_index_rebuild -*-
"""Tests for L{twisted_kafka.store.index_rebuild}: run-time index rebuilds in slices."""

from __future__ import annotations

import os
import struct

from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.records.batch import split_batches
from twisted_kafka.store import index_rebuild
from twisted_kafka.store.index_rebuild import IndexRebuild
from twisted_kafka.store.partition import PartitionLog
from twisted_kafka.store.segment import Segment

from .helpers import NOW_MS, StoreTestMixin, as_stored, make_batch

#: Batches walked per slice in these tests (hundreds of batches take several slices).
BATCHES_PER_SLICE = 40
#: Bytes between index entries (an entry every few batches).
INTERVAL = 1000
#: A bound on clock turns, so a rebuild that never ends fails instead of hanging.
MAX_TURNS = 1000


class IndexRebuildTests(StoreTestMixin, SynchronousTestCase):
    """A stale index entry found by a read rebuilds the indexes in slices; reads stay correct."""

    def setUp(self) -> None:
        """A partition with hundreds of batches, and small slices."""
        super().setUp()
        self.patch(index_rebuild, "SLICE_BATCHES", BATCHES_PER_SLICE)
        self.store = self.open_store(index_interval_bytes=INTERVAL)
        self.log = self.store.vhost("/").create_topic("t", 1).partitions[0]
        self.stored = self.fill(self.log, 300)

    def from_scratch(self, segment: Segment) -> Segment:
        """Another L{Segment} on the same file, its indexes rebuilt synchronously."""
        fresh = Segment(segment.directory, segment.base_offset, INTERVAL)
        fresh.size, fresh.next_offset = segment.size, segment.next_offset
        self.addCleanup(lambda: os.close(fresh.detach_fd() or os.open(os.devnull, 0)))
        fresh.rebuild_indexes()
        return fresh

    def assertSameIndexes(self, segment: Segment, expected: Segment) -> None:
        """Both segments have equal offset and time indexes."""
        self.assertEqual(list(segment.index.offsets), list(expected.index.offsets))
        self.assertEqual(list(segment.index.positions), list(expected.index.positions))
        self.assertEqual(list(segment.time_index.timestamps), list(expected.time_index.timestamps))
        self.assertEqual(list(segment.time_index.offsets), list(expected.time_index.offsets))

    def assertReadsCorrect(self, log: PartitionLog, stored: dict[int, bytes]) -> None:
        """Reads at several offsets (first, middle and last record of batches) and timestamp lookups are right."""
        offsets = sorted(stored)
        for base in offsets[::23] + offsets[-2:]:
            batch = stored[base]
            [(_, _, header)] = split_batches(batch)
            for offset in (base, base + header.last_offset_delta):
                self.assertEqual(log.read(offset, 1), batch, offset)
            two = len(batch) + len(stored.get(base + header.last_offset_delta + 1, b""))
            self.assertEqual(log.read(base, two), batch + stored.get(base + header.last_offset_delta + 1, b""))
            self.assertEqual(log.offset_for_timestamp(header.max_timestamp), (base, header.max_timestamp))

    def corrupt_on_disk(self, segment: Segment, entry: int) -> tuple[int, int]:
        """Point offset-index entry C{entry} of a sealed segment's file one byte past its batch.

        @return: the entry as it was.
        """
        segment.drop_indexes()
        with open(segment.index_path, "r+b") as f:
            f.seek(entry * 8)
            relative, position = struct.unpack(">ii", f.read(8))
            f.seek(entry * 8 + 4)
            f.write(struct.pack(">i", position + 1))
        return relative, position

    def run_rebuild(self, segment: Segment, between_turns: object = None) -> IndexRebuild:
        """Turn the clock until C{segment}'s rebuild finished (checking reads each turn); return it."""
        rebuild = segment.rebuild
        assert rebuild is not None
        turns = 0
        while segment.rebuild is not None:
            self.assertLess(turns, MAX_TURNS)
            if callable(between_turns):
                between_turns()
            self.assertReadsCorrect(self.log, self.stored)
            self.clock.turn()
            turns += 1
        self.assertGreater(turns, 1)
        self.assertGreater(rebuild.slices, 1)
        return rebuild

    def test_sealed_segment(self) -> None:
        """A stale entry in a sealed segment's index file: the read is right at once, the rebuild takes slices.

        Afterwards the index (in memory and in the files) equals a rebuild from scratch.
        """
        self.log.roll()
        segment = self.log.segments()[0]
        entries = len(segment.index)
        self.assertGreater(entries, 50)
        relative, _ = self.corrupt_on_disk(segment, entries // 2)
        stale_batch = self.stored[relative]
        self.assertEqual(self.log.read(relative + 1, 1), stale_batch)
        rebuild = segment.rebuild
        self.assertIsNotNone(rebuild)
        self.assertFalse(os.path.exists(segment.index_path))
        self.assertEqual(self.log.read(relative, 1), stale_batch)
        self.run_rebuild(segment)
        expected = self.from_scratch(segment)
        self.assertSameIndexes(segment, expected)
        with open(segment.index_path, "rb") as f:
            self.assertEqual(f.read(), expected.index.to_bytes())
        with open(segment.time_index_path, "rb") as f:
            self.assertEqual(f.read(), expected.time_index.to_bytes())
        self.assertEqual(self.read_all(self.log), self.stored)

    def test_active_segment_with_appends(self) -> None:
        """Batches appended while the active segment's index is rebuilt are indexed exactly once."""
        segment = self.log.segments()[-1]
        entries = len(segment.index)
        segment.index.positions[entries // 3] += 1
        relative = segment.index.offsets[entries // 3]
        self.assertEqual(self.log.read(relative, 1), self.stored[relative])
        self.assertIsNotNone(segment.rebuild)
        tags = iter(range(1000, 2000))

        def append() -> None:
            for _ in range(3):
                tag = next(tags)
                batch = make_batch(3, tag=tag, timestamp=NOW_MS + tag * 10)
                offset = self.log.append(batch).base_offset
                self.stored[offset] = as_stored(batch, offset)
                self.assertEqual(self.log.read(offset, 1), self.stored[offset])

        self.run_rebuild(segment, append)
        self.assertSameIndexes(segment, self.from_scratch(segment))
        offsets = list(segment.index.offsets)
        self.assertEqual(offsets, sorted(set(offsets)))
        for _ in range(20):
            append()
        self.assertEqual(list(segment.index.positions), list(self.from_scratch(segment).index.positions))
        self.assertEqual(self.read_all(self.log), self.stored)

    def test_bad_index_file_loaded_at_run_time(self) -> None:
        """An index file found unusable when a sealed segment's index is loaded is rebuilt in slices too."""
        self.log.roll()
        segment = self.log.segments()[0]
        segment.drop_indexes()
        with open(segment.index_path, "ab") as f:
            f.write(b"\0\0\0")  # not a whole number of entries
        self.assertEqual(self.log.read(0, 1), self.stored[0])
        self.assertIsNotNone(segment.rebuild)
        self.run_rebuild(segment)
        self.assertSameIndexes(segment, self.from_scratch(segment))

    def test_deleted_segment_stops_rebuild(self) -> None:
        """Deleting a segment whose index is being rebuilt cancels the rebuild."""
        self.log.roll()
        segment = self.log.segments()[0]
        relative, _ = self.corrupt_on_disk(segment, len(segment.index) // 2)
        self.log.read(relative, 1)
        rebuild = segment.rebuild
        assert rebuild is not None
        self.log.delete_records(self.log.high_watermark)
        self.assertNotIn(segment, self.log.segments())
        self.assertIsNone(segment.rebuild)
        slices = rebuild.slices
        self.clock.turn()
        self.assertEqual(rebuild.slices, slices)

    def test_restart_during_rebuild(self) -> None:
        """A clean restart while indexes are being rebuilt rebuilds them at start-up; nothing is lost."""
        self.log.roll()
        segment = self.log.segments()[0]
        relative, _ = self.corrupt_on_disk(segment, len(segment.index) // 2)
        self.log.read(relative, 1)
        self.assertIsNotNone(segment.rebuild)
        store = self.reopen(self.store, index_interval_bytes=INTERVAL)
        log = self.partition(store)
        self.assertIsNone(log.segments()[0].rebuild)
        self.assertEqual(self.read_all(log), self.stored)
        self.assertSameIndexes(log.segments()[0], self.from_scratch(log.segments()[0]))
