# -*- test-case-name: tests.store.test_recovery -*-
"""Crash recovery: each case reopens to a consistent log holding exactly the fully written batches."""

from __future__ import annotations

import os

from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.store.recovery import RECOVERY_POINT_FILE
from twisted_kafka.store.service import CLEAN_SHUTDOWN_FILE

from .helpers import NOW_MS, StoreTestMixin, as_stored, make_batch


def _flip_byte(path: str, position: int) -> None:
    with open(path, "r+b") as f:
        f.seek(position)
        byte = f.read(1)
        f.seek(position)
        f.write(bytes([byte[0] ^ 0xFF]))


class CrashRecoveryTests(StoreTestMixin, SynchronousTestCase):
    """Reopening after an unclean shutdown with damaged files."""

    def setUp(self) -> None:
        """Set up what each test here uses."""
        super().setUp()
        self.store = self.open_store(segment_bytes=3000, index_interval_bytes=300)
        self.topic = self.store.vhost("/").create_topic("t", 1)
        self.log = self.topic.partitions[0]
        self.stored = self.fill(self.log, 40, count=2)
        self.segments = self.log.segments()
        self.assertGreater(len(self.segments), 3)

    def _active_path(self) -> str:
        return self.segments[-1].log_path

    def _expect(self, store, upto: int) -> None:  # type: ignore[no-untyped-def]
        """The reopened log holds exactly the batches below offset C{upto} and accepts appends."""
        log = self.partition(store)
        self.assertEqual(log.high_watermark, upto)
        self.assertEqual(self.read_all(log), {o: b for o, b in self.stored.items() if o < upto})
        batch = make_batch(1, tag=99)
        self.assertEqual(log.append(batch).base_offset, upto)
        self.assertEqual(log.read(upto, 1), as_stored(batch, upto))

    def test_unclean_no_damage(self) -> None:
        """A crash with intact files loses nothing."""
        store = self.reopen(self.store, clean=False)
        self.assertTrue(store.recovered_unclean)
        self._expect(store, 80)

    def test_clean_marker_consumed(self) -> None:
        """The marker exists only between a clean stop and the next start."""
        store = self.reopen(self.store)
        self.assertFalse(store.recovered_unclean)
        self.assertFalse(os.path.exists(os.path.join(self.data_dir, CLEAN_SHUTDOWN_FILE)))
        store = self.reopen(store, clean=False)
        self.assertTrue(store.recovered_unclean)

    def test_tail_cut_mid_batch(self) -> None:
        """A torn last batch is cut off."""
        last = max(self.stored)
        path = self._active_path()
        os.truncate(path, os.path.getsize(path) - 10)
        self._expect(self.reopen(self.store, clean=False), last)

    def test_tail_cut_mid_header(self) -> None:
        """A torn batch header (fewer than 61 bytes) is cut off."""
        last = max(self.stored)
        path = self._active_path()
        os.truncate(path, os.path.getsize(path) - len(self.stored[last]) + 20)
        self._expect(self.reopen(self.store, clean=False), last)

    def test_zero_filled_tail(self) -> None:
        """Zeros after the last batch (a crash after the file grew) are cut off."""
        with open(self._active_path(), "ab") as f:
            f.write(b"\0" * 500)
        self._expect(self.reopen(self.store, clean=False), 80)

    def test_crc_flipped_in_active_segment(self) -> None:
        """A batch with a bad CRC and everything after it are cut off."""
        active = self.segments[-1]
        victim = active.base_offset + 2  # the second batch of the active segment
        _flip_byte(active.log_path, len(self.stored[active.base_offset]) + 70)
        self._expect(self.reopen(self.store, clean=False), victim)

    def test_crc_flipped_in_sealed_segment(self) -> None:
        """Without a recovery point every segment is checked; later segments are removed."""
        os.unlink(os.path.join(self.log.directory, RECOVERY_POINT_FILE))
        second = self.segments[1]
        _flip_byte(second.log_path, 100)
        store = self.reopen(self.store, clean=False)
        self._expect(store, second.base_offset)
        names = os.listdir(self.log.directory)
        for later in self.segments[2:]:
            self.assertNotIn(os.path.basename(later.log_path), names)

    def test_crc_flipped_after_clean_shutdown_is_not_rescanned(self) -> None:
        """After a clean shutdown sealed segments are trusted (start-up does not read them)."""
        store = self.reopen(self.store)
        self.stop(store)
        _flip_byte(self.segments[1].log_path, 100)
        store = self.open_store(segment_bytes=3000, index_interval_bytes=300)
        self.assertEqual(self.partition(store).high_watermark, 80)

    def test_index_deleted(self) -> None:
        """Missing index files are rebuilt from the log (clean or not)."""
        self.stop(self.store)
        for segment in self.segments:
            os.unlink(segment.index_path)
            os.unlink(segment.time_index_path)
        store = self.open_store(segment_bytes=3000, index_interval_bytes=300)
        self._expect(store, 80)
        for segment in self.segments[:-1]:
            self.assertTrue(os.path.exists(segment.index_path))
        self.assertEqual(self.partition(store).max_timestamp(), (78, NOW_MS + 391))

    def test_index_garbage(self) -> None:
        """Index files full of garbage are detected and rebuilt."""
        self.stop(self.store)
        for segment in self.segments:
            with open(segment.index_path, "wb") as f:
                f.write(os.urandom(64))
            with open(segment.time_index_path, "wb") as f:
                f.write(b"\xff" * 36)
        self._expect(self.open_store(segment_bytes=3000, index_interval_bytes=300), 80)

    def test_index_wrong_but_plausible(self) -> None:
        """An index whose last entry does not point at the right batch is rebuilt."""
        self.stop(self.store)
        segment = self.segments[1]
        with open(segment.index_path, "r+b") as f:
            data = bytearray(f.read())
            data[-5] ^= 0x01  # position of the last entry moves by 256 bytes
            f.seek(0)
            f.write(data)
        self._expect(self.open_store(segment_bytes=3000, index_interval_bytes=300), 80)

    def test_index_truncated(self) -> None:
        """A partial index entry is not trusted."""
        self.stop(self.store)
        os.truncate(self.segments[0].index_path, 5)
        self._expect(self.open_store(segment_bytes=3000, index_interval_bytes=300), 80)

    def test_crash_during_roll(self) -> None:
        """A new empty segment without the old one's indexes: both recovered."""
        self.crash(self.store)
        previous = self.segments[-1]
        for path in (previous.index_path, previous.time_index_path):
            if os.path.exists(path):
                os.unlink(path)
        empty = os.path.join(self.log.directory, f"{80:020d}.log")
        open(empty, "wb").close()
        store = self.open_store(segment_bytes=3000, index_interval_bytes=300)
        self._expect(store, 80)
        self.assertEqual(self.partition(store).segments()[-1].base_offset, 80)

    def test_crash_during_roll_with_torn_tail(self) -> None:
        """If the sealed segment's tail is torn, the new empty segment goes too."""
        self.crash(self.store)
        previous = self.segments[-1]
        os.truncate(previous.log_path, os.path.getsize(previous.log_path) - 3)
        open(os.path.join(self.log.directory, f"{80:020d}.log"), "wb").close()
        os.unlink(os.path.join(self.log.directory, RECOVERY_POINT_FILE))
        store = self.open_store(segment_bytes=3000, index_interval_bytes=300)
        self._expect(store, 78)
        self.assertFalse(os.path.exists(os.path.join(self.log.directory, f"{80:020d}.log")))

    def test_crash_during_retention(self) -> None:
        """A segment half-deleted by retention (log renamed, indexes left) is gone after restart."""
        self.crash(self.store)
        first = self.segments[0]
        os.rename(first.log_path, first.log_path + ".deleted")
        store = self.open_store(segment_bytes=3000, index_interval_bytes=300)
        log = self.partition(store)
        self.assertEqual(log.log_start_offset, self.segments[1].base_offset)
        for path in (first.log_path + ".deleted", first.index_path, first.time_index_path):
            self.assertFalse(os.path.exists(path))
        self.assertEqual(
            self.read_all(log), {o: b for o, b in self.stored.items() if o >= self.segments[1].base_offset}
        )

    def test_crash_during_delete_records(self) -> None:
        """The log start offset was persisted but segments below it remain: they are removed."""
        self.log.delete_records(self.segments[2].base_offset + 1)
        self.crash(self.store)
        # put the first segment back as if deletion had not happened yet
        store = self.open_store(segment_bytes=3000, index_interval_bytes=300)
        log = self.partition(store)
        self.assertEqual(log.log_start_offset, self.segments[2].base_offset + 1)
        self.assertEqual(log.segments()[0].base_offset, self.segments[2].base_offset)

    def test_leftover_temp_files_removed(self) -> None:
        """Temp files of interrupted metadata writes are removed."""
        self.crash(self.store)
        junk = [
            os.path.join(self.log.directory, "recovery-point.tmp"),
            os.path.join(self.data_dir, "cluster.meta.tmp"),
            os.path.join(self.topic.vhost_dir, "t.topic.tmp"),
        ]
        for path in junk:
            with open(path, "wb") as f:
                f.write(b"half")
        self.open_store(segment_bytes=3000, index_interval_bytes=300)
        for path in junk:
            self.assertFalse(os.path.exists(path))

    def test_gap_between_segments(self) -> None:
        """A segment that does not continue its predecessor's offsets ends the log."""
        self.crash(self.store)
        third = self.segments[2]
        os.rename(third.log_path, os.path.join(self.log.directory, f"{third.base_offset + 1000:020d}.log"))
        os.unlink(os.path.join(self.log.directory, RECOVERY_POINT_FILE))
        store = self.open_store(segment_bytes=3000, index_interval_bytes=300)
        self._expect(store, third.base_offset)

    def _without(self, *lost: int) -> dict[int, bytes]:
        """The stored batches except those at the base offsets C{lost}."""
        return {o: b for o, b in self.stored.items() if o not in lost}

    def test_damaged_fsynced_segment_keeps_later_segments(self) -> None:
        """A corrupt batch in a segment below the recovery point costs that segment's tail, not the later segments."""
        second = self.segments[1]
        for path in (second.index_path, second.time_index_path):
            if os.path.exists(path):
                os.unlink(path)
        in_second = sorted(o for o in self.stored if second.base_offset <= o < self.segments[2].base_offset)
        _flip_byte(second.log_path, len(self.stored[in_second[0]]) + 70)  # the second batch of the segment
        store = self.reopen(self.store, clean=False, segment_bytes=3000, index_interval_bytes=300)
        log = self.partition(store)
        self.assertEqual(log.high_watermark, 80)
        self.assertEqual(self.read_all(log), self._without(*in_second[1:]))
        self.assertEqual(log.read(in_second[1], 1), self.stored[self.segments[2].base_offset])

    def test_missing_fsynced_segment_leaves_hole(self) -> None:
        """A sealed segment lost after a clean shutdown leaves a hole that reads skip; later data stays."""
        self.stop(self.store)
        third = self.segments[2]
        for path in (third.log_path, third.index_path, third.time_index_path):
            os.unlink(path)
        lost = [o for o in self.stored if third.base_offset <= o < self.segments[3].base_offset]
        log = self.partition(self.open_store(segment_bytes=3000, index_interval_bytes=300))
        self.assertEqual(log.high_watermark, 80)
        self.assertEqual(log.read(third.base_offset + 1, 1), self.stored[self.segments[3].base_offset])
        self.assertEqual(self.read_all(log), self._without(*lost))

    def test_torn_sealed_segment_after_clean_shutdown(self) -> None:
        """A sealed segment that lost its tail is cut to whole batches at start-up, even after a clean stop."""
        self.stop(self.store)
        second = self.segments[1]
        last = max(o for o in self.stored if o < self.segments[2].base_offset)
        os.truncate(second.log_path, second.size - 10)
        log = self.partition(self.open_store(segment_bytes=3000, index_interval_bytes=300))
        self.assertEqual(log.high_watermark, 80)
        self.assertEqual(self.read_all(log), self._without(last))


