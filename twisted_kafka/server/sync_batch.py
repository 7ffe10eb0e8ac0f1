# -*- test-case-name: tests.server.test_connection -*-
"""acks=all replies on one connection: one store sync per fsync round.

An L{twisted_kafka.server.reply.AfterSync} reply has its body already; only
its release waits for the store's fsync.  A sync requested now covers every
append made before it, so it releases exactly the slots waiting at that
moment; slots added while it runs wait for the next request, made as soon as
this one fires.  This keeps one Deferred per connection per fsync round,
however many acks=all requests the round covers.
"""

from __future__ import annotations

from typing import Callable

from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from twisted_kafka.server.reply_queue import ReplySlot


class SyncBatch:
    """The reply slots of one connection waiting for the store's fsync.

    @ivar pending: whether a sync is in progress.
    """

    __slots__ = ("_sync", "_released", "_failed", "_waiting", "pending")

    def __init__(self, sync: Callable[[], Deferred[None]],
                 released: Callable[[], None],
                 failed: Callable[[Failure], None]) -> None:
        """
        @param sync: asks the store for an fsync of everything appended so far.
        @param released: called after a sync marked its slots ready.
        @param failed: called when a sync fails (the slots stay unanswered).
        """
        self._sync = sync
        self._released = released
        self._failed = failed
        self._waiting: list[ReplySlot] = []
        self.pending = False

    def add(self, slot: ReplySlot) -> None:
        """Hold C{slot} until a sync requested after now has finished."""
        self._waiting.append(slot)

    def waiting(self) -> bool:
        """Return whether slots wait for a sync not requested yet."""
        return bool(self._waiting)

    def request(self) -> None:
        """Ask for a sync covering every slot now waiting, unless one runs already.

        Called once the requests of a read have been processed, so that one
        fsync round covers all of them.
        """
        if not self._waiting or self.pending:
            return
        covered, self._waiting = self._waiting, []
        self.pending = True
        self._sync().addCallbacks(self._synced, self._sync_failed, callbackArgs=(covered,))

    def _synced(self, _: object, covered: list[ReplySlot]) -> None:
        self.pending = False
        for slot in covered:
            slot.ready = True
        self._released()

    def _sync_failed(self, failure: Failure) -> None:
        self.pending = False
        self._failed(failure)
