# -*- test-case-name: tests.store.test_partition -*-
"""Tests for L{twisted_kafka.store.partition.PartitionLog}: append, read, offsets, head truncation."""

from __future__ import annotations

import errno
import os
import random
from collections.abc import Callable

from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.records.batch import set_partition_leader_epoch
from twisted_kafka.errors import ErrorCode, KafkaError
from twisted_kafka.records.batch import CODEC_GZIP, CODEC_LZ4, CODEC_SNAPPY, CODEC_ZSTD, BatchHeader, split_batches
from twisted_kafka.records.record import build_batch
from twisted_kafka.records.recompress import recompress
from twisted_kafka.protocol.file_records import FileRecords
from twisted_kafka.store import segment_file as segment_module
from twisted_kafka.store.segment import FILE_RECORDS_MIN

from .helpers import NOW_MS, StoreTestMixin, as_stored, make_batch

_REAL_PWRITEV = os.pwritev


class AppendReadTests(StoreTestMixin, SynchronousTestCase):
    """Appending assigns contiguous offsets; reading returns whole stored batches."""

    def setUp(self) -> None:
        """Set up what each test here uses."""
        super().setUp()
        self.store = self.open_store(index_interval_bytes=200)
        self.topic = self.store.vhost("/").create_topic("t", 2)
        self.log = self.topic.partitions[0]

    def test_empty(self) -> None:
        """A new partition starts at offset 0 with nothing to read."""
        self.assertEqual((self.log.log_start_offset, self.log.high_watermark), (0, 0))
        self.assertEqual(self.log.read(0, 1000), b"")
        self.assertEqual(self.log.size_bytes(), 0)
        self.assertIsNone(self.log.max_timestamp())
        self.assertIsNone(self.log.offset_for_timestamp(0))

    def test_offsets_contiguous(self) -> None:
        """Each append returns the next offset; the high watermark follows the records."""
        self.assertEqual(self.log.append(make_batch(3)).base_offset, 0)
        self.assertEqual(self.log.append(make_batch(1)).base_offset, 3)
        self.assertEqual(self.log.append(make_batch(5)).base_offset, 4)
        self.assertEqual(self.log.high_watermark, 9)

    def test_base_offset_rewritten_bytes_verbatim(self) -> None:
        """The stored batch is the appended one with only baseOffset changed (CRC still valid)."""
        self.log.append(make_batch(2))
        batch = make_batch(4, tag=7)
        offset = self.log.append(batch).base_offset
        data = self.log.read(offset, 1)
        self.assertEqual(data, as_stored(batch, 2))
        [(_, _, header)] = split_batches(data)
        self.assertEqual(header.base_offset, 2)

    def test_leader_epoch_stamped(self) -> None:
        """Whatever leader epoch the producer wrote, the stored batch carries ours (0)."""
        for epoch in (-1, 5):
            batch = bytearray(make_batch(2, tag=epoch))
            set_partition_leader_epoch(batch, 0, epoch)
            offset = self.log.append(bytes(batch)).base_offset
            [(_, _, header)] = split_batches(self.log.read(offset, 1))
            self.assertEqual(header.partition_leader_epoch, 0)

    def test_read_not_even_one(self) -> None:
        """With min_one=False a first batch over the limit is not read at all."""
        stored = self.fill(self.log, 5, count=2)
        size = len(stored[0])
        self.assertEqual(self.log.read(0, size - 1, min_one=False), b"")
        self.assertEqual(self.log.read(0, size, min_one=False), stored[0])
        self.assertEqual(self.log.read(0, size - 1), stored[0])

    def test_read_from_middle_of_batch(self) -> None:
        """Reading an offset inside a batch returns that whole batch."""
        stored = self.fill(self.log, 5, count=4)
        self.assertEqual(self.log.read(10, 1), stored[8])

    def test_first_batch_even_if_too_large(self) -> None:
        """The first batch comes whole even when larger than max_bytes; no more follow."""
        stored = self.fill(self.log, 3, count=2)
        self.assertEqual(self.log.read(0, 0), stored[0])
        self.assertEqual(self.log.read(0, len(stored[0]) + len(stored[2]) - 1), stored[0])

    def test_more_batches_within_limit(self) -> None:
        """Whole batches follow while the total stays within max_bytes."""
        stored = self.fill(self.log, 20, count=2)
        sizes = [len(stored[o]) for o in sorted(stored)]
        limit = sum(sizes[:7]) + 5
        data = self.log.read(0, limit)
        self.assertEqual(data, b"".join(stored[o] for o in sorted(stored)[:7]))
        self.assertEqual(self.log.read(0, 1 << 20), b"".join(stored[o] for o in sorted(stored)))

    def test_read_every_offset(self) -> None:
        """Every offset reads back the batch holding it, through the sparse index."""
        stored = self.fill(self.log, 30, count=3)
        bases = sorted(stored)
        for offset in range(self.log.high_watermark):
            base = max(b for b in bases if b <= offset)
            self.assertEqual(self.log.read(offset, 1), stored[base])

    def test_out_of_range(self) -> None:
        """Offsets beyond the high watermark or below the log start are OFFSET_OUT_OF_RANGE."""
        self.fill(self.log, 2)
        for offset in (-1, 7, 100):
            with self.assertRaises(KafkaError) as e:
                self.log.read(offset, 100)
            self.assertEqual(e.exception.code, ErrorCode.OFFSET_OUT_OF_RANGE)
        self.assertEqual(self.log.read(6, 100), b"")

    def test_partitions_independent(self) -> None:
        """Each partition has its own offsets."""
        self.fill(self.log, 3)
        other = self.topic.partitions[1]
        self.assertEqual(other.append(make_batch()).base_offset, 0)
        self.assertEqual(other.high_watermark, 1)

    def test_not_a_batch(self) -> None:
        """Short data, a wrong length or magic is CORRUPT_MESSAGE and stores nothing."""
        good = bytearray(make_batch())
        bad_magic = bytearray(good)
        bad_magic[16] = 1
        for data in (b"x" * 10, bytes(good) + b"extra", bytes(bad_magic)):
            with self.assertRaises(KafkaError) as e:
                self.log.append(data)
            self.assertEqual(e.exception.code, ErrorCode.CORRUPT_MESSAGE)
        self.assertEqual((self.log.high_watermark, self.log.size_bytes()), (0, 0))

    def test_too_large(self) -> None:
        """A batch larger than max.message.bytes is MESSAGE_TOO_LARGE."""
        self.topic.set_configs({"max.message.bytes": "500"})
        with self.assertRaises(KafkaError) as e:
            self.log.append(make_batch(1, value_size=600))
        self.assertEqual(e.exception.code, ErrorCode.MESSAGE_TOO_LARGE)
        self.assertEqual(self.log.high_watermark, 0)

    def test_too_large_message(self) -> None:
        """MESSAGE_TOO_LARGE names the size, the limit and the topic (Produce answers it)."""
        self.topic.set_configs({"max.message.bytes": "500"})
        batch = make_batch(1, value_size=600)
        with self.assertRaises(KafkaError) as e:
            self.log.append(batch)
        self.assertEqual(
            e.exception.message, f"record batch of {len(batch)} bytes exceeds max.message.bytes 500 of topic 't'"
        )

    def test_validated_header(self) -> None:
        """With the header the records layer parsed, the batch is stored as without it (from a memoryview too)."""
        batch = make_batch(3)
        [(_, _, header)] = split_batches(batch)
        self.assertEqual(self.log.append(memoryview(batch), header), (0, -1))
        self.assertEqual(self.log.append(batch), (3, -1))
        self.assertEqual(self.log.read(0, 1), as_stored(batch, 0))
        self.assertEqual(self.log.read(3, 1), as_stored(batch, 3))

    def test_log_append_time(self) -> None:
        """A LogAppendTime topic's batches get the store clock's time; the caller's bytes are not changed."""
        self.topic.set_configs({"message.timestamp.type": "LogAppendTime"})
        self.clock.advance(12.3456)
        now_ms = int(self.clock.seconds() * 1000)
        batch = make_batch(2)
        appended = self.log.append(memoryview(batch))
        self.assertEqual(appended, (0, now_ms))
        self.assertEqual(batch, make_batch(2))
        [(_, _, header)] = split_batches(self.log.read(0, 1))
        self.assertEqual((header.max_timestamp, header.timestamp_type), (now_ms, 1))
        self.assertEqual(self.log.max_timestamp(), (0, now_ms))

    def test_bytearray_append(self) -> None:
        """A bytearray batch is accepted and left unchanged."""
        batch = bytearray(make_batch(2))
        self.log.append(make_batch(1))
        copy = bytes(batch)
        self.assertEqual(self.log.append(batch).base_offset, 1)
        self.assertEqual(bytes(batch), copy)
        self.assertEqual(self.log.read(1, 1), as_stored(copy, 1))

    def test_watch(self) -> None:
        """Watchers are called after each append until they unsubscribe."""
        calls: list[int] = []
        stop = self.log.watch(lambda: calls.append(self.log.high_watermark))
        self.log.append(make_batch(2))
        self.log.append(make_batch(1))
        stop()
        stop()
        self.log.append(make_batch(1))
        self.assertEqual(calls, [2, 3])

    def test_watch_unsubscribe_during_callback(self) -> None:
        """A watcher may unsubscribe from inside its callback."""
        calls: list[str] = []
        stops: list[Callable[[], None]] = []

        def once() -> None:
            calls.append("once")
            stops[0]()

        stops.append(self.log.watch(once))
        self.log.watch(lambda: calls.append("always"))
        self.log.append(make_batch())
        self.log.append(make_batch())
        self.assertEqual(calls, ["once", "always", "always"])

    def test_read_file_records(self) -> None:
        """Reads of 64 KiB or more come as a range of the segment file holding what read() returns."""
        for tag in range(100):
            self.log.append(make_batch(10, value_size=100, tag=tag))
        small = self.log.read_file_records(0, 1000)
        self.assertIsInstance(small, bytes)
        self.assertEqual(small, self.log.read(0, 1000))
        big = self.log.read_file_records(0, 1 << 20)
        self.assertIsInstance(big, FileRecords)
        assert isinstance(big, FileRecords)
        self.addCleanup(big.close)
        self.assertGreaterEqual(len(big), FILE_RECORDS_MIN)
        self.assertEqual(big.read(), self.log.read(0, 1 << 20))

    def test_read_file_records_without_descriptors(self) -> None:
        """Out of descriptors, a large read comes as bytes instead."""
        for tag in range(100):
            self.log.append(make_batch(10, value_size=100, tag=tag))

        def no_more(fd: int) -> int:
            raise OSError(errno.EMFILE, os.strerror(errno.EMFILE))

        self.patch(os, "dup", no_more)
        data = self.log.read_file_records(0, 1 << 20)
        self.assertEqual(data, self.log.read(0, 1 << 20))


