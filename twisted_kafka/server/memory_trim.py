# -*- test-case-name: tests.server.test_memory_trim -*-
"""Give freed request buffers back to the operating system.

A large request arrives as many socket reads, each its own heap block; once
the request is processed (or its connection closed) the blocks are free but
glibc keeps them in the heap, so the process's resident size stays at its
peak.  L{MemoryTrimmer} calls glibc's C{malloc_trim(0)}, which returns free
heap pages to the kernel, after at least a threshold of request bytes was
released, at most once per interval, on the reactor's next turn (when the
buffers are gone).  Without glibc it does nothing.
"""

from __future__ import annotations

import ctypes
from typing import Any, Callable

from twisted.internet.interfaces import IReactorTime

#: Released request bytes that make a trim worth its cost.
TRIM_THRESHOLD = 1 << 20
#: The least time between two trims, in seconds.
TRIM_INTERVAL = 1.0


def libc_malloc_trim() -> Callable[[], object] | None:
    """Return a function calling glibc's C{malloc_trim(0)}, or C{None} without one."""
    try:
        function: Any = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_size_t]
    function.restype = ctypes.c_int
    return lambda: function(0)


class MemoryTrimmer:
    """Trims the heap after large releases, throttled.

    @ivar trims: how many trims ran.
    """

    def __init__(self, reactor: IReactorTime, trim: Callable[[], object] | None,
                 threshold: int = TRIM_THRESHOLD, interval: float = TRIM_INTERVAL) -> None:
        """
        @param trim: the trimming function (L{libc_malloc_trim}'s); C{None}
            makes this trimmer do nothing.
        """
        self._reactor = reactor
        self._trim = trim
        self._threshold = threshold
        self._interval = interval
        self._released = 0
        self._last = float("-inf")
        self._call: Any = None
        self.trims = 0

    def released(self, nbytes: int) -> None:
        """C{nbytes} of request buffers were let go: trim soon if enough were."""
        if self._trim is None:
            return
        self._released += nbytes
        if self._released < self._threshold or self._call is not None:
            return
        delay = max(0.0, self._last + self._interval - self._reactor.seconds())
        self._call = self._reactor.callLater(delay, self._run)

    def stop(self) -> None:
        """Cancel a pending trim."""
        if self._call is not None and self._call.active():
            self._call.cancel()
        self._call = None

    def _run(self) -> None:
        self._call = None
        self._released = 0
        self._last = self._reactor.seconds()
        self.trims += 1
        assert self._trim is not None
        self._trim()
