# -*- test-case-name: tests.groups.test_offset_log -*-
"""Tests for L{twisted_kafka.groups.offset_log}: records, replay and compaction on a real store."""

from __future__ import annotations

from typing import Any

from twisted.trial.unittest import SynchronousTestCase

from tests.store.helpers import ThreadlessClock
from twisted_kafka.groups.group import ClassicGroup, CommittedOffset
from twisted_kafka.groups.offset_log import (
    COMPACT_MIN_RECORDS, OFFSETS_TOPIC, LogFormatError, OffsetLog, apply_record, group_key,
    offset_key, offset_value, open_offsets_partition)
from twisted_kafka.records.record import build_batch
from twisted_kafka.store.service import StoreConfig, StreamStore

TOPIC_ID = b"I" * 16


def committed(offset: int, metadata: str = "", at: int = 1000) -> CommittedOffset:
    """A committed offset with the test's topic id."""
    return CommittedOffset(offset, 2, metadata, at, -1, TOPIC_ID)


class StoreCase(SynchronousTestCase):
    """A started store under a temporary directory, restartable."""

    def setUp(self) -> None:
        """Start the store."""
        self.clock = ThreadlessClock(start=0)
        self.clock.advance(1_700_000_000)
        self.data_dir = self.mktemp()
        self.store = self.start_store()

    def start_store(self) -> StreamStore:
        """Start a store on the test's data directory."""
        store = StreamStore(self.data_dir, StoreConfig(fsync=False), reactor=self.clock)
        store.startService()
        self.addCleanup(lambda: store.running and store.stopService())
        return store

    def restart(self) -> None:
        """Stop the store and start it again."""
        self.store.stopService()
        self.store = self.start_store()

    def offset_log(self, groups: dict | None = None) -> OffsetLog:
        """Open the default vhost's offsets log over C{groups}."""
        partition = open_offsets_partition(self.store.vhost("/"))
        return OffsetLog(partition, self.store, self.clock, {} if groups is None else groups)


class RecordTests(SynchronousTestCase):
    """Record encoding round trips through L{apply_record}."""

    def test_offset_round_trip(self) -> None:
        """An offset record replays to the same committed offset, a tombstone removes it."""
        groups: dict[str, ClassicGroup] = {}
        value = committed(42, "métadonnées")
        apply_record(groups, offset_key("g", "t", 3), offset_value(value), 5)
        self.assertEqual(groups["g"].offsets, {("t", 3): value})
        self.assertTrue(groups["g"].persisted)
        apply_record(groups, offset_key("g", "t", 3), None, 5)
        self.assertEqual(groups["g"].offsets, {})

    def test_group_tombstone(self) -> None:
        """A group tombstone removes the group and its offsets."""
        groups: dict[str, ClassicGroup] = {}
        apply_record(groups, offset_key("g", "t", 0), offset_value(committed(1)), 5)
        apply_record(groups, group_key("g"), None, 5)
        self.assertEqual(groups, {})

    def test_malformed(self) -> None:
        """Records this version cannot read raise L{LogFormatError}."""
        groups: dict[str, ClassicGroup] = {}
        for key, value in ((b"\x01\x00", b""), (b"\x00\x07\x00\x01g", b""), (b"\x00", None),
                           (offset_key("g", "t", 0), b"\x00\x01"),
                           (offset_key("g", "t", 0), b"\x05" + b"\0" * 50)):
            self.assertRaises(LogFormatError, apply_record, groups, key, value, 0)


