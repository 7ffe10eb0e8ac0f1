# -*- test-case-name: tests.store.test_producers -*-
"""Tests for idempotent-producer state: deduplication, sequence and epoch checks, restarts."""

from __future__ import annotations

import os

from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.errors import ErrorCode, KafkaError
from twisted_kafka.store.producers import INT32_MAX, ProducerStateTable, in_sequence, last_sequence

from .helpers import StoreTestMixin, make_batch


class SequenceArithmeticTests(SynchronousTestCase):
    """Sequence numbers wrap at Int32.MAX like Kafka's."""

    def test_last_sequence(self) -> None:
        """The last sequence of a batch is base + lastOffsetDelta, wrapping to 0."""
        self.assertEqual(last_sequence(5, 3), 8)
        self.assertEqual(last_sequence(INT32_MAX - 1, 1), INT32_MAX)
        self.assertEqual(last_sequence(INT32_MAX, 1), 0)
        self.assertEqual(last_sequence(INT32_MAX - 1, 4), 2)

    def test_in_sequence(self) -> None:
        """The next sequence follows by one, or 0 after Int32.MAX."""
        self.assertTrue(in_sequence(4, 5))
        self.assertFalse(in_sequence(4, 6))
        self.assertFalse(in_sequence(4, 4))
        self.assertTrue(in_sequence(INT32_MAX, 0))
        self.assertTrue(in_sequence(-1, 0))


class ProducerStateTableTests(SynchronousTestCase):
    """L{ProducerStateTable} on its own."""

    def setUp(self) -> None:
        """Set up what each test here uses."""
        self.table = ProducerStateTable()

    def _append(self, pid: int, epoch: int, seq: int, delta: int, offset: int) -> int | None:
        duplicate = self.table.check(pid, epoch, seq, delta)
        if duplicate is None:
            self.table.record(pid, epoch, seq, delta, offset, 0)
        return duplicate

    def _code(self, pid: int, epoch: int, seq: int, delta: int = 0) -> ErrorCode:
        with self.assertRaises(KafkaError) as e:
            self.table.check(pid, epoch, seq, delta)
        return e.exception.code

    def test_unknown_producer_any_sequence(self) -> None:
        """A producer never seen is accepted at any sequence (Kafka 2.5+)."""
        self.assertIsNone(self.table.check(7, 0, 1234, 0))

    def test_in_order(self) -> None:
        """Consecutive sequences are accepted."""
        self.assertIsNone(self._append(1, 0, 0, 2, 0))
        self.assertIsNone(self._append(1, 0, 3, 0, 3))

    def test_gap(self) -> None:
        """A gap or an old sequence beyond the last five is OUT_OF_ORDER_SEQUENCE_NUMBER."""
        self._append(1, 0, 0, 2, 0)
        self.assertEqual(self._code(1, 0, 4), ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER)
        self.assertEqual(self._code(1, 0, 1), ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER)

    def test_duplicate_of_last_five(self) -> None:
        """A retry of any of the last five batches returns its original offset."""
        for i in range(7):
            self._append(1, 0, i * 2, 1, 100 + i * 2)
        for i in range(2, 7):
            self.assertEqual(self.table.check(1, 0, i * 2, 1), 100 + i * 2)
        self.assertEqual(self._code(1, 0, 2, 1), ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER)

    def test_duplicate_needs_exact_range(self) -> None:
        """Same first sequence but a different length is not a duplicate."""
        self._append(1, 0, 0, 3, 0)
        self.assertEqual(self._code(1, 0, 0, 1), ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER)

    def test_old_epoch(self) -> None:
        """An older epoch is INVALID_PRODUCER_EPOCH, even for a former duplicate."""
        self._append(1, 3, 0, 0, 0)
        self.assertEqual(self._code(1, 2, 1), ErrorCode.INVALID_PRODUCER_EPOCH)
        self.assertEqual(self._code(1, 2, 0), ErrorCode.INVALID_PRODUCER_EPOCH)

    def test_new_epoch_starts_at_zero(self) -> None:
        """A new epoch must start at sequence 0; afterwards the old epoch is fenced."""
        self._append(1, 0, 0, 4, 0)
        self.assertEqual(self._code(1, 1, 5), ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER)
        self.assertIsNone(self._append(1, 1, 0, 0, 5))
        self.assertEqual(self._code(1, 0, 5), ErrorCode.INVALID_PRODUCER_EPOCH)
        self.assertIsNone(self.table.check(1, 1, 1, 0))

    def test_wrap(self) -> None:
        """After Int32.MAX the sequence continues at 0."""
        self._append(1, 0, INT32_MAX - 1, 1, 0)
        self.assertIsNone(self._append(1, 0, 0, 0, 2))
        self.assertEqual(self.table.check(1, 0, INT32_MAX - 1, 1), 0)

    def test_negative_sequence(self) -> None:
        """A producer id without a sequence is INVALID_RECORD."""
        self.assertEqual(self._code(1, 0, -1), ErrorCode.INVALID_RECORD)

    def test_evict_and_truncate(self) -> None:
        """Producers whose batches fall below the log start, or are cut off, are forgotten."""
        self._append(1, 0, 0, 0, 5)
        self._append(2, 0, 0, 0, 10)
        self.table.evict_before(6)
        self.assertEqual(set(self.table.producers), {2})
        self.table.truncate(10)
        self.assertEqual(len(self.table), 0)

    def test_expire(self) -> None:
        """Producers idle longer than the expiration are forgotten."""
        self.table.record(1, 0, 0, 0, 0, 1000)
        self.table.record(2, 0, 0, 0, 1, 5000)
        self.table.expire(6000, 2000)
        self.assertEqual(set(self.table.producers), {2})

    def test_json_round_trip(self) -> None:
        """Snapshots restore the same state."""
        for i in range(7):
            self._append(1, 2, i, 0, i)
        self._append(9, 0, 50, 3, 20)
        copy = ProducerStateTable.from_json(self.table.to_json())
        self.assertEqual(copy.to_json(), self.table.to_json())
        self.assertEqual(copy.check(1, 2, 6, 0), 6)
        with self.assertRaises(ValueError):
            ProducerStateTable.from_json([["x"]])