class RecompressionTests(StoreTestMixin, SynchronousTestCase):
    """A topic's C{compression.type} other than C{producer} stores batches with its codec."""

    def setUp(self) -> None:
        """Set up what each test here uses."""
        super().setUp()
        self.store = self.open_store()
        self.topic = self.store.vhost("/").create_topic("t", 1, {"compression.type": "gzip"})
        self.log = self.topic.partitions[0]

    def stored(self, offset: int) -> tuple[bytes, BatchHeader]:
        """The stored batch holding C{offset} and its header (its CRC checked)."""
        data = self.log.read(offset, 1)
        [(_, end, header)] = split_batches(data)
        return data[:end], header

    def test_recompressed(self) -> None:
        """An uncompressed batch is stored as gzip, at the offsets it would have had, its records unchanged."""
        self.log.append(make_batch(2))
        batch = make_batch(3, tag=5, producer_id=9, producer_epoch=0, base_sequence=0)
        self.assertEqual(self.log.append(batch), (2, -1))
        data, header = self.stored(2)
        self.assertEqual((header.codec, header.base_offset, header.record_count), (CODEC_GZIP, 2, 3))
        self.assertEqual((header.producer_id, header.producer_epoch, header.base_sequence), (9, 0, 0))
        expected = recompress(as_stored(batch, 2), CODEC_GZIP, -1, 1 << 20)
        self.assertEqual(data, bytes(expected))
        self.assertEqual(self.log.high_watermark, 5)

    def test_same_codec_verbatim(self) -> None:
        """A batch already in the topic's codec is stored as sent (no rewrite)."""
        batch = build_batch([(b"k", b"v" * 50, [], NOW_MS)], codec=CODEC_GZIP)
        self.log.append(batch)
        self.assertEqual(self.stored(0)[0], as_stored(batch, 0))

    def test_producer_policy_verbatim(self) -> None:
        """Back to C{producer}: batches are stored with the producer's codec again."""
        self.topic.set_configs({"compression.type": None})
        batch = build_batch([(b"k", b"v" * 50, [], NOW_MS)], codec=CODEC_LZ4)
        self.log.append(batch)
        self.assertEqual(self.stored(0)[0], as_stored(batch, 0))

    def test_broker_default(self) -> None:
        """C{[store] compression_type} is the codec of topics that set none; an override wins."""
        self.store.stopService()
        self.store = self.open_store(compression_type="zstd")
        topic = self.store.vhost("/").create_topic("default", 1)
        topic.partitions[0].append(make_batch(2))
        [(_, _, header)] = split_batches(topic.partitions[0].read(0, 1))
        self.assertEqual(header.codec, CODEC_ZSTD)
        self.log = self.store.vhost("/").topic("t").partitions[0]
        self.log.append(make_batch(2))
        self.assertEqual(self.stored(0)[1].codec, CODEC_GZIP)

    def test_to_uncompressed(self) -> None:
        """C{uncompressed} stores a compressed batch's records uncompressed."""
        self.topic.set_configs({"compression.type": "uncompressed"})
        records = [(b"k%d" % i, b"v" * 50, [], NOW_MS + i) for i in range(4)]
        self.log.append(build_batch(records, codec=CODEC_ZSTD))
        self.assertEqual(self.stored(0)[0], as_stored(build_batch(records), 0))

    def test_level(self) -> None:
        """C{compression.gzip.level} is the level the batch is written with."""
        self.topic.set_configs({"compression.gzip.level": "1"})
        batch = make_batch(20)
        self.log.append(batch)
        self.assertEqual(self.stored(0)[0], bytes(recompress(as_stored(batch, 0), CODEC_GZIP, 1, 1 << 20)))

    def test_too_large_once_rewritten(self) -> None:
        """max.message.bytes applies to the rewritten batch: MESSAGE_TOO_LARGE, nothing stored."""
        self.topic.set_configs({"compression.type": "uncompressed", "max.message.bytes": "2000"})
        batch = build_batch([(b"k", b"v" * 5000, [], NOW_MS)], codec=CODEC_GZIP)
        self.assertLess(len(batch), 2000)
        with self.assertRaises(KafkaError) as e:
            self.log.append(batch)
        self.assertEqual(e.exception.code, ErrorCode.MESSAGE_TOO_LARGE)
        self.assertEqual((self.log.high_watermark, self.log.size_bytes()), (0, 0))

    def test_too_large_compressed_result(self) -> None:
        """A result over the limit in the target codec is MESSAGE_TOO_LARGE naming its size."""
        # zstd sees the repeats 30 kB apart; snappy's 32 kB blocks mostly do not
        self.topic.set_configs({"compression.type": "snappy", "max.message.bytes": "50000"})
        batch = build_batch([(b"k", random.Random(1).randbytes(30_000) * 4, [], NOW_MS)], codec=CODEC_ZSTD)
        out = recompress(batch, CODEC_SNAPPY, None, 1 << 20)
        self.assertLessEqual(len(batch), 50000)
        self.assertGreater(len(out), 50000)
        with self.assertRaises(KafkaError) as e:
            self.log.append(batch)
        self.assertEqual(
            (e.exception.code, e.exception.message),
            (ErrorCode.MESSAGE_TOO_LARGE,
             f"record batch of {len(out)} bytes once recompressed with snappy exceeds max.message.bytes 50000 of topic 't'"))

    def test_original_too_large(self) -> None:
        """As in Kafka, the batch as sent must fit max.message.bytes even if it would shrink."""
        self.topic.set_configs({"max.message.bytes": "1000"})
        with self.assertRaises(KafkaError) as e:
            self.log.append(make_batch(1, value_size=2000))
        self.assertEqual(e.exception.code, ErrorCode.MESSAGE_TOO_LARGE)

    def test_log_append_time(self) -> None:
        """A LogAppendTime topic stamps the recompressed batch; the caller's bytes are unchanged."""
        self.topic.set_configs({"message.timestamp.type": "LogAppendTime"})
        batch = make_batch(2)
        appended = self.log.append(memoryview(batch))
        _, header = self.stored(0)
        self.assertEqual((header.codec, header.timestamp_type, header.max_timestamp),
                         (CODEC_GZIP, 1, appended.log_append_time_ms))
        self.assertEqual(batch, make_batch(2))

    def test_after_reopen(self) -> None:
        """Recompressed batches pass recovery's CRC checks and read back after a crash."""
        self.log.append(make_batch(3))
        self.log.append(make_batch(2, tag=1))
        store = self.reopen(self.store, clean=False)
        log = self.partition(store)
        self.assertEqual(log.high_watermark, 5)
        [(_, _, header)] = split_batches(log.read(3, 1))
        self.assertEqual((header.codec, header.base_offset), (CODEC_GZIP, 3))


