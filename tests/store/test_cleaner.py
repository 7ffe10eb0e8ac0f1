# -*- test-case-name: tests.store.test_cleaner -*-
"""Tests for L{twisted_kafka.store.cleaner} (and the swap protocol of L{twisted_kafka.store.swap}).

The cleaner is checked against a model of compaction: for every key, the
record with the highest offset, at that offset, in the sealed part of the
log; everything in the active segment; tombstones until they expire.
"""

from __future__ import annotations

import os
import random
import shutil
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.records.batch import CODEC_GZIP, CODEC_LZ4, CODEC_NONE, CODEC_SNAPPY, CODEC_ZSTD, split_batches
from twisted_kafka.records.record import build_batch, iter_records
from twisted_kafka.store import swap
from twisted_kafka.store.cleaner import CHECKPOINT_FILE, CleanerCheckpoint, LogCleaner, OffsetMap
from twisted_kafka.store.partition import PartitionLog
from twisted_kafka.store.service import StreamStore

from .helpers import NOW_MS, StoreTestMixin

#: topic configs of a compacted topic cleaned at once (the store's segments are small: L{SEGMENT_BYTES})
COMPACT = {
    "cleanup.policy": "compact",
    "min.cleanable.dirty.ratio": "0.01",
    "delete.retention.ms": "86400000",
}

#: the segment size of the test stores
SEGMENT_BYTES = 2048

Stored = dict[int, tuple[bytes | None, bytes | None]]


def keyed(records: list[tuple[bytes | None, bytes | None]], codec: int = CODEC_NONE, **kwargs: Any) -> bytes:
    """A batch of C{(key, value)} records."""
    return build_batch([(key, value, [], NOW_MS) for key, value in records], codec=codec, **kwargs)


def records_of(partition: PartitionLog) -> Stored:
    """Every record readable from the log start: offset -> (key, value)."""
    found: Stored = {}
    offset = partition.log_start_offset
    while offset < partition.high_watermark:
        data = partition.read(offset, 1 << 20)
        assert data, offset
        for start, end, header in split_batches(data):
            for record in iter_records(memoryview(data)[start:end], header, 1 << 24):
                assert record.offset not in found
                found[record.offset] = (record.key, record.value)
            offset = header.next_offset
    return found


def compacted(records: Stored, end: int, drop_tombstones: bool = False) -> Stored:
    """The model: below C{end}, the latest record of each key (tombstones kept unless dropped); all from C{end} on."""
    latest: dict[bytes | None, int] = {}
    for offset in sorted(records):
        if offset < end:
            latest[records[offset][0]] = offset
    kept: Stored = {}
    for offset, (key, value) in records.items():
        if offset >= end:
            kept[offset] = (key, value)
        elif latest[key] == offset and not (drop_tombstones and value is None):
            kept[offset] = (key, value)
    return kept


class CleanerTestMixin(StoreTestMixin):
    """A store with a compacted topic, and a way to run the cleaner to the end."""

    def open_store(self, **config: Any) -> StreamStore:
        """A store whose segments roll at L{SEGMENT_BYTES}."""
        config.setdefault("segment_bytes", SEGMENT_BYTES)
        return super().open_store(**config)

    def compacted_partition(self, store: StreamStore, **configs: str) -> PartitionLog:
        """Create topic C{t} (compacted, small segments; C{configs} override) and return its partition."""
        topic = store.vhost("/").create_topic("t", 1, {**COMPACT, **configs})
        return topic.partitions[0]

    def clean(self, store: StreamStore) -> None:
        """Run the cleaner until nothing is left to clean (driving the fake clock)."""
        d = store.run_cleaner()
        for _ in range(100_000):
            if d.called:
                break
            self.clock.advance(0)
            self.threads.run_all()
        assert isinstance(self, SynchronousTestCase)
        self.assertIsNone(self.successResultOf(d))

    def produce(self, partition: PartitionLog, rng: random.Random, batches: int, keys: int, codecs: tuple[int, ...] = (CODEC_NONE,)) -> Stored:
        """Append C{batches} random batches of keyed records (some tombstones); return what was written."""
        written: Stored = {}
        for i in range(batches):
            records = [
                (b"key-%d" % rng.randrange(keys), None if rng.random() < 0.1 else b"value-%d-%d" % (i, j))
                for j in range(rng.randrange(1, 6))
            ]
            base = partition.append(keyed(records, rng.choice(codecs))).base_offset
            for j, record in enumerate(records):
                written[base + j] = record
        return written


