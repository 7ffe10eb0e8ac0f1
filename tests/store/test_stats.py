# -*- test-case-name: tests.store.test_stats -*-
"""Tests for L{twisted_kafka.store.stats} and the counting the store does with it."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from tests.store.helpers import StoreTestMixin, make_batch
from twisted_kafka.store.stats import BucketCounts


class BucketCountsTests(SynchronousTestCase):
    """L{BucketCounts} counts observations per bucket."""

    def test_cumulative(self) -> None:
        """Each bound counts the observations at or below it; +Inf counts all."""
        counts = BucketCounts((1.0, 2.0))
        for value in (0.5, 1.0, 1.5, 7.0):
            counts.observe(value)
        self.assertEqual(counts.cumulative(), [(1.0, 2), (2.0, 3), (float("inf"), 4)])
        self.assertEqual(counts.total, 10.0)


class StoreCountingTests(StoreTestMixin, SynchronousTestCase):
    """The store counts traffic per partition and its fsync rounds and deletions."""

    def test_partition_traffic(self) -> None:
        """Appends add bytes and offsets in, reads add bytes out."""
        store = self.open_store()
        partition = store.vhost("/").create_topic("t", 1).partitions[0]
        batch = make_batch(3)
        partition.append(batch)
        partition.append(batch)
        self.assertEqual((partition.bytes_in, partition.records_in), (2 * len(batch), 6))
        data = partition.read(0, 1 << 20)
        self.assertEqual(partition.bytes_out, len(data))

    def test_fsync_rounds(self) -> None:
        """A round's file count and duration are observed."""
        store = self.open_store(fsync=True)
        partition = store.vhost("/").create_topic("t", 1).partitions[0]
        before = store.stats.fsync_files.cumulative()[-1][1]
        partition.append(make_batch(1))
        d = store.sync()
        self.threads.run_all()
        self.successResultOf(d)
        self.assertEqual(store.stats.fsync_files.cumulative()[-1][1], before + 1)
        self.assertEqual(store.stats.fsync_seconds.cumulative()[-1][1], before + 1)

    def test_retention_deletions(self) -> None:
        """Deleting head segments counts them and their bytes."""
        store = self.open_store()
        partition = store.vhost("/").create_topic("t", 1).partitions[0]
        self.fill(partition, 3)
        partition.roll()
        self.fill(partition, 1)
        partition.delete_records(partition.high_watermark - 1)
        self.clock.advance(1)
        self.assertEqual(store.stats.retention_segments, 1)
        self.assertGreater(store.stats.retention_bytes, 0)
