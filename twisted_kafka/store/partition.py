# -*- test-case-name: tests.store.test_partition -*-
"""One stream queue: the segmented, offset-addressed log of a topic partition.

L{PartitionLog} owns the segments of one C{<topic>-<partition>} directory.
Appends assign offsets and write one RecordBatch with one positioned write to
the active segment (rolling to a new one by size or age first); reads return
whole stored batches; retention and DeleteRecords drop whole sealed segments
from the head and move the log start offset.
"""

from __future__ import annotations

import os
from bisect import bisect_right
from collections.abc import Callable
from typing import TYPE_CHECKING

from twisted.logger import Logger

from twisted_kafka.errors import ErrorCode, KafkaError
from twisted_kafka.protocol.file_records import FileRecords
from twisted_kafka.records.batch import CODEC_MASK, CONTROL_MASK, set_log_append_time
from twisted_kafka.records.compression import CODEC_NAMES, CODEC_NONE, DecompressedTooLarge
from twisted_kafka.records.recompress import recompress
from twisted_kafka.store import metafile
from twisted_kafka.store.batch_header import HEADER, HEADER_SIZE, LOG_OVERHEAD, MAGIC_V2
from twisted_kafka.store.interfaces import Appended, Buffer
from twisted_kafka.store.producers import ProducerStateTable
from twisted_kafka.store.recovery import (
    DELETED_SUFFIX,
    LOG_START_FILE,
    RECOVERY_POINT_FILE,
    SNAPSHOTS_TO_KEEP,
    PartitionLoader,
    snapshot_path,
)
from twisted_kafka.store.cleaner import CleanerCheckpoint
from twisted_kafka.store.runtime import StoreRuntime
from twisted_kafka.store.segment import Segment
from twisted_kafka.store.slices import SlicedTask

if TYPE_CHECKING:
    from twisted_kafka.records.batch import BatchHeader
    from twisted_kafka.store.topic import TopicLog
    from twisted_kafka.store.topic_configs import TopicSettings

INT32_MAX = 2**31 - 1

#: The C{message.timestamp.type} under which the store stamps each batch.
LOG_APPEND_TIME = "LogAppendTime"

#: The most bytes a batch's records may decompress to when the store
#: recompresses them. Produce has decompressed them within its own, smaller,
#: budget (C{[kafka] max_decompressed_bytes}); this bounds any other caller.
MAX_RECOMPRESSED_RECORDS = 1 << 31

#: Segments deleted per retention step before yielding to the reactor.
MAX_DELETIONS_PER_STEP = 32

_unpack_header = HEADER.unpack_from


