# -*- test-case-name: tests.server.test_connection -*-
"""The in-order reply queue of one connection.

Kafka clients match responses by order as well as correlation id, so each
request gets a L{ReplySlot} when it is processed and the slots leave in that
order: a slot that is not ready yet (waiting for fsync, a long poll, a
rebalance) holds back the ones behind it.  Ready bytes are handed to the
transport only while it does not ask us to pause, so a large Fetch response
is written partition by partition as the socket drains, never copied into
the transport's buffer whole.  A chunk that is a range of a segment file
(L{FileRecords}) goes to the connection's L{FileSender} (C{os.sendfile},
plaintext TCP) once the transport has flushed the bytes before it, or is
read into bytes where there is no sender.
"""

from __future__ import annotations

from collections import deque
from typing import Callable, Iterable

from twisted_kafka.protocol.compiler import Chunk
from twisted_kafka.protocol.file_records import FileRecords
from twisted_kafka.server.file_sender import FileSender

#: Bytes of response chunks handed to the transport in one writeSequence.
WRITE_BATCH = 256 * 1024


class ReplySlot:
    """A response position in the queue.

    @ivar data: the response frame's chunks, once known.
    @ivar ready: whether the slot may leave once it reaches the head.
    @ivar close_after: when set, the connection closes (with this reason
        logged) after writing the slot.
    @ivar api_key: the API answered, when the request is timed (else -1).
    @ivar started: when its request frame was taken up (the stats clock).
    """

    __slots__ = ("data", "ready", "close_after", "api_key", "started")

    def __init__(self, api_key: int = -1, started: float = 0.0) -> None:
        self.data: list[Chunk] = []
        self.ready = False
        self.close_after: str | None = None
        self.api_key = api_key
        self.started = started


class ReplyQueue:
    """Reply slots in request order and the output bytes they become.

    @ivar paused: whether the transport asked us to stop writing.
    @ivar close_reason: set by L{move_ready} when a closing slot reached the
        head; nothing after it is moved.
    @ivar write: the transport's C{writeSequence}, set on connection.
    @ivar sender: sends file ranges on this transport, if it can
        (plaintext TCP); set on connection.
    @ivar observe: called with a timed slot's C{api_key} and C{started}
        when it moves to the output (C{None}: nothing is timed).
    """

    __slots__ = ("_slots", "_out", "paused", "close_reason", "write", "sender", "observe")

    def __init__(self) -> None:
        self._slots: deque[ReplySlot] = deque()
        self._out: deque[Chunk] = deque()
        self.paused = False
        self.close_reason: str | None = None
        self.write: Callable[[Iterable[bytes]], None] = _not_connected
        self.sender: FileSender | None = None
        self.observe: Callable[[int, float], None] | None = None

    def __len__(self) -> int:
        """Return the number of slots not yet moved to the output."""
        return len(self._slots)

    def add(self, api_key: int = -1, started: float = 0.0) -> ReplySlot:
        """Return a new slot at the tail (timed when C{api_key} is given)."""
        slot = ReplySlot(api_key, started)
        self._slots.append(slot)
        return slot

    def head(self) -> ReplySlot | None:
        """Return the oldest slot not yet moved to the output, if any."""
        return self._slots[0] if self._slots else None

    def has_output(self) -> bool:
        """Return whether bytes are waiting for room in the transport."""
        return bool(self._out)

    def move_ready(self) -> bool:
        """Move every ready slot at the head to the output.

        @return: whether anything moved or a closing slot was reached (then
            L{close_reason} is set).
        """
        slots = self._slots
        out = self._out
        moved = False
        observe = self.observe
        while slots and slots[0].ready:
            slot = slots.popleft()
            if observe is not None and slot.api_key >= 0:
                observe(slot.api_key, slot.started)
            if slot.data:
                out.extend(slot.data)
                moved = True
            if slot.close_after is not None:
                self.close_reason = slot.close_after
                return True
        return moved

    def write_all(self) -> None:
        """Write all output now, whatever the flow control says (the last words)."""
        out = self._out
        self.write([_read(chunk) if isinstance(chunk, FileRecords) else chunk for chunk in out])
        out.clear()

    def write_out(self) -> None:
        """Write output until it is gone or the transport pauses us (or the sender waits)."""
        out = self._out
        write = self.write
        sender = self.sender
        while out and not self.paused:
            batch: list[bytes] = []
            size = 0
            while out and size < WRITE_BATCH:
                chunk = out[0]
                if chunk.__class__ is FileRecords:
                    if sender is not None:
                        break
                    chunk = _read(out.popleft())  # type: ignore[arg-type]
                else:
                    out.popleft()
                batch.append(chunk)  # type: ignore[arg-type]
                size += len(chunk)
            if batch:
                write(batch)
                continue
            # The head is a file range and this transport can sendfile it.
            assert sender is not None
            records = out[0]
            assert isinstance(records, FileRecords)
            if not sender.send(records):
                self.paused = True
                return
            out.popleft()
            records.close()

    def clear(self) -> None:
        """Forget every slot and the output (the connection is gone); close file ranges."""
        for slot in self._slots:
            _close_all(slot.data)
        self._slots.clear()
        _close_all(self._out)
        self._out.clear()


def _read(records: FileRecords) -> bytes:
    """The bytes of a file range, read for a transport that cannot sendfile; closes it."""
    try:
        return records.read()
    finally:
        records.close()


def _close_all(chunks: Iterable[Chunk]) -> None:
    """Close the file ranges among C{chunks}."""
    for chunk in chunks:
        if isinstance(chunk, FileRecords):
            chunk.close()


def _not_connected(data: Iterable[bytes]) -> None:
    """Refuse to write before the connection has a transport."""
    raise RuntimeError("reply queue written before the connection was made")