#: One step of a property run: append a batch (its records' keys and
#: tombstone flags, its codec, whether an idempotent producer sends it),
#: run the cleaner to the end, or restart the store (cleanly or crashed).
_STEPS = st.one_of(
    st.tuples(st.just("append"),
              st.lists(st.tuples(st.integers(0, 7), st.booleans()), min_size=1, max_size=6),
              st.sampled_from((CODEC_NONE, CODEC_GZIP, CODEC_LZ4)), st.booleans()),
    st.tuples(st.just("clean")),
    st.tuples(st.just("restart"), st.booleans()),
)


class CleanerPropertyTests(CleanerTestMixin, SynchronousTestCase):
    """Any interleaving of appends, cleans and restarts keeps what the model keeps."""

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(steps=st.lists(_STEPS, min_size=1, max_size=60), budget=st.sampled_from((1 << 20, 400)))
    def test_against_model(self, steps: list[tuple[Any, ...]], budget: int) -> None:
        """After every clean: the latest record of each key below the clean's end, at its offset; all above it.

        Small key maps (C{budget}) clean in several passes; restarts (clean
        or crashed) keep the result; an idempotent producer can always go on
        with its next sequence number.
        """
        shutil.rmtree(self.data_dir, ignore_errors=True)
        store = self.open_store(cleaner_dedupe_buffer_size=budget, segment_bytes=400)
        partition = self.compacted_partition(store)
        written: Stored = {}
        sequence = 0
        for step in steps:
            if step[0] == "append":
                _, shape, codec, idempotent = step
                records = [(b"key-%d" % key, None if tombstone else b"value-%d" % len(written))
                           for key, tombstone in shape]
                producer = ({"producer_id": 7, "producer_epoch": 0, "base_sequence": sequence}
                            if idempotent else {})
                base = partition.append(keyed(records, codec, **producer)).base_offset
                sequence += len(records) if idempotent else 0
                written.update((base + i, record) for i, record in enumerate(records))
            elif step[0] == "clean":
                self.clean(store)
            else:
                store = self.reopen(store, clean=step[1], cleaner_dedupe_buffer_size=budget,
                                    segment_bytes=400)
                partition = self.partition(store)
            end = partition.cleaner_checkpoint.first_dirty
            self.assertEqual(records_of(partition), compacted(written, end))
        self.clean(store)
        end = partition.cleaner_checkpoint.first_dirty
        self.assertEqual(end, partition.segments()[-1].base_offset, "all but the active segment cleaned")
        self.assertEqual(records_of(partition), compacted(written, end))
        appended = partition.append(keyed([(b"key-0", b"last")], producer_id=7, producer_epoch=0,
                                          base_sequence=sequence))
        self.assertEqual(appended.base_offset, max(written, default=-1) + 1)
        self.stop(store)