class ReplayTests(StoreCase):
    """Appended changes come back after a restart."""

    def test_create_offsets_topic(self) -> None:
        """The offsets stream queue is created with one partition, kept forever."""
        self.offset_log()
        topic = self.store.vhost("/").topic(OFFSETS_TOPIC)
        assert topic is not None
        self.assertEqual(len(topic.partitions), 1)
        self.assertEqual(topic.settings.retention_ms, -1)
        self.assertEqual(topic.settings.retention_bytes, -1)

    def test_configs_enforced(self) -> None:
        """An offsets topic created by someone else gets its retention turned off."""
        self.store.vhost("/").create_topic(OFFSETS_TOPIC, 1, {"retention.ms": "1000"})
        self.offset_log()
        topic = self.store.vhost("/").topic(OFFSETS_TOPIC)
        assert topic is not None
        self.assertEqual(topic.settings.retention_ms, -1)

    def test_replay_after_restart(self) -> None:
        """Commits, deletions, group states and group deletions replay to the same table."""
        groups: dict[str, ClassicGroup] = {}
        log = self.offset_log(groups)
        g = groups["g"] = ClassicGroup("g", 1)
        h = groups["h"] = ClassicGroup("h", 1)
        log.offsets_changed(g, [("t", 0, committed(1)), ("t", 1, committed(2, "m"))])
        log.offsets_changed(g, [("t", 0, None), ("u", 0, committed(3))])
        g.protocol_type, g.empty_since = "consumer", 777
        log.group_changed(g)
        log.offsets_changed(h, [("t", 0, committed(9))])
        log.group_deleted("h")
        self.restart()
        replayed: dict[str, ClassicGroup] = {}
        self.assertEqual(self.offset_log(replayed).replay(), 7)
        self.assertEqual(sorted(replayed), ["g"])
        self.assertEqual(replayed["g"].offsets, {("t", 1): committed(2, "m"),
                                                 ("u", 0): committed(3)})
        self.assertEqual((replayed["g"].protocol_type, replayed["g"].empty_since),
                         ("consumer", 777))

    def test_active_group_counts_as_empty_from_restart(self) -> None:
        """A group that had members when the broker stopped is empty from the restart on."""
        groups: dict[str, ClassicGroup] = {}
        log = self.offset_log(groups)
        g = groups["g"] = ClassicGroup("g", 1)
        g.protocol_type, g.empty_since = "consumer", -1
        log.group_changed(g)
        self.clock.advance(100)
        replayed: dict[str, ClassicGroup] = {}
        self.offset_log(replayed).replay()
        self.assertEqual(replayed["g"].empty_since, int(self.clock.seconds() * 1000))

    def test_unreadable_records_skipped(self) -> None:
        """Records that do not parse (or have no key) are skipped; the rest replays."""
        groups: dict[str, ClassicGroup] = {}
        log = self.offset_log(groups)
        log.partition.append(build_batch([(b"junk", b"junk", [], 0), (None, b"v", [], 0)]))
        log.offsets_changed(ClassicGroup("g", 1), [("t", 0, committed(1))])
        replayed: dict[str, ClassicGroup] = {}
        self.offset_log(replayed).replay()
        self.assertEqual(replayed["g"].offsets, {("t", 0): committed(1)})


class CompactionTests(StoreCase):
    """The log is compacted to the live table once it grows."""

    def test_compaction(self) -> None:
        """After enough commits a snapshot is written and everything before it is deleted."""
        groups: dict[str, ClassicGroup] = {}
        log = self.offset_log(groups)
        g = groups["g"] = ClassicGroup("g", 1)
        for i in range(COMPACT_MIN_RECORDS):
            change: Any = [("t", i % 10, committed(i, "x" * 1000))]
            log.offsets_changed(g, change)
            g.offsets[("t", i % 10)] = change[0][2]
        partition = log.partition
        before = partition.high_watermark
        self.assertEqual(before, COMPACT_MIN_RECORDS)
        self.clock.advance(0)
        self.assertEqual(partition.log_start_offset, before)
        self.assertEqual(partition.high_watermark, before + 10)
        replayed: dict[str, ClassicGroup] = {}
        self.assertEqual(self.offset_log(replayed).replay(), 10)
        self.assertEqual(replayed["g"].offsets, g.offsets)
        self.assertEqual(replayed["g"].offsets[("t", 9)].offset, COMPACT_MIN_RECORDS - 1)

    def test_no_compaction_before_threshold(self) -> None:
        """Fewer appends than the threshold leave the log alone."""
        groups: dict[str, ClassicGroup] = {}
        log = self.offset_log(groups)
        g = groups["g"] = ClassicGroup("g", 1)
        log.offsets_changed(g, [("t", 0, committed(1))])
        self.clock.advance(0)
        self.assertEqual(log.partition.log_start_offset, 0)

    def test_closed_log_does_not_compact(self) -> None:
        """After close no compaction runs."""
        log = self.offset_log({})
        log.close()
        self.assertIsNone(log.compact())