class TimestampBoundsTests(StoreTestMixin, SynchronousTestCase):
    """timestamp_bounds: the range Produce checks CreateTime records against, by the store clock."""

    def setUp(self) -> None:
        """Set up what each test here uses."""
        super().setUp()
        self.store = self.open_store()
        self.topic = self.store.vhost("/").create_topic("t", 1)
        self.log = self.topic.partitions[0]

    def test_kafka_defaults(self) -> None:
        """Kafka 4's defaults: any time in the past, at most an hour ahead."""
        self.assertEqual(self.log.timestamp_bounds(), (NOW_MS - 2**63 + 1, NOW_MS + 3_600_000))

    def test_follows_clock_and_configs(self) -> None:
        """The bounds move with the store clock and take config changes at once."""
        self.topic.set_configs({"message.timestamp.before.max.ms": "5000",
                                "message.timestamp.after.max.ms": "0"})
        self.clock.advance(2.5)
        self.assertEqual(self.log.timestamp_bounds(), (NOW_MS + 2500 - 5000, NOW_MS + 2500))

    def test_unchecked(self) -> None:
        """None (nothing checked) on a LogAppendTime topic, or with both bounds at Long.MAX_VALUE."""
        self.topic.set_configs({"message.timestamp.type": "LogAppendTime"})
        self.assertIsNone(self.log.timestamp_bounds())
        self.topic.set_configs({"message.timestamp.type": None,
                                "message.timestamp.after.max.ms": str(2**63 - 1)})
        self.assertIsNone(self.log.timestamp_bounds())


