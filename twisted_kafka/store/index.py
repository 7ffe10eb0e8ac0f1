# -*- test-case-name: tests.store.test_index -*-
"""The sparse offset index and time index of one segment.

Both are kept in memory as parallel C arrays (so lookups are a C-level
bisect) and written to disk in Kafka's formats when a segment is sealed or the
store shuts down cleanly:

- C{.index}: 8-byte entries, big-endian C{int32 relative offset} (offset of
  the batch minus the segment's base offset) and C{int32 file position} of
  the batch starting at that offset; both strictly increasing.
- C{.timeindex}: 12-byte entries, big-endian C{int64 timestamp} and
  C{int32 relative offset}: the largest maxTimestamp seen in the segment so
  far and the base offset of the batch carrying it; timestamps strictly
  increasing.

Indexes are only hints: they are rebuilt from the log whenever they look
wrong, and a reader always checks the batch headers it is pointed at.
"""

from __future__ import annotations

import sys
from array import array
from bisect import bisect_left, bisect_right
from typing import Self

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


def _column(data: bytes, row: int, start: int, width: int, count: int, typecode: str) -> array[int]:
    """Extract one big-endian column from rows of C{row} bytes into an array."""
    raw = bytearray(width * count)
    for k in range(width):
        raw[k::width] = data[start + k :: row]
    values = array(typecode)
    values.frombytes(bytes(raw))
    if _SWAP:
        values.byteswap()
    return values


def _big_endian(values: array[int]) -> bytes:
    """The contents of C{values} as big-endian bytes."""
    if not _SWAP:
        return values.tobytes()
    copy = array(values.typecode, values)
    copy.byteswap()
    return copy.tobytes()


def _strictly_increasing(values: array[int]) -> bool:
    """Whether every element of C{values} is larger than the one before."""
    return all(a < b for a, b in zip(values, values[1:]))


class _SparseIndex:
    """What both indexes share: two parallel columns, one fixed-size entry per row.

    Subclasses name the columns' C{array} typecodes and widths in
    L{COLUMNS} and hand out their two arrays from L{columns}.
    """

    #: (typecode, width in bytes) of the first and second field of an entry
    COLUMNS: tuple[tuple[str, int], tuple[str, int]]
    ENTRY_SIZE: int

    def columns(self) -> tuple[array[int], array[int]]:
        """The two columns, in on-disk field order."""
        raise NotImplementedError()

    def _set_columns(self, first: array[int], second: array[int]) -> None:
        raise NotImplementedError()

    def __len__(self) -> int:
        return len(self.columns()[0])

    def last(self) -> tuple[int, int] | None:
        """The last entry (both fields, in on-disk order), or C{None}."""
        first, second = self.columns()
        if not first:
            return None
        return first[-1], second[-1]

    def to_bytes(self) -> bytes:
        """The on-disk form."""
        first, second = self.columns()
        (_, first_width), (_, second_width) = self.COLUMNS
        return _interleave([(_big_endian(first), first_width), (_big_endian(second), second_width)], len(first))

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        """Parse the on-disk form (a trailing partial entry is ignored)."""
        size = cls.ENTRY_SIZE
        count = len(data) // size
        data = data[: count * size]
        (first_type, first_width), (second_type, second_width) = cls.COLUMNS
        index = cls()
        index._set_columns(
            _column(data, size, 0, first_width, count, first_type),
            _column(data, size, first_width, second_width, count, second_type),
        )
        return index


class OffsetIndex(_SparseIndex):
    """Sparse map from relative offset to the file position of a batch.

    @ivar offsets: relative base offsets, increasing.
    @ivar positions: matching file positions, increasing.
    """

    COLUMNS = (("i", 4), ("i", 4))
    ENTRY_SIZE = 8

    def __init__(self) -> None:
        self.offsets = array("i")
        self.positions = array("i")

    def columns(self) -> tuple[array[int], array[int]]:
        """C{(offsets, positions)}."""
        return self.offsets, self.positions

    def _set_columns(self, first: array[int], second: array[int]) -> None:
        self.offsets, self.positions = first, second

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

    def is_sane(self, log_size: int) -> bool:
        """Whether the first and last entries lie inside the log, in order.

        Cheap on purpose (a sealed 1 GiB segment has 262144 entries): a
        lookup never returns an entry beyond the offset or position asked
        for, even in a damaged index, and readers verify the batch header an
        entry points at, so a wrong entry in the middle costs a rebuild, not
        a wrong answer.
        """
        if not self.offsets:
            return True
        return (
            0 <= self.offsets[0] <= self.offsets[-1]
            and 0 <= self.positions[0] <= self.positions[-1] < log_size
        )


class TimeIndex(_SparseIndex):
    """Sparse map from the running max timestamp to the batch that set it.

    @ivar timestamps: increasing timestamps (ms).
    @ivar offsets: relative base offsets of the batches carrying them.
    """

    COLUMNS = (("q", 8), ("i", 4))
    ENTRY_SIZE = 12

    def __init__(self) -> None:
        self.timestamps = array("q")
        self.offsets = array("i")

    def columns(self) -> tuple[array[int], array[int]]:
        """C{(timestamps, offsets)}."""
        return self.timestamps, self.offsets

    def _set_columns(self, first: array[int], second: array[int]) -> None:
        self.timestamps, self.offsets = first, second

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

    def is_sane(self, max_relative_offset: int) -> bool:
        """Whether the entries are increasing and point inside the segment."""
        if not self.timestamps:
            return True
        return (
            self.offsets[0] >= 0
            and max(self.offsets) <= max_relative_offset
            and _strictly_increasing(self.timestamps)
        )
