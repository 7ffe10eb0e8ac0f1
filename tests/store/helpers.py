# -*- test-case-name: tests.store -*-
"""Helpers for the store tests: batches, fake threads, stores on temporary dirs."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from typing import Any

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.records.batch import set_partition_leader_epoch
from twisted_kafka.store.batch_header import PARTITION_LEADER_EPOCH
from twisted_kafka.records.batch import BASE_OFFSET_OFFSET
from twisted_kafka.records.record import build_batch
from twisted_kafka.store.batch_header import BASE_OFFSET
from twisted_kafka.store.config import StoreConfig
from twisted_kafka.store.fsync_thread import call_reporting
from twisted_kafka.store.open_files import MAX_OPEN_SEALED_FILES
from twisted_kafka.store.partition import PartitionLog
from twisted_kafka.store.service import StreamStore

#: A fixed "now" for the fake clock: 2023-11-14, in seconds.
NOW = 1_700_000_000.0
NOW_MS = int(NOW * 1000)


def make_batch(
    count: int = 1,
    *,
    timestamp: int = NOW_MS,
    value_size: int = 100,
    tag: int = 0,
    producer_id: int = -1,
    producer_epoch: int = -1,
    base_sequence: int = -1,
) -> bytes:
    """A valid uncompressed batch of C{count} records (baseOffset 0).

    @param tag: makes record values differ between batches.
    """
    records: list[tuple[bytes, bytes, list[tuple[str, bytes]], int]] = [
        (b"k%d" % i, (b"%d:%d:" % (tag, i)).ljust(value_size, b"v"), [], timestamp + i)
        for i in range(count)
    ]
    return build_batch(
        records, producer_id=producer_id, producer_epoch=producer_epoch, base_sequence=base_sequence
    )


def as_stored(batch: bytes, offset: int) -> bytes:
    """C{batch} as the store keeps it: baseOffset C{offset}, leader epoch stamped."""
    stored = bytearray(batch)
    BASE_OFFSET.pack_into(stored, BASE_OFFSET_OFFSET, offset)
    set_partition_leader_epoch(stored, 0, PARTITION_LEADER_EPOCH)
    return bytes(stored)


class ThreadlessClock(Clock):
    """A Clock whose C{callFromThread} runs the call at once.

    @param start: the clock's first reading, in seconds (L{NOW} unless given).
    """

    def __init__(self, start: float = NOW) -> None:
        super().__init__()
        self.advance(start)

    def callFromThread(self, f: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Run C{f} now."""
        f(*args, **kwargs)

    def turn(self) -> int:
        """Run the calls due now but not the ones they schedule, as one reactor iteration does.

        (L{Clock.advance} also runs calls scheduled with C{callLater(0, ...)}
        while it runs.) Returns how many calls ran.
        """
        now = self.seconds()
        due = [call for call in self.calls if call.getTime() <= now]
        for call in due:
            self.calls.remove(call)
            call.called = 1
            call.func(*call.args, **call.kw)
        return len(due)


class FakeThreadPool:
    """A thread pool that queues work until the test runs it (in the test's thread)."""

    def __init__(self) -> None:
        self.calls: list[tuple[Callable[[bool, Any], object], Callable[..., Any], tuple[Any, ...]]] = []

    def callInThreadWithCallback(self, onResult: Callable[[bool, Any], object], func: Callable[..., Any], *args: Any) -> None:
        """Queue C{func(*args)}."""
        self.calls.append((onResult, func, args))

    def run_one(self) -> None:
        """Run the oldest queued call and report its result."""
        call_reporting(*self.calls.pop(0))

    def run_all(self) -> None:
        """Run queued calls (including ones queued meanwhile) until none is left."""
        while self.calls:
            self.run_one()