class RecoveryPointTests(StoreTestMixin, SynchronousTestCase):
    """The recovery point bounds how much of the log is rescanned after a crash."""

    def test_recovery_point_after_roll(self) -> None:
        """After a roll's fsync round the recovery point names the new active segment."""
        store = self.open_store(fsync=True, segment_bytes=1000)
        log = store.vhost("/").create_topic("t", 1).partitions[0]
        self.fill(log, 15)
        self.threads.run_all()
        path = os.path.join(log.directory, RECOVERY_POINT_FILE)
        from twisted_kafka.store import metafile

        content = metafile.read(path, RECOVERY_POINT_FILE)
        assert content is not None
        self.assertEqual(content["offset"], log.segments()[-1].base_offset)

    def test_sealed_segments_below_point_not_rescanned(self) -> None:
        """Segments below the recovery point keep their indexes; the active one is rescanned."""
        store = self.open_store(segment_bytes=1000)
        log = store.vhost("/").create_topic("t", 1).partitions[0]
        stored = self.fill(log, 15)
        segments = log.segments()
        _flip_byte(segments[0].log_path, 100)  # would be cut if rescanned
        _flip_byte(segments[-1].log_path, 100)  # is cut
        store = self.reopen(store, clean=False, segment_bytes=1000)
        log = self.partition(store)
        self.assertEqual(log.high_watermark, segments[-1].base_offset)
        self.assertEqual(log.segments()[0].size, segments[0].size)
        second = segments[1].base_offset
        self.assertEqual(log.read(second, 1), stored[second])