class TimestampTests(StoreTestMixin, SynchronousTestCase):
    """offset_for_timestamp and max_timestamp."""

    def setUp(self) -> None:
        """Set up what each test here uses."""
        super().setUp()
        self.store = self.open_store(index_interval_bytes=100, segment_bytes=2000)
        self.log = self.store.vhost("/").create_topic("t", 1).partitions[0]
        # batch i: 2 records, timestamps NOW+10i, NOW+10i+1
        self.stored = self.fill(self.log, 40, count=2)

    def test_offset_for_timestamp(self) -> None:
        """The first batch whose max timestamp reaches the target, across segments."""
        self.assertGreater(len(self.log.segments()), 3)
        for i in (0, 1, 17, 39):
            self.assertEqual(self.log.offset_for_timestamp(NOW_MS + 10 * i), (2 * i, NOW_MS + 10 * i + 1))
            self.assertEqual(self.log.offset_for_timestamp(NOW_MS + 10 * i + 1), (2 * i, NOW_MS + 10 * i + 1))
            self.assertEqual(self.log.offset_for_timestamp(NOW_MS + 10 * i + 2), (2 * i + 2, NOW_MS + 10 * i + 11) if i < 39 else None)
        self.assertEqual(self.log.offset_for_timestamp(0), (0, NOW_MS + 1))

    def test_max_timestamp(self) -> None:
        """The batch holding the largest timestamp."""
        self.assertEqual(self.log.max_timestamp(), (78, NOW_MS + 391))

    def test_max_timestamp_not_last(self) -> None:
        """The max timestamp need not be in the newest batch."""
        offset = self.log.append(make_batch(1, timestamp=NOW_MS + 10_000)).base_offset
        self.log.append(make_batch(1, timestamp=NOW_MS))
        self.assertEqual(self.log.max_timestamp(), (offset, NOW_MS + 10_000))

    def test_after_reopen(self) -> None:
        """Timestamps lookups work the same after a clean restart."""
        store = self.reopen(self.store)
        log = self.partition(store)
        self.assertEqual(log.max_timestamp(), (78, NOW_MS + 391))
        self.assertEqual(log.offset_for_timestamp(NOW_MS + 172), (36, NOW_MS + 181))