class PartitionIdempotenceTests(StoreTestMixin, SynchronousTestCase):
    """Idempotent appends through L{PartitionLog}, across rolls and restarts."""

    def setUp(self) -> None:
        """Set up what each test here uses."""
        super().setUp()
        self.store = self.open_store(segment_bytes=2000)
        self.log = self.store.vhost("/").create_topic("t", 1).partitions[0]

    def _send(self, log, seq: int, count: int = 2, epoch: int = 0, pid: int = 42) -> int:  # type: ignore[no-untyped-def]
        return log.append(make_batch(count, tag=seq, producer_id=pid, producer_epoch=epoch, base_sequence=seq)).base_offset

    def test_retry_returns_original_offset(self) -> None:
        """A retried batch gets its first offset back and is stored once."""
        self.log.append(make_batch(3))
        first = self._send(self.log, 0)
        self._send(self.log, 2)
        size = self.log.size_bytes()
        self.assertEqual(self._send(self.log, 0), first)
        self.assertEqual(self.log.size_bytes(), size)
        self.assertEqual(self.log.high_watermark, 7)

    def test_gap_stores_nothing(self) -> None:
        """A sequence gap is rejected and leaves the log untouched."""
        self._send(self.log, 0)
        with self.assertRaises(KafkaError) as e:
            self._send(self.log, 5)
        self.assertEqual(e.exception.code, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER)
        self.assertEqual(self.log.high_watermark, 2)

    def test_old_epoch(self) -> None:
        """A zombie with an older epoch is fenced."""
        self._send(self.log, 0, epoch=1)
        with self.assertRaises(KafkaError) as e:
            self._send(self.log, 2, epoch=0)
        self.assertEqual(e.exception.code, ErrorCode.INVALID_PRODUCER_EPOCH)

    def test_producers_independent(self) -> None:
        """Each producer id has its own sequence."""
        self._send(self.log, 0, pid=1)
        self._send(self.log, 0, pid=2)
        self.assertEqual(self._send(self.log, 2, pid=1), 4)

    def _many(self, batches: int) -> dict[int, int]:
        offsets = {}
        for i in range(batches):
            offsets[i * 2] = self._send(self.log, i * 2)
        return offsets

    def test_survives_clean_restart(self) -> None:
        """Deduplication and sequence checks continue after a clean restart (snapshot)."""
        offsets = self._many(30)
        self.assertGreater(len(self.log.segments()), 2)
        store = self.reopen(self.store, segment_bytes=2000)
        log = self.partition(store)
        self.assertEqual(self._send(log, 58), offsets[58])
        self.assertEqual(self._send(log, 50), offsets[50])
        with self.assertRaises(KafkaError):
            self._send(log, 70)
        self.assertEqual(self._send(log, 60), 60)

    def test_survives_crash(self) -> None:
        """After a crash the state is rebuilt from the snapshot at the last roll plus the log headers."""
        offsets = self._many(30)
        store = self.reopen(self.store, clean=False, segment_bytes=2000)
        log = self.partition(store)
        self.assertEqual(self._send(log, 58), offsets[58])
        self.assertEqual(self._send(log, 52), offsets[52])
        self.assertEqual(self._send(log, 60), 60)

    def test_survives_crash_without_snapshots(self) -> None:
        """Without any snapshot the active segment's headers are enough for the recent batches."""
        offsets = self._many(30)
        self.crash(self.store)
        for name in os.listdir(self.log.directory):
            if name.endswith(".snapshot"):
                os.unlink(os.path.join(self.log.directory, name))
        log = self.partition(self.open_store(segment_bytes=2000))
        self.assertEqual(self._send(log, 58), offsets[58])
        self.assertEqual(self._send(log, 60), 60)

    def test_crash_without_snapshots_just_after_roll(self) -> None:
        """Without snapshots a producer whose batches all precede the latest roll is still deduplicated."""
        offsets = self._many(3)
        self.log.roll()
        self.log.append(make_batch(1))
        self.crash(self.store)
        for name in os.listdir(self.log.directory):
            if name.endswith(".snapshot"):
                os.unlink(os.path.join(self.log.directory, name))
        log = self.partition(self.open_store(segment_bytes=2000))
        self.assertEqual(self._send(log, 4), offsets[4])
        self.assertEqual(log.high_watermark, 7)

    def test_roll_snapshot_fsynced(self) -> None:
        """The producer snapshot written at a roll is part of the roll's fsync round."""
        store = self.open_store(fsync=True, segment_bytes=2000)
        log = store.vhost("/").create_topic("u", 1).partitions[0]
        synced: list[str] = []
        from twisted_kafka.store import group_commit

        real = group_commit.fsync_all

        def fsync_all(fds: list[int], paths: list[str]) -> None:
            synced.extend(paths)
            real(fds, paths)

        self.patch(group_commit, "fsync_all", fsync_all)
        self._send(log, 0)
        log.roll()
        self.threads.run_all()
        self.assertIn(os.path.join(log.directory, f"{2:020d}.snapshot"), synced)

    def test_truncated_batches_forgotten(self) -> None:
        """A batch cut off by recovery is not remembered: its retry is stored again."""
        self._many(3)
        path = self.log.segments()[-1].log_path
        self.crash(self.store)
        os.truncate(path, os.path.getsize(path) - 1)
        log = self.partition(self.open_store(segment_bytes=2000))
        self.assertEqual(log.high_watermark, 4)
        self.assertEqual(self._send(log, 4), 4)

    def test_evicted_by_retention(self) -> None:
        """Once all of a producer's batches are deleted, any sequence is accepted again."""
        self._send(self.log, 0, pid=7)
        for i in range(20):
            self.log.append(make_batch(2, tag=i))
        self.log.delete_records(self.log.high_watermark)
        self.assertNotEqual(self._send(self.log, 100, pid=7), 0)
