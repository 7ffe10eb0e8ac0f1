# -*- test-case-name: tests.store.test_retention -*-
"""The retention sweep, run in time slices so the reactor never stalls.

Every C{retention_check_interval_ms} a sweep visits every partition of every
vhost (rolling segments older than C{segment.ms}, deleting sealed segments
past C{retention.ms} / C{retention.bytes} or below the log start offset).
It works through the partitions for at most L{SLICE_SECONDS} at a time and
then yields to the reactor (L{twisted_kafka.store.slices}), continuing where
it stopped.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from twisted.logger import Logger

from twisted_kafka.store.partition import MAX_DELETIONS_PER_STEP
from twisted_kafka.store.runtime import ReactorClock
from twisted_kafka.store.slices import SlicedTask, run_for

if TYPE_CHECKING:
    from twisted_kafka.store.partition import PartitionLog

#: Longest stretch of sweep work between two returns to the reactor.
SLICE_SECONDS = 0.005


class RetentionSweep:
    """Runs retention over all partitions, periodically and in slices (a L{SlicedTask}).

    @param partitions: returns the partitions to visit (called at the start of each sweep).
    @ivar sweeps: how many sweeps have begun.
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
        self._work: Iterator[None] | None = None
        self._task = SlicedTask(clock, self._slice, on_done=self._schedule_next)
        self.sweeps = 0

    @property
    def slices(self) -> int:
        """How many slices have run, over all sweeps."""
        return self._task.slices

    def start(self) -> None:
        """Schedule the first sweep one interval from now."""
        self._schedule_next()

    def stop(self) -> None:
        """Cancel the running or scheduled sweep."""
        self._task.stop()
        self._work = None

    def run_now(self) -> None:
        """Start a sweep now (if none is running)."""
        if self._work is None:
            self._task.run_now()

    def _schedule_next(self) -> None:
        """The sweep is over: begin the next one an interval from now."""
        self._task.start(self._interval)

    def _visit(self, partitions: list[PartitionLog]) -> Iterator[None]:
        for partition in partitions:
            try:
                while partition.apply_retention(int(self._clock.seconds() * 1000)) >= MAX_DELETIONS_PER_STEP:
                    yield None
            except Exception:
                self.log.failure("Retention failed for {partition}", partition=partition)
            yield None

    def _slice(self) -> bool:
        """Begin a sweep if none is running, then do its work until the slice is used up."""
        if self._work is None:
            self.sweeps += 1
            self._work = self._visit(self._partitions())
        if run_for(self._work, SLICE_SECONDS, self._timer):
            return True
        self._work = None
        return False
