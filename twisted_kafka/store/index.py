# -*- test-case-name: tests.store.test_index -*-
"""The sparse offset index and time index of one segment.

Both are kept in memory as parallel C arrays (so lookups are a C-level
bisect) and written to disk in Kafka's formats when a segment is sealed or the
store shuts down cleanly:

- ``.index``: 8-byte entries, big-endian ``int32 relative offset`` (offset of
  the batch minus the segment's base offset) and ``int32 file position`` of
  the batch starting at that offset; both strictly increasing.
- ``.timeindex``: 12-byte entries, big-endian ``int64 timestamp`` and
  ``int32 relative offset``: the largest maxTimestamp seen in the segment so
  far and the base offset of the batch carrying it; timestamps strictly
  increasing.

Indexes are only hints: they are rebuilt from the log whenever they look
wrong, and a reader always checks the batch headers it is pointed at.
"""

from __future__ import annotations

import sys
from array import array
from bisect import bisect_left, bisect_right

_SWAP = sys.byteorder == "little"


def _interleave(columns: list[tuple[bytes, int]], count: int) -> bytes:
    """Interleave big-endian columns of fixed-width values into rows."""
    row = sum(width for _, width in columns)
    out = bytearray(row * count)
    start = 0
    for data, width in columns:
        for k in range(width):
            out[start + k :: row] = data[k::width]
        start += width
    return bytes(out)


def _column(data: bytes, row: int, start: int, width: int, count: int, typecode: str) -> array:
    """Extract one big-endian column from rows of C{row} bytes into an array."""
    raw = bytearray(width * count)
    for k in range(width):
        raw[k::width] = data[start + k :: row]
    values = array(typecode)
    values.frombytes(bytes(raw))
    if _SWAP:
        values.byteswap()
    return values


def _big_endian(values: array) -> bytes:
    """The contents of C{values} as big-endian bytes."""
    if not _SWAP:
        return values.tobytes()
    copy = array(values.typecode, values)
    copy.byteswap()
    return copy.tobytes()


def _strictly_increasing(values: array) -> bool:
    """Whether every element of C{values} is larger than the one before."""
    return all(a < b for a, b in zip(values, values[1:]))


class OffsetIndex:
    """Sparse map from relative offset to the file position of a batch.

    @ivar offsets: relative base offsets, increasing.
    @ivar positions: matching file positions, increasing.
    """

    ENTRY_SIZE = 8

    def __init__(self) -> None:
        self.offsets = array("i")
        self.positions = array("i")

    def __len__(self) -> int:
        return len(self.offsets)

    def append(self, relative_offset: int, position: int) -> None:
        """Add an entry; the caller keeps entries increasing."""
        self.offsets.append(relative_offset)
        self.positions.append(position)

    def lookup(self, relative_offset: int) -> tuple[int, int]:
        """The last entry whose offset is at or before C{relative_offset}.

        @return: C{(relative offset, position)}; C{(0, 0)} (the segment's
            first batch) if there is none.
        """
        i = bisect_right(self.offsets, relative_offset)
        return (self.offsets[i - 1], self.positions[i - 1]) if i else (0, 0)

    def floor_position(self, position: int) -> tuple[int, int]:
        """The last entry whose position is at or before C{position} (C{(0, 0)} if none)."""
        i = bisect_right(self.positions, position)
        return (self.offsets[i - 1], self.positions[i - 1]) if i else (0, 0)

    def last(self) -> tuple[int, int] | None:
        """The last entry as C{(relative offset, position)}, or C{None}."""
        if not self.offsets:
            return None
        return self.offsets[-1], self.positions[-1]

    def to_bytes(self) -> bytes:
        """The on-disk form."""
        return _interleave(
            [(_big_endian(self.offsets), 4), (_big_endian(self.positions), 4)], len(self.offsets)
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> OffsetIndex:
        """Parse the on-disk form (a trailing partial entry is ignored)."""
        count = len(data) // cls.ENTRY_SIZE
        data = data[: count * cls.ENTRY_SIZE]
        index = cls()
        index.offsets = _column(data, 8, 0, 4, count, "i")
        index.positions = _column(data, 8, 4, 4, count, "i")
        return index

    def is_sane(self, log_size: int) -> bool:
        """Whether the entries are increasing, non-negative and inside the log."""
        if not self.offsets:
            return True
        return (
            self.offsets[0] >= 0
            and self.positions[0] >= 0
            and self.positions[-1] < log_size
            and _strictly_increasing(self.offsets)
            and _strictly_increasing(self.positions)
        )


class TimeIndex:
    """Sparse map from the running max timestamp to the batch that set it.

    @ivar timestamps: increasing timestamps (ms).
    @ivar offsets: relative base offsets of the batches carrying them.
    """

    ENTRY_SIZE = 12

    def __init__(self) -> None:
        self.timestamps = array("q")
        self.offsets = array("i")

    def __len__(self) -> int:
        return len(self.timestamps)

    def maybe_append(self, timestamp: int, relative_offset: int) -> None:
        """Add an entry if C{timestamp} is larger than the last one."""
        if timestamp >= 0 and (not self.timestamps or timestamp > self.timestamps[-1]):
            self.timestamps.append(timestamp)
            self.offsets.append(relative_offset)

    def lookup_before(self, timestamp: int) -> int | None:
        """Relative offset of the last entry whose timestamp is below C{timestamp}.

        Every batch up to and including that one has a max timestamp below
        C{timestamp}, so a search may start there. C{None}: start at the
        segment's beginning.
        """
        i = bisect_left(self.timestamps, timestamp)
        return self.offsets[i - 1] if i else None

    def last(self) -> tuple[int, int] | None:
        """The last entry as C{(timestamp, relative offset)}, or C{None}."""
        if not self.timestamps:
            return None
        return self.timestamps[-1], self.offsets[-1]

    def to_bytes(self) -> bytes:
        """The on-disk form."""
        return _interleave(
            [(_big_endian(self.timestamps), 8), (_big_endian(self.offsets), 4)], len(self.timestamps)
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> TimeIndex:
        """Parse the on-disk form (a trailing partial entry is ignored)."""
        count = len(data) // cls.ENTRY_SIZE
        data = data[: count * cls.ENTRY_SIZE]
        index = cls()
        index.timestamps = _column(data, 12, 0, 8, count, "q")
        index.offsets = _column(data, 12, 8, 4, count, "i")
        return index

    def is_sane(self, max_relative_offset: int) -> bool:
        """Whether the entries are increasing and point inside the segment."""
        if not self.timestamps:
            return True
        return (
            self.offsets[0] >= 0
            and max(self.offsets) <= max_relative_offset
            and _strictly_increasing(self.timestamps)
        )
