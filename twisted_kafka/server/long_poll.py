# -*- test-case-name: tests.server.test_connection -*-
"""Waiting for a long poll: partition watches, wake-ups and the timeout.

A responder returns L{twisted_kafka.server.reply.LongPoll} when it has not
enough data yet (a Fetch below C{min_bytes}).  L{PollWait} watches the
partitions, re-asks the responder (coalesced, on the next reactor turn)
after an append, and asks for the final answer when the timeout fires.
"""

from __future__ import annotations

from typing import Any, Callable

from twisted_kafka.protocol.messages import Fields
from twisted_kafka.server.codecs import ResponseFramer
from twisted_kafka.server.reply import LongPoll
from twisted_kafka.server.reply_queue import ReplySlot


class PollWait:
    """The long poll currently holding a connection.

    @ivar slot: the reply slot the answer goes into.
    @ivar frame: turns the answer's body into its response frame.
    """

    __slots__ = ("slot", "frame", "_poll", "_reactor", "_answer", "_unsubscribes",
                 "_timer", "_wake_scheduled", "_active")

    def __init__(self, slot: ReplySlot, poll: LongPoll, frame: ResponseFramer,
                 reactor: Any, answer: Callable[["PollWait", Fields], None]) -> None:
        """
        @param reactor: schedules the timeout and the wake-up checks.
        @param answer: called as C{answer(wait, body)} once the responder
            gives a response body.
        """
        self.slot = slot
        self.frame = frame
        self._poll = poll
        self._reactor = reactor
        self._answer = answer
        self._unsubscribes: list[Callable[[], None]] = []
        self._timer: Any = None
        self._wake_scheduled = False
        self._active = True

    def start(self) -> None:
        """Watch the poll's partitions and start its timer."""
        poll = self._poll
        for partition in poll.partitions:
            self._unsubscribes.append(partition.watch(self._woken))
        self._timer = self._reactor.callLater(max(poll.timeout_ms, 0) / 1000.0, self._expired)

    def finish_now(self) -> None:
        """Answer at once with what there is (the connection is draining)."""
        self._give(self._poll.retry(True))

    def cancel(self) -> None:
        """Stop watching and cancel the timer; nothing is answered after this."""
        if not self._active:
            return
        self._active = False
        for unsubscribe in self._unsubscribes:
            unsubscribe()
        timer = self._timer
        if timer is not None and timer.active():
            timer.cancel()

    def _woken(self) -> None:
        """A watched partition got an append: re-check soon (coalesced)."""
        if not self._active or self._wake_scheduled:
            return
        self._wake_scheduled = True
        self._reactor.callLater(0, self._check)

    def _check(self) -> None:
        if not self._active:
            return
        self._wake_scheduled = False
        self._give(self._poll.retry(False))

    def _expired(self) -> None:
        if not self._active:
            return
        self._timer = None
        self._give(self._poll.retry(True))

    def _give(self, body: Fields | None) -> None:
        if body is not None:
            self._answer(self, body)