class CleanerModelTests(CleanerTestMixin, SynchronousTestCase):
    """The cleaner keeps what the model keeps, at the same offsets."""

    def test_latest_per_key(self) -> None:
        """Random overwrites in every codec: after a clean the sealed part holds the latest record of each key."""
        for seed in range(8):
            rng = random.Random(seed)
            store = self.open_store()
            partition = self.compacted_partition(store)
            written = self.produce(partition, rng, 120, 15, (CODEC_NONE, CODEC_GZIP, CODEC_SNAPPY, CODEC_LZ4, CODEC_ZSTD))
            active = partition.segments()[-1].base_offset
            before = partition.size_bytes()
            self.clean(store)
            self.assertEqual(records_of(partition), compacted(written, active), seed)
            self.assertLess(partition.size_bytes(), before / 2, seed)
            self.assertEqual(partition.cleaner_checkpoint.first_dirty, active, seed)
            self.assertEqual(partition.high_watermark, max(written) + 1)
            self.stop(store)
            shutil.rmtree(self.data_dir)

    def test_codec_and_offsets_kept(self) -> None:
        """A rewritten batch keeps its codec, base offset and lastOffsetDelta; fully superseded batches go."""
        store = self.open_store()
        partition = self.compacted_partition(store)
        partition.append(keyed([(b"a", b"1"), (b"b", b"1"), (b"c", b"1")], CODEC_GZIP))
        partition.append(keyed([(b"a", b"2")], CODEC_LZ4))
        partition.append(keyed([(b"d", b"1")]))
        partition.roll()
        partition.append(keyed([(b"e", b"1")]))
        self.clean(store)
        data = partition.read(0, 1 << 20)
        headers = [header for _, _, header in split_batches(data)]
        self.assertEqual([(h.base_offset, h.last_offset_delta, h.record_count, h.codec) for h in headers],
                         [(0, 2, 2, CODEC_GZIP), (3, 0, 1, CODEC_LZ4), (4, 0, 1, CODEC_NONE)])
        self.assertEqual(records_of(partition), {1: (b"b", b"1"), 2: (b"c", b"1"), 3: (b"a", b"2"),
                                                 4: (b"d", b"1"), 5: (b"e", b"1")})

    def test_reads_skip_gaps(self) -> None:
        """A read at an offset the cleaner removed answers the next batch after it, as Kafka does."""
        store = self.open_store()
        partition = self.compacted_partition(store)
        for i in range(5):
            partition.append(keyed([(b"same", b"%d" % i)]))
        partition.append(keyed([(b"other", b"x")]))
        partition.roll()
        self.clean(store)
        [(_, _, header)] = split_batches(partition.read(1, 1 << 20))[:1]
        self.assertEqual(header.base_offset, 4)
        self.assertEqual(records_of(partition), {4: (b"same", b"4"), 5: (b"other", b"x")})

    def test_small_map_several_passes(self) -> None:
        """A key map too small for the dirty part cleans it in several passes, to the same result."""
        rng = random.Random(7)
        store = self.open_store(cleaner_dedupe_buffer_size=2000)
        partition = self.compacted_partition(store)
        written = self.produce(partition, rng, 150, 60)
        active = partition.segments()[-1].base_offset
        self.clean(store)
        assert store.cleaner is not None
        self.assertGreater(store.cleaner.passes, 2)
        self.assertEqual(records_of(partition), compacted(written, active))

    def test_repeated_cleans(self) -> None:
        """Producing and cleaning again and again keeps matching the model; the log stays small."""
        rng = random.Random(3)
        store = self.open_store()
        partition = self.compacted_partition(store)
        written: Stored = {}
        for _ in range(6):
            written.update(self.produce(partition, rng, 40, 10))
            partition.roll()
            self.clean(store)
            self.assertEqual(records_of(partition), compacted(written, partition.high_watermark))
        self.assertLess(partition.size_bytes(), 6 * SEGMENT_BYTES)

    def test_restart_keeps_result(self) -> None:
        """After a clean, a clean restart and an unclean one read the same records; the checkpoint survives."""
        rng = random.Random(5)
        store = self.open_store()
        partition = self.compacted_partition(store)
        written = self.produce(partition, rng, 80, 10)
        active = partition.segments()[-1].base_offset
        self.clean(store)
        expected = compacted(written, active)
        for clean in (True, False):
            store = self.reopen(store, clean=clean)
            partition = self.partition(store)
            self.assertEqual(records_of(partition), expected)
            self.assertEqual(partition.cleaner_checkpoint.first_dirty, active)
            self.assertEqual(partition.high_watermark, max(written) + 1)


class TombstoneTests(CleanerTestMixin, SynchronousTestCase):
    """Tombstones stay C{delete.retention.ms} after their part of the log was first cleaned."""

    def test_tombstone_expiry(self) -> None:
        """A tombstone survives the first clean and a clean within delete.retention.ms, and goes after it."""
        store = self.open_store()
        partition = self.compacted_partition(store, **{"delete.retention.ms": "60000"})
        partition.append(keyed([(b"a", b"1"), (b"b", b"1")]))
        partition.append(keyed([(b"a", None)]))
        partition.roll()
        self.clean(store)
        self.assertEqual(records_of(partition), {1: (b"b", b"1"), 2: (b"a", None)})
        self.clock.advance(30)
        partition.append(keyed([(b"c", b"1")]))
        partition.roll()
        self.clean(store)
        self.assertIn(2, records_of(partition))
        self.clock.advance(31)
        partition.append(keyed([(b"d", b"1")]))
        partition.roll()
        self.clean(store)
        self.assertEqual(records_of(partition), {1: (b"b", b"1"), 3: (b"c", b"1"), 4: (b"d", b"1")})

    def test_marks(self) -> None:
        """The checkpoint's marks say when each range was first cleaned, merge once expired, and stay bounded."""
        checkpoint = CleanerCheckpoint()
        checkpoint.advance(10, 1000, 500)
        checkpoint.advance(20, 2000, 500)
        self.assertEqual(checkpoint.first_cleaned(5), 1000)
        self.assertEqual(checkpoint.first_cleaned(15), 2000)
        self.assertIsNone(checkpoint.first_cleaned(20))
        checkpoint.advance(30, 3000, 500)
        self.assertEqual(checkpoint.marks, [(20, 2000), (30, 3000)])  # the first two expired: merged
        for i in range(200):
            checkpoint.advance(40 + i, 4000 + i, 10**9)
        self.assertLessEqual(len(checkpoint.marks), 64)
        self.assertEqual(checkpoint.first_dirty, 239)


