# -*- test-case-name: tests.store.test_slices -*-
"""Tests for L{twisted_kafka.store.slices}: the store's one time-slice scheduler."""

from __future__ import annotations

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.store.slices import SlicedTask, run_for


class SlicedTaskTests(SynchronousTestCase):
    """L{SlicedTask} runs one step per reactor turn until the step says it is done."""

    def setUp(self) -> None:
        """A clock, a step that has C{self.left} units of work, a done counter."""
        self.clock = Clock()
        self.left = 3
        self.done = 0

    def step(self) -> bool:
        """Do one unit; say whether work is left."""
        self.left -= 1
        return self.left > 0

    def on_done(self) -> None:
        """Count completions."""
        self.done += 1

    def turn(self) -> None:
        """Run the delayed calls due now, but not those they schedule (one reactor turn).

        L{Clock.advance} would also run calls scheduled while it runs.
        """
        due = [c for c in self.clock.getDelayedCalls() if c.getTime() <= self.clock.seconds()]
        for call in due:
            self.clock.calls.remove(call)
            call.called = 1
            call.func(*call.args, **call.kw)

    def test_one_step_per_turn(self) -> None:
        """Each step runs in its own reactor turn, then C{on_done} once."""
        task = SlicedTask(self.clock, self.step, self.on_done)
        task.start()
        self.assertEqual((self.left, task.slices), (3, 0))
        self.turn()
        self.assertEqual((self.left, task.slices, self.done), (2, 1, 0))
        self.assertTrue(task.pending)
        self.turn()
        self.turn()
        self.assertEqual((self.left, task.slices, self.done), (0, 3, 1))
        self.assertFalse(task.pending)
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_start_delay_and_no_double_schedule(self) -> None:
        """C{start} honours its delay and does nothing while a slice is scheduled."""
        task = SlicedTask(self.clock, self.step)
        task.start(5)
        task.start(0)
        self.assertEqual(len(self.clock.getDelayedCalls()), 1)
        self.clock.advance(4.9)
        self.turn()
        self.assertEqual(task.slices, 0)
        self.clock.advance(0.1)
        self.assertEqual(task.slices, 3)

    def test_run_now_replaces_scheduled(self) -> None:
        """C{run_now} runs a slice at once instead of the scheduled one."""
        task = SlicedTask(self.clock, self.step)
        task.start(10)
        task.run_now()
        self.assertEqual(task.slices, 1)
        calls = self.clock.getDelayedCalls()
        self.assertEqual([c.getTime() for c in calls], [0])

    def test_stop_cancels(self) -> None:
        """C{stop} cancels the next slice and C{on_done} is never called."""
        task = SlicedTask(self.clock, self.step, self.on_done)
        task.start()
        self.turn()
        task.stop()
        self.assertFalse(task.pending)
        self.clock.advance(1)
        self.assertEqual((task.slices, self.done), (1, 0))

    def test_stop_during_step(self) -> None:
        """A step that stops its own task schedules nothing more."""
        task: SlicedTask

        def step() -> bool:
            task.stop()
            return True

        task = SlicedTask(self.clock, step, self.on_done)
        task.run_now()
        self.assertEqual(self.clock.getDelayedCalls(), [])
        self.assertEqual(self.done, 0)


class RunForTests(SynchronousTestCase):
    """L{run_for} advances work until its time budget is spent."""

    def test_budget(self) -> None:
        """Work stops once the timer passes the deadline; at least one unit runs."""
        now = [0.0]
        ran = []

        def work():  # type: ignore[no-untyped-def]
            for i in range(10):
                ran.append(i)
                now[0] += 1.0
                yield i

        self.assertTrue(run_for(work(), 2.5, lambda: now[0]))
        self.assertEqual(ran, [0, 1, 2])
        ran.clear()
        self.assertTrue(run_for(work(), 0, lambda: now[0]))
        self.assertEqual(ran, [0])

    def test_exhausted(self) -> None:
        """Work that ends within the budget returns C{False}."""
        self.assertFalse(run_for(iter(range(3)), 60, lambda: 0.0))
