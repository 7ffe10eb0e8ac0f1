# -*- test-case-name: tests.store.test_group_commit -*-
"""Group commit: one fsync round covers every append made before it started.

Appends only write to the page cache and add their segment to L{GroupCommit.dirty}.
A caller that needs durability calls L{GroupCommit.sync} and gets a Deferred
that fires once an fsync round that started after its appends has finished.
A round takes everything dirty at that moment (segment files, index files,
directories whose entries changed) and fsyncs it in a worker thread, never
on the reactor thread; callers arriving while a round runs wait for the next
one, which starts as soon as the running one ends. File descriptors that are
closed while a round may be using them are closed when it ends.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any, Protocol

from twisted.internet.defer import Deferred, succeed
from twisted.logger import Logger
from twisted.python.failure import Failure

from twisted_kafka.errors import ErrorCode, KafkaError
from twisted_kafka.store.stats import StoreStats


class ThreadPool(Protocol):
    """The part of L{twisted.python.threadpool.ThreadPool} group commit uses."""

    def callInThreadWithCallback(
        self, onResult: Callable[[bool, Any], object], func: Callable[..., Any], *args: Any
    ) -> None:
        """Run C{func(*args)} in a thread, then C{onResult(success, result)} in that thread."""


class ThreadingReactor(Protocol):
    """The part of the reactor group commit uses."""

    def callFromThread(self, f: Callable[..., Any], *args: Any) -> None:
        """Run C{f(*args)} in the reactor thread."""


class HasFd(Protocol):
    """A dirty segment: anything with an open file descriptor."""

    @property
    def fd(self) -> int:
        """The descriptor to fsync."""


def fsync_all(fds: list[int], paths: list[str]) -> None:
    """fdatasync every descriptor, then fsync every path (files or directories) that still exists."""
    for fd in fds:
        os.fdatasync(fd)
    for path in paths:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            continue
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class _NothingToSync(set):  # type: ignore[type-arg]
    """The dirty set of a store running with C{fsync = false}: it stays empty.

    Nothing is ever fsynced then, so remembering what was written would only
    hold on to every segment (and path) written since start-up.
    """

    def add(self, item: Any) -> None:
        """Forget C{item}."""

    def update(self, *items: Any) -> None:
        """Forget C{items}."""


class GroupCommit:
    """Batches fsyncs of everything appended into rounds run off the reactor thread.

    @ivar dirty: segments written since the last round started.
    @ivar dirty_paths: files and directories to fsync in the next round.
    @ivar enabled: C{False} when the store runs with C{fsync = false}: L{sync}
        fires at once and nothing is fsynced.
    """

    log = Logger()

    def __init__(self, reactor: ThreadingReactor, threadpool: ThreadPool | None, enabled: bool,
                 stats: StoreStats | None = None) -> None:
        """
        @param stats: where each round's duration, file count and failure
            are counted (a fresh L{StoreStats} when not given).
        """
        self._reactor = reactor
        self.stats = stats if stats is not None else StoreStats()
        self._threadpool = threadpool
        self.enabled = enabled
        self.dirty: set[HasFd] = set() if enabled else _NothingToSync()
        self.dirty_paths: set[str] = set() if enabled else _NothingToSync()
        self._actions: list[Callable[[], None]] = []
        self._running = False
        #: set while a finished round's waiters are called back: rounds they
        #: ask for start once all of them had their turn, so one round covers
        #: every writer that was waiting
        self._firing = False
        self._waiters: list[Deferred[None]] = []
        self._next_waiters: list[Deferred[None]] = []
        self._want_round = False
        self._pending_closes: list[int] = []
        self._idle_waiters: list[Deferred[None]] = []
        self.rounds = 0

    @property
    def running(self) -> bool:
        """Whether a round is in progress."""
        return self._running

    def _has_work(self) -> bool:
        return bool(self.dirty or self.dirty_paths or self._actions)

    def sync(self) -> Deferred[None]:
        """A Deferred that fires once every append made so far is on disk.

        Errbacks with C{KafkaError(KAFKA_STORAGE_ERROR)} if the fsync fails.
        """
        if not self.enabled:
            return succeed(None)
        if self._has_work():
            d: Deferred[None] = Deferred()
            self._next_waiters.append(d)
            if not self._running and not self._firing:
                self._start()
            return d
        if self._running:
            d = Deferred()
            self._waiters.append(d)
            return d
        return succeed(None)

    def request_round(self) -> None:
        """Start a round soon even though nobody waits for it (after a segment roll)."""
        if not self.enabled:
            return
        if self._running or self._firing:
            self._want_round = True
        elif self._has_work():
            self._start()

    def after_round(self, action: Callable[[], None]) -> None:
        """Run C{action} on the reactor thread once everything dirty now is on disk.

        With fsync disabled it runs at once.
        """
        if not self.enabled:
            action()
        else:
            self._actions.append(action)

    def close_fd(self, fd: int | None) -> None:
        """Close C{fd} now, or when the running round (which may use it) ends."""
        if fd is None:
            return
        if self._running:
            self._pending_closes.append(fd)
        else:
            os.close(fd)

    def wait_idle(self) -> Deferred[None]:
        """A Deferred that fires when no round is running."""
        if not self._running:
            return succeed(None)
        d: Deferred[None] = Deferred()
        self._idle_waiters.append(d)
        return d

    def flush_now(self) -> None:
        """fsync everything dirty synchronously, on this thread (clean shutdown only)."""
        assert not self._running, "flush_now while a round is running"
        fds = [segment.fd for segment in self.dirty]
        paths = sorted(self.dirty_paths)
        actions = self._actions
        self.dirty.clear()
        self.dirty_paths.clear()
        self._actions = []
        if self.enabled:
            fsync_all(fds, paths)
        for action in actions:
            action()

    def _start(self) -> None:
        """Take everything dirty and fsync it in a worker thread."""
        assert self._threadpool is not None, "fsync enabled but no thread pool"
        fds = [segment.fd for segment in self.dirty]
        paths = sorted(self.dirty_paths)
        actions, waiters = self._actions, self._next_waiters
        self.dirty.clear()
        self.dirty_paths.clear()
        self._actions, self._next_waiters = [], []
        self._waiters = waiters
        self._running = True
        self._want_round = False
        self.rounds += 1
        self.stats.fsync_files.observe(len(fds) + len(paths))
        started = time.perf_counter()

        def on_result(success: bool, result: object) -> None:
            self._reactor.callFromThread(self._finished, success, result, actions, started)

        self._threadpool.callInThreadWithCallback(on_result, fsync_all, fds, paths)

    def _finished(self, success: bool, result: object, actions: list[Callable[[], None]],
                  started: float = 0.0) -> None:
        """Back on the reactor thread: close deferred fds, run actions, fire waiters."""
        if started:
            self.stats.fsync_seconds.observe(time.perf_counter() - started)
        self._running = False
        waiters, self._waiters = self._waiters, []
        closes, self._pending_closes = self._pending_closes, []
        for fd in closes:
            try:
                os.close(fd)
            except OSError:
                pass
        self._firing = True
        try:
            if success:
                for action in actions:
                    try:
                        action()
                    except Exception:
                        self.log.failure("after-fsync action failed")
                for d in waiters:
                    d.callback(None)
            else:
                failure = result if isinstance(result, Failure) else Failure(Exception(repr(result)))
                self.stats.fsync_failures += 1
                self.log.error("fsync round failed: {failure}", failure=failure)
                error = KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, f"fsync failed: {failure.getErrorMessage()}")
                for d in waiters:
                    d.errback(Failure(error))
        finally:
            self._firing = False
        if not self._running and (self._next_waiters or (self._want_round and self._has_work())):
            if self._has_work():
                self._start()
            else:
                next_waiters, self._next_waiters = self._next_waiters, []
                for d in next_waiters:
                    d.callback(None)
        if not self._running:
            idle, self._idle_waiters = self._idle_waiters, []
            for d in idle:
                d.callback(None)
