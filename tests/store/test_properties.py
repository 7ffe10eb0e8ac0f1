# -*- test-case-name: tests.store.test_properties -*-
"""Property-based test: random append / read / roll / reopen / crash / retention sequences vs a model."""

from __future__ import annotations

import shutil
import tempfile

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.errors import ErrorCode, KafkaError
from twisted_kafka.records.batch import split_batches
from twisted_kafka.store.config import StoreConfig
from twisted_kafka.store.service import StreamStore

from .helpers import NOW_MS, FakeThreadPool, ThreadlessClock, as_stored, make_batch

CONFIG = StoreConfig(fsync=False, segment_bytes=1500, index_interval_bytes=200, retention_ms=-1)


class StoreModel(RuleBasedStateMachine):
    """One partition driven at random, checked against a dict of batches."""

    def __init__(self) -> None:
        super().__init__()
        self.dir = tempfile.mkdtemp(prefix="store-model-")
        self.clock = ThreadlessClock()
        self.threads = FakeThreadPool()
        self.store = self._open()
        self.store.vhost("/").create_topic("t", 1)
        self.batches: dict[int, bytes] = {}  # base offset -> stored bytes
        self.ends: dict[int, int] = {}  # base offset -> next offset
        self.hw = 0
        self.start = 0
        self.tag = 0

    def _open(self) -> StreamStore:
        store = StreamStore(self.dir, CONFIG, reactor=self.clock, threadpool=self.threads)
        store.startService()
        return store

    @property
    def log(self):  # type: ignore[no-untyped-def]
        """The partition under test (from the current store)."""
        return self.store.vhost("/").topic("t").partitions[0]  # type: ignore[union-attr]

    def _crash(self) -> None:
        self.store._sweep.stop()  # type: ignore[union-attr]
        for vhost in self.store.vhosts():
            vhost.release()

    def teardown(self) -> None:
        """Close the files and remove the data directory."""
        self._crash()
        shutil.rmtree(self.dir, ignore_errors=True)

    @rule(count=st.integers(1, 5), size=st.integers(0, 400), age=st.integers(0, 100))
    def append(self, count: int, size: int, age: int) -> None:
        """Append a batch: it gets the high watermark as its offset."""
        self.tag += 1
        batch = make_batch(count, value_size=size, tag=self.tag, timestamp=NOW_MS - age)
        offset = self.log.append(batch).base_offset
        assert offset == self.hw, (offset, self.hw)
        self.batches[offset] = as_stored(batch, offset)
        self.ends[offset] = offset + count
        self.hw += count

    @rule(data=st.data())
    def read(self, data: st.DataObject) -> None:
        """Reads return whole model batches from the one holding the offset, within the limit."""
        offset = data.draw(st.integers(self.start - 2, self.hw + 2), label="offset")
        max_bytes = data.draw(st.integers(0, 3000), label="max_bytes")
        if offset < self.start or offset > self.hw:
            try:
                self.log.read(offset, max_bytes)
            except KafkaError as e:
                assert e.code == ErrorCode.OFFSET_OUT_OF_RANGE
            else:
                raise AssertionError(f"read({offset}) outside [{self.start}, {self.hw}] succeeded")
            return
        result = self.log.read(offset, max_bytes)
        if offset == self.hw:
            assert result == b""
            return
        found = split_batches(result)
        assert found, offset
        first = found[0][2]
        assert first.base_offset <= offset < self.ends[first.base_offset]
        assert len(result) <= max(max_bytes, found[0][1])
        expected = first.base_offset
        for begin, end, header in found:
            assert header.base_offset == expected
            assert result[begin:end] == self.batches[expected]
            expected = self.ends[expected]
        # As many whole batches as fit, up to the end of the segment holding the first one.
        segment_end = min([s.base_offset for s in self.log.segments() if s.base_offset > first.base_offset] + [self.hw])
        if expected < segment_end:
            assert len(result) + len(self.batches[expected]) > max_bytes, (offset, max_bytes, len(result))

    @rule(batches=st.integers(1, 12))
    def append_many(self, batches: int) -> None:
        """Append several small batches."""
        for _ in range(batches):
            self.append(count=2, size=50, age=0)

    @rule()
    def roll(self) -> None:
        """Seal the active segment."""
        self.log.roll()

    @rule()
    def reopen(self) -> None:
        """Clean restart."""
        d = self.store.stopService()
        self.threads.run_all()
        assert d.called
        self.store = self._open()

    @rule()
    def crash(self) -> None:
        """Unclean restart with intact files."""
        self._crash()
        self.store = self._open()

    @rule(limit=st.integers(0, 4000))
    def retention_bytes(self, limit: int) -> None:
        """Apply a size limit once; only whole segments from the head go."""
        topic = self.store.vhost("/").topic("t")
        assert topic is not None
        topic.set_configs({"retention.bytes": str(limit)})
        topic.set_configs({"retention.bytes": None})
        self._moved_start(self.log.log_start_offset)

    @rule(data=st.data())
    def delete_records(self, data: st.DataObject) -> None:
        """Move the log start to any offset up to the high watermark."""
        before = data.draw(st.integers(self.start, self.hw), label="before")
        assert self.log.delete_records(before) == before
        assert self.start <= before
        self.start = before
        self._forget_below_start()

    def _moved_start(self, start: int) -> None:
        assert start >= self.start
        if start != self.start:
            assert start in self.batches or start == self.hw, start
            self.start = start
        self._forget_below_start()

    def _forget_below_start(self) -> None:
        for base in [b for b, end in self.ends.items() if end <= self.start]:
            del self.batches[base]
            del self.ends[base]

    @invariant()
    def offsets(self) -> None:
        """The high watermark and log start offset match the model."""
        assert self.log.high_watermark == self.hw, (self.log.high_watermark, self.hw)
        assert self.log.log_start_offset == self.start, (self.log.log_start_offset, self.start)


class StorePropertyTests(SynchronousTestCase):
    """Random operation sequences keep the store equal to the model."""

    def test_against_model(self) -> None:
        """Append/read/roll/reopen/crash/retention/delete-records sequences never diverge from the model."""
        run_state_machine_as_test(
            StoreModel,
            settings=settings(
                max_examples=40,
                stateful_step_count=40,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow],
                database=None,
            ),
        )