class ProducerStateTests(CleanerTestMixin, SynchronousTestCase):
    """The last batch of every producer id stays, so idempotent producers go on after a clean."""

    def test_last_batch_kept_empty(self) -> None:
        """A producer's last batch, all of whose records were superseded, stays as an empty batch."""
        store = self.open_store()
        partition = self.compacted_partition(store)
        partition.append(keyed([(b"a", b"1")], producer_id=7, producer_epoch=0, base_sequence=0))
        partition.append(keyed([(b"a", b"2")], producer_id=7, producer_epoch=0, base_sequence=1))
        partition.append(keyed([(b"a", b"3")]))
        partition.roll()
        self.clean(store)
        headers = [header for _, _, header in split_batches(partition.read(0, 1 << 20))]
        self.assertEqual([(h.base_offset, h.record_count, h.producer_id, h.base_sequence) for h in headers],
                         [(1, 0, 7, 1), (2, 1, -1, -1)])
        store = self.reopen(store, clean=False)
        partition = self.partition(store)
        appended = partition.append(keyed([(b"b", b"1")], producer_id=7, producer_epoch=0, base_sequence=2))
        self.assertEqual(appended.base_offset, 3)
        retry = partition.append(keyed([(b"a", b"2")], producer_id=7, producer_epoch=0, base_sequence=1))
        self.assertEqual(retry.base_offset, 1)  # a duplicate of the kept batch, answered as before


class SchedulingTests(CleanerTestMixin, SynchronousTestCase):
    """When the cleaner cleans: dirty ratio, compaction lags, only compacted topics, in slices."""

    def test_dirty_ratio(self) -> None:
        """Below min.cleanable.dirty.ratio nothing is cleaned; max.compaction.lag.ms forces a clean."""
        store = self.open_store()
        partition = self.compacted_partition(store, **{"min.cleanable.dirty.ratio": "0.9"})
        for round_ in range(2):
            for i in range(30):
                partition.append(keyed([(b"k%d" % (i % 3), b"x" * 50)]))
            partition.roll()
            if round_ == 0:
                self.clean(store)
        size = partition.size_bytes()
        need = partition.cleaning_need(self.clock.seconds() * 1000)  # type: ignore[arg-type]
        self.assertIsNone(need)
        self.clean(store)
        self.assertEqual(partition.size_bytes(), size)
        store.vhost("/").topic("t").set_configs(  # type: ignore[union-attr]
            {**COMPACT, "min.cleanable.dirty.ratio": "0.9", "max.compaction.lag.ms": "1000"})
        self.clock.advance(2)
        self.clean(store)
        self.assertLess(partition.size_bytes(), size)

    def test_min_compaction_lag(self) -> None:
        """Segments with records newer than min.compaction.lag.ms are not cleaned yet."""
        store = self.open_store()
        partition = self.compacted_partition(store, **{"min.compaction.lag.ms": "60000"})
        written: Stored = {}
        for i in range(20):
            base = partition.append(build_batch([(b"k", b"%d" % i, [], int(self.clock.seconds() * 1000))])).base_offset
            written[base] = (b"k", b"%d" % i)
        partition.roll()
        self.clean(store)
        self.assertEqual(records_of(partition), written)
        self.clock.advance(61)
        self.clean(store)
        self.assertEqual(records_of(partition), {19: (b"k", b"19")})

    def test_delete_topics_untouched(self) -> None:
        """Topics with cleanup.policy=delete are never cleaned."""
        store = self.open_store()
        partition = store.vhost("/").create_topic("d", 1).partitions[0]
        for i in range(30):
            partition.append(keyed([(b"k", b"%d" % i)]))
        partition.roll()
        self.clean(store)
        self.assertEqual(len(records_of(partition)), 30)

    def test_runs_in_slices(self) -> None:
        """With a timer that runs out at every step, a clean takes many slices, each a bounded step."""
        store = self.open_store()
        partition = self.compacted_partition(store)
        written = self.produce(partition, random.Random(1), 60, 5)
        active = partition.segments()[-1].base_offset
        ticks = iter(range(10**9))
        cleaner = LogCleaner(self.clock, store.runtime.commit, store.partitions, 1 << 20, 1000,
                             timer=lambda: next(ticks) * 0.01)
        d = cleaner.run_now()
        turns = 0
        while not d.called:
            turns += self.clock.turn()
        self.assertGreater(turns, 60)
        self.assertEqual(records_of(partition), compacted(written, active))


