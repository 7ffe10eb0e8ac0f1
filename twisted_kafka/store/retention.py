# -*- test-case-name: tests.store.test_retention -*-
"""The retention sweep, run in time slices so the reactor never stalls.

Every C{retention_check_interval_ms} a sweep visits every partition of every
vhost (rolling segments older than C{segment.ms}, deleting sealed segments
past C{retention.ms} / C{retention.bytes} or below the log start offset).
It works through the partitions for at most L{SLICE_SECONDS} at a time and
then yields to the reactor with C{callLater(0, ...)}, continuing where it
stopped.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from twisted.logger import Logger

from twisted_kafka.store.partition import MAX_DELETIONS_PER_STEP
from twisted_kafka.store.runtime import DelayedCall, ReactorClock

if TYPE_CHECKING:
    from twisted_kafka.store.partition import PartitionLog

#: Longest stretch of sweep work between two returns to the reactor.
SLICE_SECONDS = 0.005


class RetentionSweep:
    """Runs retention over all partitions, periodically and in slices.

    @param partitions: returns the partitions to visit (called at the start of each sweep).
    """

    log = Logger()

    def __init__(
        self,
        clock: ReactorClock,
        partitions: Callable[[], list[PartitionLog]],
        interval_ms: int,
        timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._clock = clock
        self._partitions = partitions
        self._interval = interval_ms / 1000.0
        self._timer = timer
        self._next: DelayedCall | None = None
        self._work: Iterator[None] | None = None
        self.sweeps = 0
        self.slices = 0

    def start(self) -> None:
        """Schedule the first sweep one interval from now."""
        self._schedule(self._interval, self._begin)

    def stop(self) -> None:
        """Cancel the running or scheduled sweep."""
        if self._next is not None and self._next.active():
            self._next.cancel()
        self._next = None
        self._work = None

    def run_now(self) -> None:
        """Start a sweep now (if none is running)."""
        if self._work is None:
            if self._next is not None and self._next.active():
                self._next.cancel()
            self._begin()

    def _schedule(self, delay: float, f: Callable[[], None]) -> None:
        self._next = self._clock.callLater(delay, f)

    def _begin(self) -> None:
        self.sweeps += 1
        self._work = self._visit(self._partitions())
        self._slice()

    def _visit(self, partitions: list[PartitionLog]) -> Iterator[None]:
        for partition in partitions:
            try:
                while partition.apply_retention(int(self._clock.seconds() * 1000)) >= MAX_DELETIONS_PER_STEP:
                    yield None
            except Exception:
                self.log.failure("Retention failed for {partition}", partition=partition)
            yield None

    def _slice(self) -> None:
        """Do sweep work until the slice is used up, then yield to the reactor."""
        self.slices += 1
        work = self._work
        if work is None:
            return
        deadline = self._timer() + SLICE_SECONDS
        for _ in work:
            if self._timer() >= deadline:
                self._schedule(0, self._slice)
                return
        self._work = None
        self._schedule(self._interval, self._begin)
