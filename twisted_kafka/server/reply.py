# -*- test-case-name: tests.server.test_connection -*-
"""Markers a responder returns when its answer must wait.

Responders are synchronous; when a reply cannot be written yet they return one
of these and the connection (L{twisted_kafka.server.connection}) does the
waiting with timers and callbacks, keeping responses in request order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol, Sequence, Union

from twisted_kafka.protocol.messages import Fields


class Watchable(Protocol):
    """Something a long poll can wait on: a stream-queue partition."""

    def watch(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call C{callback()} after every append; return a function that stops that."""


@dataclass
class AfterSync:
    """Write C{response} once the store has fsynced everything appended so far.

    Used by acks=all produce: the store's group commit covers every append made
    before the request was answered.
    """

    response: Fields


@dataclass
class LongPoll:
    """Wait for new data on C{partitions}, then ask C{retry} for the response.

    @ivar partitions: objects with a C{watch(callback) -> unsubscribe} method
        (stream-queue partitions).
    @ivar timeout_ms: the longest the response may wait.
    @ivar retry: called as C{retry(final)} after an append to any watched
        partition (C{final=False}; it may return C{None} to keep waiting) and
        when the timeout fires (C{final=True}; it must return the response).
    """

    partitions: Sequence[Watchable]
    timeout_ms: int
    retry: Callable[[bool], Fields | None]


@dataclass
class Waiting:
    """Write the response that something else supplies later.

    The connection calls C{register(answer)} once; whoever holds the marker
    calls C{answer(response)} once with the response body (possibly from
    inside C{register}).  Until then, as for L{LongPoll}, later requests on
    the connection are not processed.  Used by JoinGroup (waiting for the
    rebalance) and SyncGroup (waiting for the leader's assignment).

    @ivar register: takes the connection's C{answer} callback.
    """

    register: Callable[[Callable[[Fields], None]], None]


@dataclass
class CloseAfter:
    """Send C{response} (or nothing when it is C{None}), then close the connection.

    @ivar reason: logged with the peer when the connection is closed.
    """

    response: Fields | None
    reason: str


#: What a responder returns: the response body, C{None} for no response
#: (acks=0 Produce), or a marker saying how the answer waits.
Reply = Union[Fields, AfterSync, LongPoll, Waiting, CloseAfter, None]
