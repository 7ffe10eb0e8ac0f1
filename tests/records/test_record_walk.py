# -*- test-case-name: tests.records.test_record_walk -*-
"""Tests for L{twisted_kafka.records.record_walk}: the walk of every produced batch."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.errors import ErrorCode
from twisted_kafka.records.record import build_batch
from twisted_kafka.records.record_walk import keyless_records, walk_records

from ._helpers import error_code, raw_record


def records_section(count: int, value: bytes = b"v", step: int = 1) -> bytes:
    """The records section of a batch of C{count} records, C{step} ms apart."""
    return build_batch([(b"k", value, [("h", b"x")], 1000 + i * step) for i in range(count)])[61:]


class WalkTests(SynchronousTestCase):
    """L{walk_records} accepts what producers write and refuses lies."""

    def test_accepts_batches(self) -> None:
        """Batches of 1 to 300 records (one- and two-byte varints) walk cleanly."""
        for count in (1, 2, 63, 64, 65, 300):
            for step in (1, 100, -7, 10**9):
                section = records_section(count, step=step)
                walked = walk_records(section, 0, len(section), count)
                deltas = [i * step for i in range(count)]
                self.assertEqual(walked, (min(deltas), max(deltas)), (count, step))

    def test_long_varints(self) -> None:
        """Records longer than 8 KiB (three-byte length varints) walk cleanly."""
        section = records_section(3, value=b"x" * 20000)
        self.assertEqual(walk_records(section, 0, len(section), 3), (0, 2))

    def test_count_mismatch(self) -> None:
        """More or fewer records than recordCount is INVALID_RECORD."""
        section = records_section(5)
        for count in (0, 1, 4, 6, 2**31 - 1):
            self.assertEqual(error_code(walk_records, section, 0, len(section), count),
                             ErrorCode.INVALID_RECORD, count)

    def test_offset_deltas(self) -> None:
        """offsetDeltas must be 0, 1, 2, ...: a repeat, a gap or a negative one is refused."""
        for deltas in ((0, 0), (0, 2), (1, 2), (0, -1), (0, 200)):
            section = b"".join(raw_record(0, 0, d, 1, b"k", 1, b"v", 0) for d in deltas)
            self.assertEqual(error_code(walk_records, section, 0, len(section), 2),
                             ErrorCode.INVALID_RECORD, deltas)
        section = b"".join(raw_record(0, 0, d, 1, b"k", 1, b"v", 0) for d in range(200))
        self.assertEqual(walk_records(section, 0, len(section), 200), (0, 0))

    def test_lengths(self) -> None:
        """A record too short, running past the end, or bytes left over: INVALID_RECORD."""
        good = raw_record(0, 0, 0, 1, b"k", 1, b"v", 0)
        for section in (b"\x02\x00\x00",                 # length 1
                        b"\x7e" + good[1:],             # length 63, past the end
                        good + b"\x00",                 # a byte after the last record
                        good[:-2],                      # cut short
                        b"\xff" * 12):                  # an endless varint
            self.assertEqual(error_code(walk_records, section, 0, len(section), 1),
                             ErrorCode.INVALID_RECORD, section)

    def test_within_bounds(self) -> None:
        """Only C{buf[pos:end]} is walked."""
        section = records_section(2)
        padded = b"junk" + section + b"more junk"
        self.assertEqual(walk_records(padded, 4, 4 + len(section), 2), (0, 1))


class KeylessTests(SynchronousTestCase):
    """L{keyless_records} finds the records with a null key."""

    def test_indexes(self) -> None:
        """Null keys are found by batch index; empty keys and long records are keys."""
        keys = [b"k", None, b"", None, b"x" * 300] + [None] * 70
        section = build_batch([(k, b"v" * 200, [("h", b"x")], 1000 + i)
                               for i, k in enumerate(keys)])[61:]
        self.assertEqual(keyless_records(section, 0, len(section), len(keys)),
                         [i for i, k in enumerate(keys) if k is None])

    def test_none(self) -> None:
        """A batch whose records all have keys has no keyless record."""
        section = records_section(5)
        self.assertEqual(keyless_records(section, 0, len(section), 5), [])
