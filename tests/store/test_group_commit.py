# -*- test-case-name: tests.store.test_group_commit -*-
"""Tests for L{twisted_kafka.store.group_commit.GroupCommit} and L{StreamStore.sync}."""

from __future__ import annotations

import os

from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.errors import ErrorCode, KafkaError
from twisted_kafka.store import group_commit
from twisted_kafka.store.group_commit import GroupCommit

from .helpers import FakeThreadPool, StoreTestMixin, ThreadlessClock, make_batch


class _File:
    """A dirty 'segment': an open temporary file."""

    def __init__(self, path: str) -> None:
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT)

    def close(self) -> None:
        """Close the file."""
        os.close(self.fd)


class GroupCommitTests(SynchronousTestCase):
    """Rounds, waiters and fd lifetimes, with a fake thread pool."""

    def setUp(self) -> None:
        """Set up what each test here uses."""
        self.threads = FakeThreadPool()
        self.commit = GroupCommit(ThreadlessClock(), self.threads, enabled=True)
        self.dir = self.mktemp()
        os.makedirs(self.dir)
        self.fsynced: list[list[int]] = []
        real = group_commit.fsync_all

        def recording(fds: list[int], paths: list[str]) -> None:
            self.fsynced.append(list(fds))
            real(fds, paths)

        self.patch(group_commit, "fsync_all", recording)

    def _file(self, name: str) -> _File:
        f = _File(os.path.join(self.dir, name))
        self.addCleanup(f.close)
        return f

    def test_nothing_dirty(self) -> None:
        """With nothing written, sync fires at once and no round runs."""
        self.successResultOf(self.commit.sync())
        self.assertEqual(self.threads.calls, [])

    def test_waits_for_round(self) -> None:
        """sync fires only after the fsync round covering the dirty file ran."""
        a = self._file("a")
        self.commit.dirty.add(a)
        d = self.commit.sync()
        self.assertNoResult(d)
        self.assertEqual(len(self.threads.calls), 1)
        self.threads.run_one()
        self.successResultOf(d)
        self.assertEqual(self.fsynced, [[a.fd]])

    def test_one_round_for_many_callers(self) -> None:
        """Callers arriving before the round starts share it (one fsync per file)."""
        a, b = self._file("a"), self._file("b")
        self.commit.dirty.add(a)
        d1 = self.commit.sync()
        d2 = self.commit.sync()  # round already running, nothing new: same round
        self.commit.dirty.add(b)
        d3 = self.commit.sync()  # new data: needs the next round
        self.assertEqual(len(self.threads.calls), 1)
        self.threads.run_one()
        self.successResultOf(d1)
        self.successResultOf(d2)
        self.assertNoResult(d3)
        self.assertEqual(len(self.threads.calls), 1)  # next round started at once
        self.threads.run_one()
        self.successResultOf(d3)
        self.assertEqual(self.fsynced, [[a.fd], [b.fd]])

    def test_next_round_batches_waiters(self) -> None:
        """Everyone who arrived during a round is covered by one following round."""
        a = self._file("a")
        self.commit.dirty.add(a)
        self.commit.sync()
        waiting = []
        for _ in range(5):
            self.commit.dirty.add(a)
            waiting.append(self.commit.sync())
        self.threads.run_one()
        self.threads.run_one()
        for d in waiting:
            self.successResultOf(d)
        self.assertEqual(len(self.fsynced), 2)

    def test_callbacks_that_sync_again(self) -> None:
        """Waiters whose callbacks append and sync again (acks=all producers) are never lost."""
        a = self._file("a")
        fired: list[int] = []

        def writer(n: int, left: int) -> None:
            if not left:
                return
            self.commit.dirty.add(a)

            def synced(_: None) -> None:
                fired.append(n)
                writer(n, left - 1)

            self.commit.sync().addCallback(synced)

        for n in range(4):
            writer(n, 3)
        for _ in range(20):
            if not self.threads.calls:
                break
            self.threads.run_one()
        self.assertEqual(sorted(fired), sorted(list(range(4)) * 3))
        self.assertFalse(self.commit.running)
        self.assertEqual(self.commit.rounds, 4)  # {0}, then every round covers all four writers

    def test_failure(self) -> None:
        """A failed fsync errbacks the waiters with KAFKA_STORAGE_ERROR (and logs it)."""
        a = self._file("a")
        self.commit.dirty.add(a)
        d = self.commit.sync()
        on_result, func, _ = self.threads.calls[0]
        self.threads.calls[0] = (on_result, func, ([999_999], []))  # EBADF
        self.threads.run_one()
        failure = self.failureResultOf(d, KafkaError)
        self.assertEqual(failure.value.code, ErrorCode.KAFKA_STORAGE_ERROR)
        self.assertEqual(len(self.flushLoggedErrors(OSError)), 1)

    def test_close_deferred_during_round(self) -> None:
        """An fd closed while a round may use it is closed when the round ends."""
        a = self._file("a")
        fd = os.dup(a.fd)
        self.commit.dirty.add(a)
        self.commit.sync()
        self.commit.close_fd(fd)
        os.fstat(fd)  # still open
        self.threads.run_one()
        self.assertRaises(OSError, os.fstat, fd)

    def test_after_round_actions(self) -> None:
        """Actions registered before a round run once it completed."""
        ran: list[str] = []
        self.commit.dirty_paths.add(self.dir)
        self.commit.after_round(lambda: ran.append("x"))
        self.commit.request_round()
        self.assertEqual(ran, [])
        self.threads.run_one()
        self.assertEqual(ran, ["x"])

    def test_wait_idle(self) -> None:
        """wait_idle fires when the running round has finished."""
        self.commit.dirty.add(self._file("a"))
        self.commit.sync()
        d = self.commit.wait_idle()
        self.assertNoResult(d)
        self.threads.run_one()
        self.successResultOf(d)

    def test_disabled(self) -> None:
        """With fsync off, sync fires at once and actions run immediately."""
        commit = GroupCommit(ThreadlessClock(), None, enabled=False)
        commit.dirty.add(self._file("a"))
        self.successResultOf(commit.sync())
        ran: list[int] = []
        commit.after_round(lambda: ran.append(1))
        self.assertEqual(ran, [1])

    def test_disabled_remembers_nothing(self) -> None:
        """With fsync off, written segments and paths are not held on to."""
        commit = GroupCommit(ThreadlessClock(), None, enabled=False)
        commit.dirty.add(self._file("a"))
        commit.dirty_paths.add("/x")
        commit.dirty_paths.update(("/y", "/z"))
        self.assertEqual((len(commit.dirty), len(commit.dirty_paths)), (0, 0))


