# -*- test-case-name: tests.server.test_request_budget -*-
"""The broker-wide budget of bytes held in requests read but not yet processed.

Kafka's C{queued.max.request.bytes}: every connection accounts here for the
incomplete frame it is collecting (its full size, reserved as soon as the
size prefix has arrived) and for complete requests it holds back.  While the
budget is spent, a connection that needs more stops reading its socket and
waits; released bytes wake the waiters in the order they started waiting.
A reservation is granted while anything of the budget is left, even if it
then goes over (as Kafka's non-strict memory pool does), so a request larger
than the whole budget still gets through once the others are done; what
the broker holds stays below the budget plus one C{max_request_size} and
one socket read per connection.
"""

from __future__ import annotations

from typing import Callable


class RequestBudget:
    """Counts the bytes the connections hold in requests; grants or refuses more.

    @ivar limit: the budget in bytes; 0 or less means no limit.
    @ivar used: the bytes currently reserved or held, over every connection.
    """

    def __init__(self, limit: int, released: Callable[[int], None] | None = None) -> None:
        """
        @param limit: the budget in bytes (0 or less: no limit).
        @param released: called with the size of every release (the
            L{twisted_kafka.server.memory_trim.MemoryTrimmer}).
        """
        self.limit = limit
        self.used = 0
        self._released = released
        self._waiting: dict[object, Callable[[], None]] = {}
        self._waking = False

    def available(self) -> bool:
        """Return whether a reservation would be granted now."""
        return self.limit <= 0 or self.used < self.limit

    def reserve(self, nbytes: int) -> bool:
        """Reserve C{nbytes} if anything of the budget is left; return whether it was."""
        if self.limit > 0 and self.used >= self.limit:
            return False
        self.used += nbytes
        return True

    def hold(self, nbytes: int) -> None:
        """Count C{nbytes} already read, whatever the budget says."""
        self.used += nbytes

    def release(self, nbytes: int) -> None:
        """Give back C{nbytes} reserved or held; wake waiters while the budget allows."""
        self.used -= nbytes
        if self._released is not None:
            self._released(nbytes)
        self._wake()

    def wait(self, key: object, wake: Callable[[], None]) -> None:
        """Call C{wake} once bytes are released and the budget has room (once)."""
        self._waiting[key] = wake

    def cancel(self, key: object) -> None:
        """Stop waiting for C{key} (its connection closed)."""
        self._waiting.pop(key, None)

    def waiting(self) -> int:
        """Return how many connections wait for the budget."""
        return len(self._waiting)

    def _wake(self) -> None:
        if self._waking:
            return
        self._waking = True
        try:
            waiting = self._waiting
            while waiting and self.available():
                key = next(iter(waiting))
                wake = waiting.pop(key)
                wake()
        finally:
            self._waking = False