class DeleteRecordsTests(StoreTestMixin, SynchronousTestCase):
    """delete_records moves the log start offset and drops whole segments."""

    def setUp(self) -> None:
        """Set up what each test here uses."""
        super().setUp()
        self.store = self.open_store(segment_bytes=1000)
        self.log = self.store.vhost("/").create_topic("t", 1).partitions[0]
        self.stored = self.fill(self.log, 20, count=2)

    def test_moves_start(self) -> None:
        """The start moves, reads below it fail, whole segments below it are deleted."""
        segments = len(self.log.segments())
        self.assertEqual(self.log.delete_records(15), 15)
        self.assertEqual(self.log.log_start_offset, 15)
        self.assertLess(len(self.log.segments()), segments)
        self.assertLessEqual(self.log.segments()[0].base_offset, 15)
        with self.assertRaises(KafkaError) as e:
            self.log.read(14, 100)
        self.assertEqual(e.exception.code, ErrorCode.OFFSET_OUT_OF_RANGE)
        self.assertEqual(self.log.read(15, 1), self.stored[14])

    def test_persisted(self) -> None:
        """The new start survives a restart, clean or not."""
        self.log.delete_records(15)
        store = self.reopen(self.store)
        self.assertEqual(self.partition(store).log_start_offset, 15)
        store = self.reopen(store, clean=False)
        self.assertEqual(self.partition(store).log_start_offset, 15)

    def test_minus_one_is_high_watermark(self) -> None:
        """-1 deletes everything: the log is empty at the high watermark."""
        self.assertEqual(self.log.delete_records(-1), 40)
        self.assertEqual(self.log.read(40, 100), b"")
        self.assertEqual(self.log.append(make_batch()).base_offset, 40)

    def test_backwards_is_noop(self) -> None:
        """Asking for an earlier offset than the current start changes nothing."""
        self.log.delete_records(10)
        self.assertEqual(self.log.delete_records(5), 10)

    def test_beyond_high_watermark(self) -> None:
        """An offset past the high watermark is OFFSET_OUT_OF_RANGE."""
        with self.assertRaises(KafkaError) as e:
            self.log.delete_records(41)
        self.assertEqual(e.exception.code, ErrorCode.OFFSET_OUT_OF_RANGE)


