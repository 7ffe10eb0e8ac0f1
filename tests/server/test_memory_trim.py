# -*- test-case-name: tests.server.test_memory_trim -*-
"""Tests for L{twisted_kafka.server.memory_trim}."""

from __future__ import annotations

import ctypes

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.server.memory_trim import MemoryTrimmer, libc_malloc_trim


class MemoryTrimmerTests(SynchronousTestCase):
    """Trims run after large releases, on the next turn, at most once per interval."""

    def setUp(self) -> None:
        """A trimmer over a Clock that records its trims."""
        self.clock = Clock()
        self.trims: list[float] = []
        self.trimmer = MemoryTrimmer(self.clock, lambda: self.trims.append(self.clock.seconds()),
                                     threshold=1000, interval=1.0)

    def test_small_releases_add_up(self) -> None:
        """Releases below the threshold trim nothing until they add up to it."""
        self.trimmer.released(600)
        self.clock.advance(0)
        self.assertEqual(self.trims, [])
        self.trimmer.released(400)
        self.assertEqual(self.trims, [])
        self.clock.advance(0)
        self.assertEqual(self.trims, [0.0])

    def test_throttled(self) -> None:
        """A second large release within the interval trims once the interval is over."""
        self.trimmer.released(5000)
        self.clock.advance(0)
        self.clock.advance(0.25)
        self.trimmer.released(5000)
        self.trimmer.released(5000)
        self.clock.advance(0.5)
        self.assertEqual(self.trims, [0.0])
        self.clock.advance(0.25)
        self.assertEqual(self.trims, [0.0, 1.0])
        self.assertEqual(self.trimmer.trims, 2)

    def test_stop(self) -> None:
        """A pending trim is cancelled by stop()."""
        self.trimmer.released(5000)
        self.trimmer.stop()
        self.clock.advance(10)
        self.assertEqual(self.trims, [])

    def test_without_trim_function(self) -> None:
        """Without malloc_trim the trimmer schedules nothing."""
        trimmer = MemoryTrimmer(self.clock, None, threshold=1)
        trimmer.released(10)
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_libc_malloc_trim(self) -> None:
        """On glibc the real malloc_trim is found and callable."""
        try:
            ctypes.CDLL(None).malloc_trim
        except AttributeError:
            raise self.skipTest("no malloc_trim in this C library") from None
        trim = libc_malloc_trim()
        assert trim is not None
        self.assertIn(trim(), (0, 1))
