# -*- test-case-name: tests.store.test_service -*-
"""What every part of the store shares: config, clock, group commit, worker threads."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from typing import Protocol

from twisted.logger import Logger

from twisted_kafka.store.config import StoreConfig
from twisted_kafka.store.descriptors import DescriptorBudget
from twisted_kafka.store.group_commit import GroupCommit, ThreadPool
from twisted_kafka.store.open_files import MAX_OPEN_SEALED_FILES, SealedFiles


class DelayedCall(Protocol):
    """What C{callLater} returns (L{twisted.internet.interfaces.IDelayedCall})."""

    def active(self) -> bool:
        """Whether the call is still pending."""

    def cancel(self) -> None:
        """Unschedule the call."""


class ReactorClock(Protocol):
    """The part of L{twisted.internet.interfaces.IReactorTime} the store uses."""

    def seconds(self) -> float:
        """The current time in seconds."""

    def callLater(self, delay: float, callable: Callable[..., Any], *args: Any, **kw: Any) -> DelayedCall:
        """Call C{callable(*args, **kw)} after C{delay} seconds."""


@dataclass
class StoreRuntime:
    """Shared services handed down from L{StreamStore} to vhosts, topics and partitions.

    @ivar config: the store defaults.
    @ivar clock: the reactor's clock (retention, segment age).
    @ivar commit: the group-commit fsync batcher.
    @ivar threadpool: worker threads for slow file removal (C{None}: do it inline).
    @ivar max_open_sealed_files: how many C{.log} files of sealed segments
        (across all partitions) stay open; the least recently used are closed past this.
    @ivar open_files: the limit on open files of sealed segments.
    @ivar descriptors: the open-file budget new partitions must fit
        (C{None}: not checked).
    @ivar count_partitions: how many partitions are open, store-wide.
    """

    config: StoreConfig
    clock: ReactorClock
    commit: GroupCommit
    threadpool: ThreadPool | None
    log: Logger
    max_open_sealed_files: int = MAX_OPEN_SEALED_FILES
    descriptors: DescriptorBudget | None = None
    count_partitions: Callable[[], int] = lambda: 0
    open_files: SealedFiles = field(init=False)

    def __post_init__(self) -> None:
        commit = self.commit
        self.open_files = SealedFiles(
            self.max_open_sealed_files, commit.close_fd, lambda segment: commit.enabled and segment in commit.dirty
        )

    def admit_partitions(self, more: int) -> None:
        """Make room in the open-file budget for C{more} new partitions, or refuse them.

        @raise KafkaError: C{POLICY_VIOLATION} (see L{DescriptorBudget.admit}).
        """
        if self.descriptors is not None:
            self.descriptors.admit(self.count_partitions(), more)

    @property
    def durable(self) -> bool:
        """Whether metadata writes are fsynced."""
        return self.config.fsync

    def now_ms(self) -> int:
        """The clock's time in milliseconds."""
        return int(self.clock.seconds() * 1000)

    def in_background(self, func: Callable[..., Any], *args: Any) -> None:
        """Run slow, fire-and-forget file work (large unlinks, rmtree) off the reactor thread."""
        if self.threadpool is None:
            func(*args)
            return

        def on_result(success: bool, result: object) -> None:
            if not success:
                self.log.warn("background file removal failed: {result}", result=result)

        self.threadpool.callInThreadWithCallback(on_result, func, *args)
