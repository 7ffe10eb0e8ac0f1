# -*- test-case-name: tests.store.test_slices -*-
"""The store's one time-slice scheduler: long jobs run a slice per reactor turn.

Work that could take long (a retention sweep over every partition, deleting
many segments of one partition, rebuilding a 1 GiB segment's indexes, and
later the log cleaner) must never stall the reactor. Such a job is a
L{SlicedTask}: a step function that does a bounded amount of work and says
whether work is left; the task runs one step per slice and, while work is
left, schedules the next slice with C{callLater(0, ...)} on the injected
clock, so requests are served in between. L{run_for} is the usual bound: it
advances an iterator of work units until a time budget is used up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from twisted_kafka.store.runtime import DelayedCall, ReactorClock


class SlicedTask:
    """One job, run a slice at a time on the reactor.

    @param clock: the reactor's clock (a L{twisted.internet.task.Clock} in tests).
    @param step: does one slice of work; returns C{True} while work is left.
    @param on_done: called once the step has returned C{False} (not after L{stop}).
    @ivar slices: how many slices have run.
    """

    def __init__(
        self, clock: ReactorClock, step: Callable[[], bool], on_done: Callable[[], None] | None = None
    ) -> None:
        self._clock = clock
        self._step = step
        self._on_done = on_done
        self._call: DelayedCall | None = None
        #: bumped by L{stop}: a slice running when it changes schedules nothing more
        self._generation = 0
        self.slices = 0

    @property
    def pending(self) -> bool:
        """Whether a slice is scheduled."""
        return self._call is not None and self._call.active()

    def start(self, delay: float = 0) -> None:
        """Run the first slice in a later reactor turn, C{delay} seconds from now (unless one is scheduled)."""
        if not self.pending:
            self._call = self._clock.callLater(delay, self._run)

    def run_now(self) -> None:
        """Run a slice now (instead of any scheduled one); later slices follow in later turns."""
        self._cancel()
        self._run()

    def stop(self) -> None:
        """Cancel the next slice; a slice running now schedules no other."""
        self._generation += 1
        self._cancel()

    def _cancel(self) -> None:
        call, self._call = self._call, None
        if call is not None and call.active():
            call.cancel()

    def _run(self) -> None:
        """One slice: the step, then the next slice or the end."""
        self._call = None
        generation = self._generation
        self.slices += 1
        more = self._step()
        if generation != self._generation:
            return
        if more:
            self._call = self._clock.callLater(0, self._run)
        elif self._on_done is not None:
            self._on_done()


def run_for(work: Iterator[object], seconds: float, timer: Callable[[], float]) -> bool:
    """Advance C{work} until it is exhausted or C{seconds} of C{timer} have passed.

    The time is checked after each unit of work, so at least one runs.

    @return: C{True} if work may be left (the budget ran out), C{False} if it is exhausted.
    """
    deadline = timer() + seconds
    for _ in work:
        if timer() >= deadline:
            return True
    return False
