# -*- test-case-name: tests.protocol.test_file_records -*-
"""A C{records} value that is a range of a file, written to the wire without entering Python.

The store answers a large Fetch read with a L{FileRecords} instead of the
bytes: its own descriptor (a duplicate, so that the range stays readable if
the store closes its descriptor or deletes the segment before the response
goes out), the position and the length.  Response encoders put it in the
chunk list as it is (L{twisted_kafka.protocol.compiler}), and a plaintext
TCP connection hands it to C{os.sendfile}; any other transport gets its
bytes from L{FileRecords.read} just before writing them.
"""

from __future__ import annotations

import os


class FileRecords:
    """C{length} bytes of a file at C{position}, owned until L{close}.

    @ivar position: where the range starts in the file; L{advance} moves it
        as bytes are sent.
    @ivar length: the bytes of the range not sent yet.
    """

    __slots__ = ("_fd", "position", "length")

    def __init__(self, fd: int, position: int, length: int) -> None:
        """
        @param fd: a descriptor this object now owns (it closes it).
        """
        self._fd: int | None = fd
        self.position = position
        self.length = length

    @classmethod
    def of(cls, fd: int, position: int, length: int) -> FileRecords:
        """A range of the file open as C{fd}, with a descriptor of its own (C{fd} stays the caller's)."""
        return cls(os.dup(fd), position, length)

    def __len__(self) -> int:
        """Return the bytes not sent yet."""
        return self.length

    def __repr__(self) -> str:
        return f"<FileRecords fd={self._fd} position={self.position} length={self.length}>"

    @property
    def fd(self) -> int:
        """The descriptor to send from.

        @raise ValueError: after L{close}.
        """
        if self._fd is None:
            raise ValueError("FileRecords already closed")
        return self._fd

    def read(self) -> bytes:
        """Return the bytes not sent yet.

        @raise OSError: the file is shorter than the range (or unreadable).
        """
        fd = self.fd
        parts = []
        position = self.position
        left = self.length
        while left:
            data = os.pread(fd, left, position)
            if not data:
                raise OSError(f"file ends {left} bytes before the end of its records range")
            parts.append(data)
            position += len(data)
            left -= len(data)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def advance(self, sent: int) -> None:
        """Note that the first C{sent} bytes of the range went out."""
        self.position += sent
        self.length -= sent

    def close(self) -> None:
        """Close the descriptor (again is harmless)."""
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    def __del__(self) -> None:
        """Close the descriptor of a range that was never sent."""
        self.close()