class CrashTests(CleanerTestMixin, SynchronousTestCase):
    """A crash at any step of a clean loses nothing that compaction would keep."""

    def test_crash_at_every_step(self) -> None:
        """Copies of the data directory taken at every step of the swap open to the old log or the cleaned one."""
        rng = random.Random(11)
        store = self.open_store(fsync=True)
        partition = self.compacted_partition(store)
        written = self.produce(partition, rng, 80, 8)
        active = partition.segments()[-1].base_offset
        self.threads.run_all()
        expected = compacted(written, active)
        d = store.run_cleaner()
        copies = []
        for _ in range(100_000):
            if d.called:
                break
            self.clock.advance(0)
            if self.threads.calls:
                copy = self.mktemp()
                shutil.copytree(self.data_dir, copy)
                copies.append(copy)
                self.threads.run_one()
        self.assertGreaterEqual(len(copies), 2)
        self.assertEqual(records_of(partition), expected)
        directory = os.path.relpath(partition.directory, self.data_dir)
        # and halfway through step 3: the swap committed, one replaced segment already gone
        for name in sorted(os.listdir(copies[-1] + "/" + directory)):
            if name.endswith(swap.SWAP_SUFFIX):
                half = self.mktemp()
                shutil.copytree(copies[-1], half)
                base, end = (int(part) for part in name[: -len(swap.SWAP_SUFFIX)].split("-"))
                later = sorted(n for n in os.listdir(os.path.join(half, directory))
                               if n.endswith(".log") and base < int(n[:20]) < end)
                if later:
                    os.unlink(os.path.join(half, directory, later[0]))
                copies.append(half)
                break
        outcomes = set()
        for copy in copies:
            reopened = StreamStore(copy, store.config, reactor=self.clock, threadpool=self.threads)
            reopened.startService()
            try:
                found = records_of(self.partition(reopened))
            finally:
                reopened.cleaner.stop()  # type: ignore[union-attr]
                for vhost in reopened.vhosts():
                    vhost.release()
            self.assertIn(found, (written, expected), copy)
            outcomes.add(found == expected)
            leftovers = [n for n in os.listdir(os.path.join(copy, directory))
                         if n.endswith(swap.CLEANED_SUFFIX) or n.endswith(swap.SWAP_SUFFIX)]
            self.assertEqual(leftovers, [], copy)
        self.assertEqual(outcomes, {True, False})

    def test_partition_changed_during_pass(self) -> None:
        """DeleteRecords in the middle of a pass: the pass is dropped, its files removed, the log intact."""
        store = self.open_store()
        partition = self.compacted_partition(store)
        written = self.produce(partition, random.Random(2), 60, 5)
        ticks = iter(range(10**9))
        cleaner = LogCleaner(self.clock, store.runtime.commit, store.partitions, 1 << 20, 1000,
                             timer=lambda: next(ticks) * 0.01)
        d = cleaner.run_now()
        for _ in range(5):
            self.clock.turn()
        second = partition.segments()[1].base_offset
        partition.delete_records(second)
        while not d.called:
            self.clock.turn()
        self.assertEqual([n for n in os.listdir(partition.directory) if n.endswith(swap.CLEANED_SUFFIX)], [])
        remaining = {o: r for o, r in written.items() if o >= second}
        found = records_of(partition)
        self.assertEqual({o: r for o, r in found.items()}, {o: r for o, r in remaining.items() if o in found})
        self.assertTrue(set(compacted(remaining, partition.segments()[-1].base_offset)) <= set(found))


class OffsetMapTests(SynchronousTestCase):
    """The key map's accounting."""

    def test_budget(self) -> None:
        """Each new key is charged its length plus a fixed overhead; a known key costs nothing more."""
        offsets = OffsetMap(1000)
        self.assertEqual(offsets.cost([b"ab", b"ab", b"c"]), 2 + 1 + 2 * 120)
        offsets.put(b"ab", 1)
        offsets.put(b"ab", 5)
        self.assertEqual(offsets.latest(b"ab"), 5)
        self.assertEqual(offsets.used, 122)
        self.assertEqual(offsets.cost([b"ab"]), 0)
        self.assertIsNone(offsets.latest(b"zz"))

    def test_checkpoint_file(self) -> None:
        """The checkpoint round-trips through its file; a damaged file reads as a fresh one."""
        directory = self.mktemp()
        os.makedirs(directory)
        checkpoint = CleanerCheckpoint(42, [(42, 1000)])
        checkpoint.save(directory, durable=False)
        self.assertEqual(CleanerCheckpoint.load(directory), checkpoint)
        with open(os.path.join(directory, CHECKPOINT_FILE), "wb") as f:
            f.write(b"garbage")
        self.assertEqual(CleanerCheckpoint.load(directory), CleanerCheckpoint())
