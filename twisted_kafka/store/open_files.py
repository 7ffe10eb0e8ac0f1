# -*- test-case-name: tests.store.test_open_files -*-
"""A store-wide limit on the open C{.log} files of sealed segments.

Every partition keeps its active segment open. A sealed segment's file is
opened when it is first read (or checked at start-up) and would otherwise
stay open until retention deletes the segment, so many partitions with many
segments could exhaust the process's file descriptors. L{SealedFiles} keeps
the sealed segments with an open file in least-recently-used order and closes
the oldest ones past its limit; a closed segment reopens its file on its next
use. Segments waiting for an fsync round are never closed early, and a file
closed while a round runs is closed when the round ends.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from twisted_kafka.store.segment_file import SegmentFile


#: How many sealed segment files stay open by default. Active segments are
#: always open, so the process needs about C{partitions + this} descriptors.
MAX_OPEN_SEALED_FILES = 1000


class SealedFiles:
    """Least-recently-used set of sealed segments whose C{.log} file is open.

    @param limit: how many sealed segment files may stay open (at least 1).
    @param close_fd: closes a descriptor (L{GroupCommit.close_fd}: deferred
        while an fsync round may be using it).
    @param busy: whether a segment must keep its file open (it waits for
        the next fsync round).
    """

    def __init__(self, limit: int, close_fd: Callable[[int | None], None], busy: Callable[[SegmentFile], bool]) -> None:
        self.limit = max(1, limit)
        self._close_fd = close_fd
        self._busy = busy
        self._open: OrderedDict[SegmentFile, None] = OrderedDict()
        #: how many files were closed to stay within the limit
        self.evictions = 0

    def __len__(self) -> int:
        return len(self._open)

    def used(self, segment: SegmentFile) -> None:
        """C{segment} (sealed, with its file open) was just used: keep it, close the oldest past the limit."""
        entries = self._open
        if segment in entries:
            entries.move_to_end(segment)
            return
        entries[segment] = None
        if len(entries) > self.limit:
            self._evict(segment)

    def forget(self, segment: SegmentFile) -> None:
        """C{segment}'s file was closed or handed elsewhere (deleted, released, now active)."""
        self._open.pop(segment, None)

    def _evict(self, keep: SegmentFile) -> None:
        """Close least recently used files until within the limit (never C{keep} or a busy one)."""
        entries = self._open
        for segment in list(entries):
            if len(entries) <= self.limit:
                return
            if segment is keep or self._busy(segment):
                continue
            del entries[segment]
            self.evictions += 1
            self._close_fd(segment.detach_fd())