class FakeFileLimit:
    """An open-file limit in memory.

    @ivar sets: every soft limit set, in order.
    @ivar refuse: refuse every change (as a system that forbids it).
    """

    def __init__(self, soft: int, hard: int, refuse: bool = False) -> None:
        self.soft = soft
        self.hard = hard
        self.refuse = refuse
        self.sets: list[int] = []

    def get(self) -> tuple[int, int]:
        """Return the soft and hard limits."""
        return self.soft, self.hard

    def set_soft(self, soft: int) -> None:
        """Set the soft limit, as setrlimit would."""
        if self.refuse or soft > self.hard:
            raise ValueError("not allowed")
        self.sets.append(soft)
        self.soft = soft


class StoreTestMixin:
    """Open stores on a per-test data directory with a fake clock and threads."""

    def setUp(self) -> None:
        """Set up what each test here uses."""
        assert isinstance(self, SynchronousTestCase)
        super().setUp()  # type: ignore[misc]
        self.data_dir = os.path.abspath(self.mktemp())
        self.clock = ThreadlessClock()
        self.threads = FakeThreadPool()
        self._stores: list[StreamStore] = []
        self.addCleanup(self._crash_all)

    def open_store(self, **config: Any) -> StreamStore:
        """Start a store on L{data_dir}; C{config} overrides L{StoreConfig} (fsync off by default).

        C{max_open_sealed_files} and C{file_limit} go to L{StreamStore} itself.
        """
        limit = config.pop("max_open_sealed_files", MAX_OPEN_SEALED_FILES)
        file_limit = config.pop("file_limit", None)
        settings = dataclasses.replace(StoreConfig(fsync=False), **config)
        store = StreamStore(
            self.data_dir, settings, reactor=self.clock, threadpool=self.threads, max_open_sealed_files=limit,
            file_limit=file_limit,
        )
        store.startService()
        self._stores.append(store)
        return store

    def stop(self, store: StreamStore) -> None:
        """Stop C{store} cleanly (running any fsync work)."""
        d = store.stopService()
        self.threads.run_all()
        self.assertIsNone(self.successResultOf(d))  # type: ignore[attr-defined]
        self._stores.remove(store)

    def crash(self, store: StreamStore) -> None:
        """Abandon C{store} as a crash would: close its files, write nothing."""
        store._sweep.stop() if store._sweep else None
        store.cleaner.stop() if store.cleaner else None
        for vhost in store.vhosts():
            vhost.release()
        self._stores.remove(store)

    def _crash_all(self) -> None:
        for store in list(self._stores):
            self.crash(store)

    def reopen(self, store: StreamStore, clean: bool = True, **config: Any) -> StreamStore:
        """Stop (or crash) C{store} and open the same directory again."""
        if clean:
            self.stop(store)
        else:
            self.crash(store)
        return self.open_store(**config)

    def partition(self, store: StreamStore, topic: str = "t", index: int = 0) -> PartitionLog:
        """Partition C{index} of C{topic} in the default vhost."""
        found = store.vhost("/").topic(topic)
        assert found is not None
        return found.partitions[index]

    def fill(self, partition: PartitionLog, batches: int, count: int = 3, **kwargs: Any) -> dict[int, bytes]:
        """Append C{batches} batches; return {base offset: stored bytes}."""
        stored = {}
        for i in range(batches):
            batch = make_batch(count, tag=i, timestamp=NOW_MS + i * 10, **kwargs)
            offset = partition.append(batch).base_offset
            stored[offset] = as_stored(batch, offset)
        return stored

    def read_all(self, partition: PartitionLog) -> dict[int, bytes]:
        """Every stored batch from the log start to the high watermark, by base offset."""
        from twisted_kafka.records.batch import split_batches

        found: dict[int, bytes] = {}
        offset = partition.log_start_offset
        while offset < partition.high_watermark:
            data = partition.read(offset, 1 << 20)
            assert data, offset
            for start, end, header in split_batches(data):
                found[header.base_offset] = data[start:end]
                offset = header.base_offset + header.last_offset_delta + 1
        return found
