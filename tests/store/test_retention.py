# -*- test-case-name: tests.store.test_retention -*-
"""Tests for segment rolling by size and age, and retention by bytes and age."""

from __future__ import annotations

import os

from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.store.retention import RetentionSweep

from .helpers import NOW_MS, StoreTestMixin, make_batch


class RollTests(StoreTestMixin, SynchronousTestCase):
    """When a new segment starts."""

    def test_roll_by_size(self) -> None:
        """A segment never grows past segment.bytes (unless it holds a single larger batch)."""
        store = self.open_store(segment_bytes=1000)
        log = store.vhost("/").create_topic("t", 1).partitions[0]
        self.fill(log, 20)
        segments = log.segments()
        self.assertGreater(len(segments), 3)
        for segment in segments:
            self.assertLessEqual(os.path.getsize(segment.log_path), 1000)
        for left, right in zip(segments, segments[1:]):
            self.assertEqual(left.next_offset, right.base_offset)
        big = log.append(make_batch(1, value_size=3000)).base_offset
        self.assertEqual(log.segments()[-1].base_offset, big)

    def test_roll_by_age_on_append(self) -> None:
        """An append to a segment older than segment.ms starts a new one."""
        store = self.open_store(segment_ms=60_000)
        log = store.vhost("/").create_topic("t", 1).partitions[0]
        log.append(make_batch())
        self.clock.advance(59)
        log.append(make_batch())
        self.assertEqual(len(log.segments()), 1)
        self.clock.advance(2)
        log.append(make_batch())
        self.assertEqual([s.base_offset for s in log.segments()], [0, 2])

    def test_roll_by_age_on_sweep(self) -> None:
        """The retention sweep rolls an idle old segment so it can expire."""
        store = self.open_store(segment_ms=60_000, retention_check_interval_ms=1000)
        log = store.vhost("/").create_topic("t", 1).partitions[0]
        log.append(make_batch())
        self.clock.advance(61)
        self.assertEqual([s.base_offset for s in log.segments()], [0, 1])

    def test_config_change_takes_effect(self) -> None:
        """Lowering segment.bytes on the topic affects the next append."""
        store = self.open_store()
        topic = store.vhost("/").create_topic("t", 1)
        log = topic.partitions[0]
        self.fill(log, 10)
        topic.set_configs({"segment.bytes": str(1 << 20)})
        self.assertEqual(topic.settings.segment_bytes, 1 << 20)
        log.append(make_batch(1, value_size=(1 << 20) - 200))
        self.assertEqual(len(log.segments()), 2)


