# -*- test-case-name: tests.server.test_framing -*-
"""Incremental parser for Kafka's size-prefixed frames.

Every Kafka request and response is a signed big-endian int32 size followed by
that many bytes.  L{FrameParser} is fed whatever the transport read and hands
back each complete frame as its own C{bytes}.  It never re-joins its whole
buffer on each read (the flaw of Twisted's C{IntNStringReceiver}): a partial
frame is kept as the list of reads it arrived in and joined once, and a
size prefix that is negative or over the limit is rejected as soon as its four
bytes are in, before any of the payload is buffered.
"""

from __future__ import annotations

import struct

_SIZE = struct.Struct(">i")


class FrameError(Exception):
    """The peer sent a size prefix this parser refuses; the connection must close.

    @ivar size: the offending size prefix.
    """

    def __init__(self, size: int, reason: str) -> None:
        super().__init__(f"{reason} (size prefix {size})")
        self.size = size


class FrameParser:
    """Split a byte stream into Kafka frames.

    A frame that spans reads is kept as the list of the reads' own C{bytes}
    and joined once when complete: one copy, however many reads it took.

    @ivar max_size: the largest frame accepted, in bytes (the size prefix
        itself not counted), like Kafka's C{socket.request.max.bytes}.
    """

    def __init__(self, max_size: int) -> None:
        self.max_size = max_size
        # An incomplete size prefix (fewer than four bytes).
        self._prefix = bytearray()
        # Size of the frame being collected, or -1 between frames.
        self._expected = -1
        # The collected parts of that frame, and their total length.
        self._chunks: list[bytes] = []
        self._have = 0

    def buffered(self) -> int:
        """Return how many bytes of an incomplete frame are held."""
        return len(self._prefix) + self._have

    def frame_size(self) -> int:
        """Return the size of the incomplete frame, prefix included, once its prefix is in.

        Before that, the bytes of the partial prefix; 0 between frames.
        """
        if self._expected >= 0:
            return self._expected + 4
        return len(self._prefix)

    def clear(self) -> None:
        """Drop an incomplete frame (the connection is gone)."""
        del self._prefix[:]
        self._expected = -1
        self._chunks = []
        self._have = 0

    def feed(self, data: bytes) -> list[bytes]:
        """Take the next bytes read from the peer and return the complete frames.

        @raise FrameError: a size prefix is negative or larger than
            C{max_size}; nothing of that frame has been buffered.
        """
        frames: list[bytes] = []
        if self._expected >= 0 or self._prefix:
            # Finish the frame in progress first.
            if self._expected < 0:
                prefix = self._prefix
                need = 4 - len(prefix)
                prefix += data[:need]
                data = data[need:]
                if len(prefix) < 4:
                    return frames
                size = _SIZE.unpack(prefix)[0]
                del prefix[:]
                self._expected = self._check(size)
            need = self._expected - self._have
            if len(data) < need:
                if data:
                    self._chunks.append(data)
                    self._have += len(data)
                return frames
            if self._chunks:
                self._chunks.append(data[:need])
                frames.append(b"".join(self._chunks))
                self._chunks = []
                self._have = 0
            else:
                frames.append(data[:need])
            data = data[need:]
            self._expected = -1
        # Fast path: whole frames straight out of this read.
        pos = 0
        end = len(data)
        max_size = self.max_size
        unpack_from = _SIZE.unpack_from
        while end - pos >= 4:
            size = unpack_from(data, pos)[0]
            if size < 0 or size > max_size:
                self._check(size)
            start = pos + 4
            if end - start < size:
                self._expected = size
                if start < end:
                    rest = data[start:]
                    self._chunks.append(rest)
                    self._have = len(rest)
                return frames
            pos = start + size
            frames.append(data[start:pos])
        if pos < end:
            self._prefix += data[pos:]
        return frames

    def _check(self, size: int) -> int:
        """Return C{size} if it is an acceptable frame size, else raise L{FrameError}."""
        if size < 0:
            raise FrameError(size, "negative frame size")
        if size > self.max_size:
            raise FrameError(size, f"frame larger than max_request_size {self.max_size}")
        return size