class StartUpCostTests(StoreTestMixin, SynchronousTestCase):
    """Opening a partition reads a bounded amount per sealed segment, never the sealed data itself."""

    SEGMENT = 64 * 1024

    def _count_reads(self) -> list[int]:
        """Patch C{os.pread} to record how many bytes each call returns."""
        reads: list[int] = []
        real = os.pread

        def pread(fd: int, n: int, position: int) -> bytes:
            data = real(fd, n, position)
            reads.append(len(data))
            return data

        self.patch(os, "pread", pread)
        return reads

    def test_sealed_segments_not_rescanned(self) -> None:
        """Clean or unclean (with a recovery point), start-up reads far less than the data it opens."""
        store = self.open_store(segment_bytes=self.SEGMENT)
        log = store.vhost("/").create_topic("t", 1).partitions[0]
        for i in range(30 * 60):
            log.append(make_batch(1, value_size=1000, tag=i))
        sealed = len(log.segments()) - 1
        self.assertGreaterEqual(sealed, 25)
        data = log.size_bytes()
        self.stop(store)
        reads = self._count_reads()
        for clean in (True, False):
            del reads[:]
            store = self.open_store(segment_bytes=self.SEGMENT)
            self.assertEqual(store.recovered_unclean, not clean)
            # at most two whole segments (active recovery, producer replay) and a short walk per sealed one
            self.assertLess(sum(reads), 2 * self.SEGMENT + sealed * 16 * 1024)
            self.assertLess(sum(reads), data / 3)
            self.crash(store)