class PartitionLog:
    """One stream queue (a topic partition's log).

    @ivar topic: the owning topic.
    @ivar index: the partition number.
    @ivar directory: its C{<topic>-<partition>} directory.
    @ivar log_start_offset: the first offset that can be read.
    @ivar high_watermark: the next offset to be assigned.
    @ivar settings: the topic's settings in force (the topic replaces them
        through L{apply_settings}).
    """

    log = Logger()

    def __init__(
        self,
        topic: TopicLog,
        index: int,
        directory: str,
        runtime: StoreRuntime,
        settings: TopicSettings,
        clean: bool = True,
    ) -> None:
        """Open (and recover if needed) the partition stored in C{directory}, creating it if missing."""
        self.topic = topic
        self.settings = settings
        self.index = index
        self.directory = directory
        self._runtime = runtime
        self._commit = runtime.commit
        self._dirty = runtime.commit.dirty
        self._seconds = runtime.clock.seconds
        loaded = PartitionLoader(
            directory, clean, settings.index_interval_bytes, runtime.now_ms(), runtime.durable, runtime.open_files
        ).load()
        self._segments: list[Segment] = loaded.segments
        for segment in self._segments:
            segment.clock = runtime.clock  # from now on index rebuilds run in slices
        self._bases: list[int] = [s.base_offset for s in self._segments]
        self._active: Segment = self._segments[-1]
        self._sealed_bytes = sum(s.size for s in self._segments[:-1])
        self.log_start_offset: int = loaded.log_start_offset
        self.high_watermark: int = self._active.next_offset
        self._producers: ProducerStateTable = loaded.producers
        self._watchers: list[Callable[[], None]] = []
        #: why appends are refused (a failed write that could not be undone, or deletion)
        self._failed: KafkaError | None = None
        self._closed = False
        #: retention work left over from L{trim_head}, continued in later reactor turns
        self._trim = SlicedTask(runtime.clock, self._trim_step)
        self._cleaner_checkpoint: CleanerCheckpoint | None = None
        #: bytes and offsets appended, and bytes read, since the store opened
        #: the partition (the metrics endpoint sums them per topic)
        self.bytes_in = 0
        self.records_in = 0
        self.bytes_out = 0

    def __repr__(self) -> str:
        return f"<PartitionLog {self.topic.name}-{self.index} [{self.log_start_offset}, {self.high_watermark})>"

    @property
    def requires_keys(self) -> bool:
        """Whether every appended record needs a key: the topic is compacted (C{cleanup.policy})."""
        return self.settings.compact

    def timestamp_bounds(self) -> tuple[int, int] | None:
        """The range C{(earliest, latest)} a produced record's timestamp must be in now.

        C{now - message.timestamp.before.max.ms} to C{now +
        message.timestamp.after.max.ms}, C{now} in milliseconds by the store
        clock (as Kafka's C{LogValidator} compares with the broker's time);
        C{None} for a C{LogAppendTime} topic (the store stamps its batches)
        or when both are C{Long.MAX_VALUE}.
        """
        settings = self.settings
        if not settings.timestamps_checked:
            return None
        now = int(self._seconds() * 1000)
        return now - settings.timestamp_before_max_ms, now + settings.timestamp_after_max_ms

    # -- append --------------------------------------------------------------

    def append(self, batch: Buffer, header: BatchHeader | None = None) -> Appended:
        """Accept one RecordBatch v2 under the topic's rules and append it.

        The caller has validated the batch (CRC, codec, ...) and passes the
        header it parsed doing so (or none: then it is read here). The store
        owns acceptance: it applies C{max.message.bytes}; on a topic whose
        C{compression.type} names a codec other than the batch's, it
        recompresses the batch (L{twisted_kafka.records.recompress}) and
        applies C{max.message.bytes} again to the result, as Kafka does; on a
        C{LogAppendTime} topic, it stamps the batch with the store clock's
        time (on a copy: C{batch} is never changed). Its baseOffset
        field is replaced by the next offset and the bytes are stored as
        they are. All or nothing: if the write fails the log is unchanged
        and C{KafkaError(KAFKA_STORAGE_ERROR)} is raised. For idempotent
        producers a retry of one of the last five batches returns its
        original base offset and stores nothing.

        @return: the base offset, and the LogAppendTime stamped (or -1).

        @raise KafkaError: C{CORRUPT_MESSAGE} (not a single v2 batch),
            C{MESSAGE_TOO_LARGE}, C{KAFKA_STORAGE_ERROR}, or a producer
            state error (see L{twisted_kafka.store.producers}).
        """
        n = len(batch)
        fields: tuple[int, ...]
        if header is None:
            if n < HEADER_SIZE:
                raise KafkaError(ErrorCode.CORRUPT_MESSAGE, f"record batch of {n} bytes is shorter than its header")
            fields = _unpack_header(batch)
        else:
            fields = header
        (_, length, _, magic, _, attributes, delta, _, max_ts, producer_id, epoch, base_seq, _) = fields
        if magic != MAGIC_V2 or length + LOG_OVERHEAD != n or delta < 0:
            raise KafkaError(ErrorCode.CORRUPT_MESSAGE, "not a single record batch v2")
        settings = self.settings
        if n > settings.max_message_bytes:
            raise KafkaError(
                ErrorCode.MESSAGE_TOO_LARGE,
                f"record batch of {n} bytes exceeds max.message.bytes {settings.max_message_bytes}"
                f" of topic {self.topic.name!r}",
            )
        if self._failed is not None:
            raise KafkaError(self._failed.code, self._failed.message)
        owned = False
        codec = settings.compression_codec
        if codec is not None and codec != attributes & CODEC_MASK and not attributes & CONTROL_MASK:
            batch = self._recompressed(batch, codec)
            n = len(batch)
            owned = True
        log_append_time = -1
        if settings.message_timestamp_type == LOG_APPEND_TIME:
            log_append_time = max_ts = int(self._seconds() * 1000)
        if producer_id >= 0:
            duplicate = self._producers.check(producer_id, epoch, base_seq, delta)
            if duplicate is not None:
                return Appended(duplicate, log_append_time)
        if log_append_time >= 0:
            stamped = batch if owned and isinstance(batch, bytearray) else bytearray(batch)
            set_log_append_time(stamped, 0, log_append_time)
            batch = stamped
        segment = self._active
        offset = self.high_watermark
        if segment.size:
            if (
                segment.size + n > settings.segment_bytes
                or self._seconds() * 1000.0 - segment.rolling_base_ms > settings.segment_ms  # type: ignore[operator]
                or offset + delta - segment.base_offset > INT32_MAX
            ):
                segment = self._roll()
        else:
            segment.rolling_base_ms = int(self._seconds() * 1000)
        try:
            segment.append(batch, offset, delta, max_ts, settings.index_interval_bytes)
        except OSError as e:
            self._commit.stats.append_failures += 1
            if segment.broken:
                message = f"log of {self.topic.name}-{self.index} is unusable after a failed write: {e}"
                self._failed = KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, message)
                self.log.error("{message}", message=message)
            raise KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, f"append failed: {e.strerror or e}") from None
        self.high_watermark = offset + delta + 1
        self.bytes_in += n
        self.records_in += delta + 1
        self._dirty.add(segment)
        if producer_id >= 0:
            self._producers.record(producer_id, epoch, base_seq, delta, offset, max_ts)
        if self._watchers:
            for callback in tuple(self._watchers):
                callback()
        return Appended(offset, log_append_time)

    def _recompressed(self, batch: Buffer, codec: int) -> bytearray:
        """C{batch} recompressed with C{codec} (the topic's C{compression.type}), within C{max.message.bytes}.

        @raise KafkaError: C{MESSAGE_TOO_LARGE} if the result exceeds
            C{max.message.bytes} (Kafka's C{RecordTooLargeException} after
            its C{LogValidator} rebuilt the batch).
        """
        limit = self.settings.max_message_bytes
        try:
            out = recompress(batch, codec, self.settings.compression_level,
                             limit - HEADER_SIZE if codec == CODEC_NONE else MAX_RECOMPRESSED_RECORDS)
        except DecompressedTooLarge:
            if codec != CODEC_NONE:
                raise
            raise KafkaError(
                ErrorCode.MESSAGE_TOO_LARGE,
                f"record batch stored uncompressed would exceed max.message.bytes {limit}"
                f" of topic {self.topic.name!r}",
            ) from None
        if len(out) > limit:
            raise KafkaError(
                ErrorCode.MESSAGE_TOO_LARGE,
                f"record batch of {len(out)} bytes once recompressed with {CODEC_NAMES[codec]}"
                f" exceeds max.message.bytes {limit} of topic {self.topic.name!r}",
            )
        return out

    def _roll(self) -> Segment:
        """Seal the active segment and start a new one at the high watermark."""
        old = self._active
        try:
            new = Segment.create(self.directory, old.next_offset, self.settings.index_interval_bytes)
        except OSError as e:
            raise KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, f"cannot create a new segment: {e.strerror or e}") from None
        new.rolling_base_ms = self._runtime.now_ms()
        new.clock = self._runtime.clock
        try:
            old.write_indexes()
            old.drop_indexes()
            self._write_snapshot(new.base_offset, durable=False)
        except OSError as e:
            self.log.warn("Could not write indexes of {path}: {error}", path=old.log_path, error=e)
        old.seal(self._runtime.open_files)
        self._segments.append(new)
        self._bases.append(new.base_offset)
        self._sealed_bytes += old.size
        self._active = new
        commit = self._commit
        self._dirty.add(old)
        commit.dirty_paths.update(
            (old.index_path, old.time_index_path, snapshot_path(self.directory, new.base_offset), self.directory)
        )
        commit.after_round(lambda: self._write_recovery_point(new.base_offset))
        commit.request_round()
        return new

    def roll(self) -> None:
        """Seal the active segment now if it holds anything (tests, age-based roll)."""
        if self._active.size:
            self._roll()

    # -- read ----------------------------------------------------------------

    def read(self, offset: int, max_bytes: int, min_one: bool = True) -> bytes:
        """Whole stored batches starting with the one that contains C{offset}.

        The first batch is returned in full even if larger than
        C{max_bytes} (with C{min_one=False}, nothing is read and C{b""} is
        returned instead: the later partitions of a Fetch, which must stay
        within the request's limits); more whole batches follow while the total stays
        within C{max_bytes}. Reads stay within one segment. An offset in a
        hole (offsets lost to damage of an fsynced segment, see
        L{twisted_kafka.store.recovery}) reads from the next batch after it.

        @return: C{b""} at the high watermark.
        @raise KafkaError: C{OFFSET_OUT_OF_RANGE} below the log start offset
            or above the high watermark.
        """
        data = self._read(offset, max_bytes, min_one, False)
        assert isinstance(data, bytes)
        return data

    def read_file_records(self, offset: int, max_bytes: int,
                          min_one: bool = True) -> bytes | FileRecords:
        """The batches L{read} returns; 64 KiB or more of them as a range of the segment file.

        A L{FileRecords} holds its own descriptor: it stays readable whatever
        happens to the segment before it is sent (its sender closes it).
        """
        return self._read(offset, max_bytes, min_one, True)

    def _read(self, offset: int, max_bytes: int, min_one: bool,
              file_records: bool) -> bytes | FileRecords:
        """L{read}, or L{read_file_records} if C{file_records}."""
        if self._closed:
            raise KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, f"{self.topic.name}-{self.index} is closed")
        if offset == self.high_watermark:
            return b""
        if offset < self.log_start_offset or offset > self.high_watermark:
            raise KafkaError(
                ErrorCode.OFFSET_OUT_OF_RANGE,
                f"offset {offset} is outside [{self.log_start_offset}, {self.high_watermark}]",
            )
        i = bisect_right(self._bases, offset) - 1
        segment = self._segments[i]
        segment.touch()
        try:
            read = segment.read_file_records if file_records else segment.read
            data = read(offset, max_bytes, min_one)
            while not data and offset >= segment.next_offset and i + 1 < len(self._segments):
                # a hole left by damage to an fsynced segment: continue with the next batch, as Kafka does
                i += 1
                segment = self._segments[i]
                segment.touch()
                read = segment.read_file_records if file_records else segment.read
                data = read(segment.base_offset, max_bytes, min_one)
            self.bytes_out += len(data)
            return data
        except OSError as e:
            self._commit.stats.read_failures += 1
            raise KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, f"read failed: {e.strerror or e}") from None

    def offset_for_timestamp(self, timestamp_ms: int) -> tuple[int, int] | None:
        """C{(base offset, maxTimestamp)} of the first batch whose maxTimestamp is >= C{timestamp_ms}."""
        for segment in self._segments:
            if segment.next_offset <= self.log_start_offset or segment.max_timestamp < timestamp_ms:
                continue
            found = segment.find_timestamp(timestamp_ms, self.log_start_offset)
            if found is not None:
                return found
        return None

    def max_timestamp(self) -> tuple[int, int] | None:
        """C{(base offset, timestamp)} of the batch holding the largest timestamp, or C{None}."""
        best: tuple[int, int] | None = None
        for segment in self._segments:
            if segment.size == 0 or segment.max_timestamp < 0 or segment.next_offset <= self.log_start_offset:
                continue
            if best is None or segment.max_timestamp > best[1]:
                best = (max(segment.offset_of_max_timestamp, self.log_start_offset), segment.max_timestamp)
        return best

    def watch(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call C{callback()} after every append; returns a function that stops that."""
        self._watchers.append(callback)

        def unsubscribe() -> None:
            try:
                self._watchers.remove(callback)
            except ValueError:
                pass

        return unsubscribe

    def size_bytes(self) -> int:
        """Bytes of stored batches in all segments."""
        return self._sealed_bytes + self._active.size

    def segments(self) -> list[Segment]:
        """The segments, oldest first (the last one is active)."""
        return list(self._segments)

    # -- head truncation -----------------------------------------------------

    def delete_records(self, before_offset: int) -> int:
        """Move the log start offset to C{before_offset} (-1: the high watermark).

        Whole segments below it are deleted; the new start is persisted first.

        @return: the new log start offset.
        @raise KafkaError: C{OFFSET_OUT_OF_RANGE} beyond the high watermark.
        """
        if before_offset == -1:
            before_offset = self.high_watermark
        if before_offset < 0 or before_offset > self.high_watermark:
            raise KafkaError(
                ErrorCode.OFFSET_OUT_OF_RANGE,
                f"cannot delete records before {before_offset}: the high watermark is {self.high_watermark}",
            )
        if before_offset <= self.log_start_offset:
            return self.log_start_offset
        try:
            metafile.write(
                os.path.join(self.directory, LOG_START_FILE),
                LOG_START_FILE,
                {"offset": before_offset},
                durable=self._runtime.durable,
            )
        except OSError as e:
            raise KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, f"cannot persist the log start offset: {e}") from None
        self.log_start_offset = before_offset
        self._producers.evict_before(before_offset)
        self.trim_head()
        return before_offset

    def _delete_head(self, why: str) -> None:
        """Delete the oldest (sealed) segment and move the log start past it."""
        segment = self._segments.pop(0)
        self._bases.pop(0)
        segment.stop_rebuild()
        self._sealed_bytes -= segment.size
        self.log_start_offset = max(self.log_start_offset, self._segments[0].base_offset)
        self._dirty.discard(segment)
        stats = self._commit.stats
        stats.retention_segments += 1
        stats.retention_bytes += segment.size
        self._commit.close_fd(segment.detach_fd())
        self.log.info(
            "Deleting segment {path} ({why}); log start offset now {start}",
            path=segment.log_path,
            why=why,
            start=self.log_start_offset,
        )
        doomed = segment.log_path + DELETED_SUFFIX
        try:
            os.rename(segment.log_path, doomed)
            for path in (segment.index_path, segment.time_index_path):
                try:
                    os.unlink(path)
                except FileNotFoundError:
                    pass
        except OSError as e:
            self.log.warn("Could not delete {path}: {error}", path=segment.log_path, error=e)
            return
        self._commit.dirty_paths.add(self.directory)
        self._runtime.in_background(_unlink_quietly, doomed)

    # -- retention -----------------------------------------------------------

    def apply_retention(self, now_ms: int, limit: int = MAX_DELETIONS_PER_STEP) -> int:
        """Roll an old active segment, then delete up to C{limit} sealed segments past retention.

        A sealed segment at the head goes while it lies wholly below the log
        start offset or, when C{cleanup.policy} has C{delete}, is older than
        C{retention.ms} or the partition without it is still at least
        C{retention.bytes}.

        @return: how many segments were deleted (C{limit}: call again).
        """
        if self._closed:
            return 0
        active = self._active
        if (
            active.size
            and active.rolling_base_ms is not None
            and now_ms - active.rolling_base_ms > self.settings.segment_ms
        ):
            try:
                self._roll()
            except KafkaError as e:
                self.log.warn("Age-based roll failed: {error}", error=e)
        deleted = 0
        while deleted < limit:
            reason = self._retention_reason(now_ms)
            if reason is None:
                break
            self._delete_head(reason)
            deleted += 1
        if deleted:
            self._producers.evict_before(self.log_start_offset)
        self._producers.expire(now_ms, self._runtime.config.producer_id_expiration_ms)
        return deleted

    def _retention_reason(self, now_ms: int) -> str | None:
        """Why the oldest segment must go, or C{None} (never the active one)."""
        segments = self._segments
        if len(segments) < 2:
            return None
        head = segments[0]
        settings = self.settings
        if segments[1].base_offset <= self.log_start_offset:
            return "below the log start offset"
        if not settings.delete:
            return None  # cleanup.policy=compact: only the cleaner removes records
        if settings.retention_ms >= 0 and now_ms - _largest_timestamp(head) > settings.retention_ms:
            return f"older than retention.ms={settings.retention_ms}"
        if settings.retention_bytes >= 0 and self.size_bytes() - head.size >= settings.retention_bytes:
            return f"partition larger than retention.bytes={settings.retention_bytes}"
        return None

    def apply_settings(self, settings: TopicSettings) -> None:
        """Apply the topic's new settings from the next append on, and retention at once."""
        self.settings = settings
        self.trim_head()

    def trim_head(self) -> None:
        """Apply retention now, continuing in later reactor turns if there is much to delete."""
        self._trim.run_now()

    def _trim_step(self) -> bool:
        """One slice of L{trim_head}: C{True} while segments may be left to delete."""
        return self.apply_retention(self._runtime.now_ms()) >= MAX_DELETIONS_PER_STEP

    # -- compaction (see twisted_kafka.store.cleaner) -------------------------

    @property
    def cleaner_checkpoint(self) -> CleanerCheckpoint:
        """What the log cleaner has done here (read from the directory on first use)."""
        checkpoint = self._cleaner_checkpoint
        if checkpoint is None:
            checkpoint = self._cleaner_checkpoint = CleanerCheckpoint.load(self.directory)
        return checkpoint

    def cleanable_segments(self, now_ms: int) -> list[Segment]:
        """The sealed segments the cleaner may rewrite now, oldest first.

        From the log start up to (not including) the first segment holding a
        record newer than C{min.compaction.lag.ms}; never the active segment.
        """
        if self._closed:
            return []
        lag = self.settings.min_compaction_lag_ms
        found = []
        for segment in self._segments[:-1]:
            if segment.next_offset <= self.log_start_offset:
                continue
            if lag > 0 and _largest_timestamp(segment) > now_ms - lag:
                break
            found.append(segment)
        return found

    def cleaning_need(self, now_ms: int) -> float | None:
        """The dirty ratio if the cleaner should clean this partition now, else C{None}.

        It should once the ratio reaches C{min.cleanable.dirty.ratio}, or the
        first dirty segment's first batch is older than C{max.compaction.lag.ms}.
        """
        segments = self.cleanable_segments(now_ms)
        first_dirty = max(self.cleaner_checkpoint.first_dirty, self.log_start_offset)
        clean = dirty = 0
        oldest: Segment | None = None
        for segment in segments:
            if segment.next_offset <= first_dirty:
                clean += segment.size
            else:
                dirty += segment.size
                oldest = oldest or segment
        if oldest is None or not dirty:
            return None
        ratio = dirty / (clean + dirty)
        if ratio >= self.settings.min_cleanable_dirty_ratio:
            return ratio
        first = oldest.first_timestamp()
        if first is not None and first >= 0 and now_ms - first > self.settings.max_compaction_lag_ms:
            return ratio
        return None

    def last_producer_batches(self) -> set[int]:
        """The base offsets of each producer id's last batch (the cleaner keeps them)."""
        return {entry.batches[-1][2] for entry in self._producers.producers.values() if entry.batches}

    def owns(self, segment: Segment) -> bool:
        """Whether C{segment} is still one of this open partition's segments."""
        return not self._closed and any(s is segment for s in self._segments)

    def swap_in(self, old: list[Segment], new: Segment) -> None:
        """Replace the consecutive sealed segments C{old} by their cleaned copy C{new} (files already swapped)."""
        first = next(i for i, s in enumerate(self._segments) if s is old[0])
        assert self._segments[first : first + len(old)] == old and first + len(old) < len(self._segments)
        for segment in old:
            segment.stop_rebuild()
            self._dirty.discard(segment)
            self._commit.close_fd(segment.detach_fd())
        self._sealed_bytes += new.size - sum(segment.size for segment in old)
        new.clock = self._runtime.clock
        new.seal(self._runtime.open_files)
        new.drop_indexes()
        self._segments[first : first + len(old)] = [new]
        self._bases[first : first + len(old)] = [new.base_offset]

    # -- checkpoints ---------------------------------------------------------

    def _write_recovery_point(self, offset: int) -> None:
        """Record that every segment below C{offset} is on disk (after an fsync round)."""
        if self._closed:
            return
        try:
            metafile.write(
                os.path.join(self.directory, RECOVERY_POINT_FILE), RECOVERY_POINT_FILE, {"offset": offset}, durable=False
            )
        except OSError as e:
            self.log.warn("Could not write the recovery point of {dir}: {error}", dir=self.directory, error=e)

    def _write_snapshot(self, offset: int, durable: bool) -> None:
        """Write the producer state as of C{offset} and drop older snapshots."""
        path = snapshot_path(self.directory, offset)
        metafile.write(
            path, "producer-snapshot", {"offset": offset, "producers": self._producers.to_json()}, durable=durable
        )
        names = sorted(n for n in os.listdir(self.directory) if n.endswith(".snapshot"))
        for name in names[:-SNAPSHOTS_TO_KEEP]:
            _unlink_quietly(os.path.join(self.directory, name))

    def close(self) -> None:
        """Write the active segment's indexes and the producer snapshot; close files.

        The caller fsyncs (L{GroupCommit.flush_now}) before the clean-shutdown marker.
        """
        if self._closed:
            return
        self._closed = True
        active = self._active
        try:
            active.write_indexes()
            self._write_snapshot(self.high_watermark, durable=False)
            self._commit.dirty_paths.update(
                (active.index_path, active.time_index_path, snapshot_path(self.directory, self.high_watermark), self.directory)
            )
        except OSError as e:
            self.log.warn("Could not write indexes of {path}: {error}", path=active.log_path, error=e)
        self._dirty.add(active)

    def release(self) -> None:
        """Close every open file (after L{close} and the final fsync, or for a deleted topic).

        Later appends and reads fail with C{UNKNOWN_TOPIC_OR_PARTITION}.
        """
        self._closed = True
        self._failed = KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, f"{self.topic.name}-{self.index} is closed")
        self._trim.stop()
        for segment in self._segments:
            segment.stop_rebuild()
            self._dirty.discard(segment)
            self._commit.close_fd(segment.detach_fd())
        self._watchers.clear()


def _largest_timestamp(segment: Segment) -> int:
    """The newest timestamp of a segment, or its file's mtime if it has none (as Kafka does)."""
    if segment.max_timestamp >= 0:
        return segment.max_timestamp
    try:
        return int(os.path.getmtime(segment.log_path) * 1000)
    except OSError:
        return 0


def _unlink_quietly(path: str) -> None:
    """Remove a file if it still exists."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