class RetentionTests(StoreTestMixin, SynchronousTestCase):
    """Deleting whole sealed segments from the head."""

    def setUp(self) -> None:
        """Set up what each test here uses."""
        super().setUp()
        self.store = self.open_store(segment_bytes=1000, retention_check_interval_ms=10_000)
        self.topic = self.store.vhost("/").create_topic("t", 1)
        self.log = self.topic.partitions[0]

    def test_retention_bytes(self) -> None:
        """Oldest sealed segments go while the partition is larger than retention.bytes."""
        self.fill(self.log, 30)
        self.topic.set_configs({"retention.bytes": "2500"})
        self.assertLessEqual(self.log.size_bytes() - self.log.segments()[0].size, 2500)
        self.assertGreater(self.log.size_bytes(), 1500)
        first = self.log.segments()[0]
        self.assertEqual(self.log.log_start_offset, first.base_offset)
        self.assertGreater(first.base_offset, 0)
        kept = self.read_all(self.log)
        self.assertEqual(min(kept), first.base_offset)

    def test_retention_ms(self) -> None:
        """Sealed segments whose newest timestamp is older than retention.ms go; the active one stays."""
        self.topic.set_configs({"retention.ms": "3600000"})
        for i in range(10):
            self.log.append(make_batch(2, tag=i, timestamp=NOW_MS - 7_200_000))
        old_end = self.log.high_watermark
        for i in range(10):
            self.log.append(make_batch(2, tag=i, timestamp=NOW_MS))
        self.clock.advance(10)
        self.assertGreaterEqual(self.log.log_start_offset, old_end - 6)
        for segment in self.log.segments():
            self.assertGreaterEqual(segment.max_timestamp, NOW_MS - 1000)

    def test_active_segment_kept(self) -> None:
        """Even a tiny retention never deletes the active segment."""
        self.fill(self.log, 30)
        self.topic.set_configs({"retention.bytes": "0"})
        self.assertEqual(len(self.log.segments()), 1)
        self.assertEqual(self.log.read(self.log.log_start_offset, 1 << 20)[:0], b"")

    def test_compact_only_keeps_old_segments(self) -> None:
        """With cleanup.policy=compact, retention.ms and retention.bytes delete nothing; compact,delete applies them."""
        self.fill(self.log, 30)
        segments = len(self.log.segments())
        self.topic.set_configs({"cleanup.policy": "compact", "retention.bytes": "0", "retention.ms": "1"})
        self.clock.advance(10)
        self.assertEqual((self.log.log_start_offset, len(self.log.segments())), (0, segments))
        self.topic.set_configs({"cleanup.policy": "compact,delete", "retention.bytes": "0", "retention.ms": "1"})
        self.assertEqual(len(self.log.segments()), 1)
        self.assertGreater(self.log.log_start_offset, 0)

    def test_forever(self) -> None:
        """retention.ms=-1 keeps everything."""
        self.topic.set_configs({"retention.ms": "-1"})
        for i in range(10):
            self.log.append(make_batch(2, tag=i, timestamp=0))
        self.clock.advance(10)
        self.assertEqual(self.log.log_start_offset, 0)

    def test_deleted_files_removed(self) -> None:
        """Deleted segments leave no files behind (removal runs in the thread pool)."""
        self.fill(self.log, 30)
        before = set(os.listdir(self.log.directory))
        self.topic.set_configs({"retention.bytes": "1000"})
        self.threads.run_all()
        after = set(os.listdir(self.log.directory))
        self.assertFalse([n for n in after if n.endswith(".deleted")])
        gone = before - after
        self.assertIn(f"{0:020d}.log", gone)
        self.assertIn(f"{0:020d}.index", gone)

    def test_many_segments_in_steps(self) -> None:
        """A big deletion is done a bounded number of segments per reactor turn."""
        from twisted_kafka.store.partition import MAX_DELETIONS_PER_STEP

        store = self.open_store(segment_bytes=300)
        topic = store.vhost("/").create_topic("many", 1)
        log = topic.partitions[0]
        self.fill(log, 2 * MAX_DELETIONS_PER_STEP + 10, count=1)
        total = len(log.segments())
        topic.set_configs({"retention.bytes": "0"})
        self.assertEqual(len(log.segments()), total - MAX_DELETIONS_PER_STEP)
        self.clock.advance(0)
        self.assertEqual(len(log.segments()), 1)

    def test_after_restart(self) -> None:
        """After a restart the log starts at the first remaining segment."""
        self.fill(self.log, 30)
        self.topic.set_configs({"retention.bytes": "2000"})
        start = self.log.log_start_offset
        store = self.reopen(self.store, segment_bytes=1000)
        self.assertEqual(self.partition(store).log_start_offset, start)


class SweepSliceTests(SynchronousTestCase):
    """The sweep yields to the reactor between slices."""

    def test_slices(self) -> None:
        """With a slow timer each slice handles one partition and reschedules itself at delay 0."""
        from twisted.internet.task import Clock

        visited: list[tuple[int, int]] = []
        sweep: RetentionSweep

        class FakeTopic:
            """Owns the fake partitions."""

            partitions: list[object] = []

        class FakePartition:
            """Records when the sweep visits it."""

            def __init__(self, i: int) -> None:
                self.i = i
                self.topic = FakeTopic

            def apply_retention(self, now: int) -> int:
                visited.append((sweep.slices, self.i))
                return 0

        parts = [FakePartition(i) for i in range(4)]
        FakeTopic.partitions = list(parts)
        clock = Clock()
        ticks = iter(range(10_000))
        sweep = RetentionSweep(clock, lambda: parts, 10_000, timer=lambda: next(ticks) * 0.01)  # type: ignore[arg-type, return-value]
        sweep.start()
        clock.advance(9)
        self.assertEqual(visited, [])
        clock.advance(1)
        self.assertEqual(visited, [(1, 0), (2, 1), (3, 2), (4, 3)])
        self.assertEqual([call.getTime() for call in clock.getDelayedCalls()], [20])  # type: ignore[misc]
        clock.advance(10)
        self.assertEqual(len(visited), 8)
        sweep.stop()
        self.assertEqual(clock.getDelayedCalls(), [])
