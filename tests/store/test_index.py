# -*- test-case-name: tests.store.test_index -*-
"""Tests for the sparse offset and time indexes."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.store.index import OffsetIndex, TimeIndex


class OffsetIndexTests(SynchronousTestCase):
    """L{OffsetIndex}."""

    def setUp(self) -> None:
        """Set up what each test here uses."""
        self.index = OffsetIndex()
        for relative, position in [(3, 100), (9, 250), (20, 700)]:
            self.index.append(relative, position)

    def test_lookup(self) -> None:
        """The last entry at or before the offset; position 0 before the first entry."""
        self.assertEqual(
            [self.index.lookup(o)[1] for o in (0, 2, 3, 8, 9, 19, 20, 10**6)], [0, 0, 100, 100, 250, 250, 700, 700]
        )
        self.assertEqual(self.index.lookup(10), (9, 250))

    def test_floor_position(self) -> None:
        """The last indexed position at or before a position."""
        self.assertEqual(
            [self.index.floor_position(p) for p in (50, 100, 699, 10**9)], [(0, 0), (3, 100), (9, 250), (20, 700)]
        )

    def test_format(self) -> None:
        """Kafka's format: big-endian int32 relative offset, int32 position."""
        self.assertEqual(
            self.index.to_bytes().hex(), "00000003" "00000064" "00000009" "000000fa" "00000014" "000002bc"
        )
        again = OffsetIndex.from_bytes(self.index.to_bytes())
        self.assertEqual((list(again.offsets), list(again.positions)), ([3, 9, 20], [100, 250, 700]))

    def test_sanity(self) -> None:
        """Entries must increase and point inside the log."""
        self.assertTrue(self.index.is_sane(701))
        self.assertFalse(self.index.is_sane(700))
        bad = OffsetIndex()
        bad.append(5, 10)
        bad.append(3, 5)
        self.assertFalse(bad.is_sane(100))
        self.assertTrue(OffsetIndex().is_sane(0))

    def test_lookup_never_beyond_target(self) -> None:
        """Even in a scrambled index a lookup returns an entry at or before what was asked."""
        scrambled = OffsetIndex()
        for relative, position in [(1, 10), (50, 20), (7, 30), (9, 40), (3, 50), (60, 60)]:
            scrambled.append(relative, position)
        for target in range(70):
            relative, _ = scrambled.lookup(target)
            self.assertLessEqual(relative, target)
        for limit in range(70):
            _, position = scrambled.floor_position(limit)
            self.assertLessEqual(position, limit)


class TimeIndexTests(SynchronousTestCase):
    """L{TimeIndex}."""

    def test_only_increasing(self) -> None:
        """Entries are added only for a new maximum timestamp."""
        index = TimeIndex()
        for ts, rel in [(100, 0), (90, 3), (100, 4), (150, 5), (-1, 6)]:
            index.maybe_append(ts, rel)
        self.assertEqual((list(index.timestamps), list(index.offsets)), ([100, 150], [0, 5]))

    def test_lookup_before(self) -> None:
        """The last entry strictly below the timestamp, if any."""
        index = TimeIndex()
        index.maybe_append(100, 0)
        index.maybe_append(150, 5)
        self.assertEqual([index.lookup_before(t) for t in (50, 100, 101, 150, 151)], [None, None, 0, 0, 5])

    def test_format(self) -> None:
        """Kafka's format: big-endian int64 timestamp, int32 relative offset."""
        index = TimeIndex()
        index.maybe_append(1_700_000_000_000, 7)
        self.assertEqual(index.to_bytes().hex(), "0000018bcfe56800" "00000007")
        again = TimeIndex.from_bytes(index.to_bytes() + b"\1\2")
        self.assertEqual(again.last(), (1_700_000_000_000, 7))
        self.assertTrue(again.is_sane(7))
        self.assertFalse(again.is_sane(6))