class StoreSyncTests(StoreTestMixin, SynchronousTestCase):
    """L{StreamStore.sync} over real appends."""

    def test_sync_after_append(self) -> None:
        """An append is covered by the next round; without appends sync is immediate."""
        store = self.open_store(fsync=True)
        log = store.vhost("/").create_topic("t", 1).partitions[0]
        created = store.sync()  # the new directories
        self.threads.run_all()
        self.successResultOf(created)
        self.successResultOf(store.sync())
        log.append(make_batch())
        d = store.sync()
        self.assertNoResult(d)
        self.threads.run_all()
        self.successResultOf(d)

    def test_fsync_off(self) -> None:
        """With fsync off, sync has already fired."""
        store = self.open_store(fsync=False)
        store.vhost("/").create_topic("t", 1).partitions[0].append(make_batch())
        self.successResultOf(store.sync())
        self.assertEqual(self.threads.calls, [])

    def test_stop_waits_for_round(self) -> None:
        """stopService waits for a running round before the final flush."""
        store = self.open_store(fsync=True)
        store.vhost("/").create_topic("t", 1).partitions[0].append(make_batch())
        store.sync()
        d = store.stopService()
        self.assertNoResult(d)
        self.threads.run_all()
        self.successResultOf(d)
        self._stores.remove(store)


class FsyncThreadTests(SynchronousTestCase):
    """L{FsyncThread} runs calls in order in its own thread and reports their results."""

    def test_runs_in_order_and_stops(self) -> None:
        """Results and failures are reported from the worker thread; stop joins it."""
        import threading

        from twisted_kafka.store.fsync_thread import FsyncThread

        worker = FsyncThread()
        results: list[tuple[bool, object, str]] = []
        done = threading.Event()

        def report(success: bool, result: object) -> None:
            results.append((success, result if success else type(result.value), threading.current_thread().name))  # type: ignore[attr-defined]
            if len(results) == 3:
                done.set()

        worker.callInThreadWithCallback(report, lambda: 1)
        worker.callInThreadWithCallback(report, lambda: 1 // 0)
        worker.callInThreadWithCallback(report, lambda x: x * 2, 21)
        self.assertTrue(done.wait(30))
        worker.stop()
        self.assertEqual(
            results,
            [(True, 1, "twisted-kafka-fsync"), (False, ZeroDivisionError, "twisted-kafka-fsync"), (True, 42, "twisted-kafka-fsync")],
        )
        worker.stop()  # idempotent