class StorageErrorTests(StoreTestMixin, SynchronousTestCase):
    """A failed write leaves the log exactly as before."""

    def setUp(self) -> None:
        """Set up what each test here uses."""
        super().setUp()
        self.store = self.open_store()
        self.topic = self.store.vhost("/").create_topic("t", 2)
        self.log = self.topic.partitions[0]
        self.stored = self.fill(self.log, 3)

    def _fail_writes(self, partial: bool) -> None:
        real = os.pwritev

        def pwritev(fd: int, buffers: list, position: int) -> int:
            if partial:
                real(fd, [bytes(buffers[0])[:4]], position)  # a torn write hits the file
            raise OSError(errno.ENOSPC, "No space left on device")

        self.patch(segment_module.os, "pwritev", pwritev)

    def test_enospc(self) -> None:
        """ENOSPC mid-write: KAFKA_STORAGE_ERROR, file cut back, offsets unchanged."""
        size = os.path.getsize(self.log.segments()[-1].log_path)
        self._fail_writes(partial=True)
        with self.assertRaises(KafkaError) as e:
            self.log.append(make_batch())
        self.assertEqual(e.exception.code, ErrorCode.KAFKA_STORAGE_ERROR)
        self.assertEqual(os.path.getsize(self.log.segments()[-1].log_path), size)
        self.assertEqual(self.log.high_watermark, 9)
        self.assertEqual(self.read_all(self.log), self.stored)

    def test_recovers_after_error(self) -> None:
        """Once the disk has room again, appends continue at the same offset; other partitions work."""
        self._fail_writes(partial=False)
        with self.assertRaises(KafkaError):
            self.log.append(make_batch())
        self.patch(segment_module.os, "pwritev", _REAL_PWRITEV)
        self.assertEqual(self.log.append(make_batch()).base_offset, 9)
        self.assertEqual(self.topic.partitions[1].append(make_batch()).base_offset, 0)

    def test_short_writes_completed(self) -> None:
        """A short (but successful) write is continued until the batch is complete."""
        real = os.pwritev

        def short(fd: int, buffers: list, position: int) -> int:
            data = b"".join(bytes(b) for b in buffers)
            return real(fd, [data[:7]], position)

        self.patch(segment_module.os, "pwritev", short)
        batch = make_batch(2, tag=5)
        self.assertEqual(self.log.append(batch).base_offset, 9)
        self.assertEqual(self.log.read(9, 1), as_stored(batch, 9))

    def test_unrepairable_write_fails_partition(self) -> None:
        """If the torn write cannot be cut back either, the partition refuses appends; others go on."""
        self._fail_writes(partial=True)

        def ftruncate(fd: int, length: int) -> None:
            raise OSError(errno.EIO, "Input/output error")

        self.patch(segment_module.os, "ftruncate", ftruncate)
        with self.assertRaises(KafkaError):
            self.log.append(make_batch())
        self.patch(segment_module.os, "pwritev", _REAL_PWRITEV)
        with self.assertRaises(KafkaError) as e:
            self.log.append(make_batch())
        self.assertEqual(e.exception.code, ErrorCode.KAFKA_STORAGE_ERROR)
        self.assertEqual(self.topic.partitions[1].append(make_batch()).base_offset, 0)
