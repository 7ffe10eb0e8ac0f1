# -*- test-case-name: tests.groups.test_offset_log -*-
"""The durable log of committed offsets: one internal stream queue per vhost.

Every offset commit, offset deletion, group emptying and group deletion is
appended as one record batch to partition 0 of the vhost's
C{__consumer_offsets} stream queue (hidden from Metadata listings by its
C{__} prefix, never deleted by retention).  At start-up the log is replayed
into the groups table: later records override earlier ones, a C{None} value
(a tombstone) deletes.

Records (all integers big-endian; strings are a uint16 byte length and UTF-8)::

    offset key:   int8 0 (key version), int8 0 (offset), string group, string topic, int32 partition
    offset value: int8 0 (value version), int64 offset, int32 leader epoch,
                  int64 commit timestamp (ms), int64 expire timestamp (ms, -1: none),
                  16 bytes topic id, int32 metadata length, metadata (UTF-8)
    group key:    int8 0 (key version), int8 1 (group), string group
    group value:  int8 0 (value version), int64 empty since (ms, -1: had members),
                  string protocol type
    tombstone:    a record with a null value; a group tombstone also deletes
                  every offset of the group recorded before it

Compaction: once more records were appended since the last snapshot than
twice the live entries at that snapshot (and at least L{COMPACT_MIN_RECORDS}),
the live table is written again at the end of the log (a snapshot), and after
the store has synced it everything before the snapshot is deleted with
C{delete_records} (whole segments go).  Replaying a snapshot is replaying
ordinary records, so a crash at any point leaves a log that replays to the
right table.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING, Iterator, Sequence

from twisted.logger import Logger

from twisted_kafka.errors import ErrorCode, KafkaError
from twisted_kafka.groups.group import ClassicGroup, CommittedOffset
from twisted_kafka.records.batch import split_batches
from twisted_kafka.records.record import build_batch, iter_records
from twisted_kafka.store.interfaces import IOffsetsJournal, IStore, IVhost
from twisted_kafka.protocol.primitives import ZERO_UUID

if TYPE_CHECKING:
    from twisted.internet.defer import Deferred
    from twisted.internet.interfaces import IDelayedCall, IReactorTime
    from twisted.python.failure import Failure

#: The internal stream queue holding each vhost's committed offsets.
OFFSETS_TOPIC = "__consumer_offsets"
#: Its topic configs: kept forever (compaction is ours), small segments so
#: that compaction frees space, room for large commits.
OFFSETS_TOPIC_CONFIGS = {
    "retention.ms": "-1",
    "retention.bytes": "-1",
    "segment.bytes": str(16 << 20),
    "max.message.bytes": str(100 << 20),
}
#: Compact no more often than every this many appended records.
COMPACT_MIN_RECORDS = 1000
#: Records per batch when writing a snapshot.
SNAPSHOT_BATCH_RECORDS = 500
#: Bytes read per step while replaying.
REPLAY_READ_BYTES = 1 << 20
#: The most a batch of this log may decompress to (it is never compressed).
_MAX_DECOMPRESSED = 256 << 20

_KEY_HEAD = struct.Struct(">bb")
_STR_LEN = struct.Struct(">H")
_INT32 = struct.Struct(">i")
_OFFSET_VALUE = struct.Struct(">bqiqq16si")
_GROUP_VALUE = struct.Struct(">bq")
_OFFSET_KIND, _GROUP_KIND = 0, 1

Record = tuple[bytes, "bytes | None"]


class LogFormatError(ValueError):
    """A record of the offsets log that this version cannot read."""


def _string(value: str) -> bytes:
    data = value.encode("utf-8")
    return _STR_LEN.pack(len(data)) + data


def _read_string(buf: bytes, pos: int) -> tuple[str, int]:
    (length,) = _STR_LEN.unpack_from(buf, pos)
    pos += 2
    end = pos + length
    if end > len(buf):
        raise LogFormatError("string runs past the end of the record")
    return buf[pos:end].decode("utf-8"), end


def offset_key(group_id: str, topic: str, partition: int) -> bytes:
    """The record key of one committed offset."""
    return b"".join((_KEY_HEAD.pack(0, _OFFSET_KIND), _string(group_id), _string(topic),
                     _INT32.pack(partition)))


def offset_value(committed: CommittedOffset) -> bytes:
    """The record value of one committed offset."""
    metadata = committed.metadata.encode("utf-8")
    return _OFFSET_VALUE.pack(
        0, committed.offset, committed.leader_epoch, committed.commit_timestamp,
        committed.expire_timestamp, committed.topic_id or ZERO_UUID, len(metadata)) + metadata


def group_key(group_id: str) -> bytes:
    """The record key of a group."""
    return _KEY_HEAD.pack(0, _GROUP_KIND) + _string(group_id)


def group_value(group: ClassicGroup) -> bytes:
    """The record value of a group: since when it is empty, and its protocol type."""
    return _GROUP_VALUE.pack(0, group.empty_since) + _string(group.protocol_type or "")


def apply_record(groups: dict[str, ClassicGroup], key: bytes, value: bytes | None,
                 now_ms: int) -> None:
    """Replay one record into C{groups}.

    @raise LogFormatError: for a record this version cannot read.
    """
    try:
        version, kind = _KEY_HEAD.unpack_from(key, 0)
        if version != 0:
            raise LogFormatError(f"unknown key version {version}")
        group_id, pos = _read_string(key, 2)
        if kind == _OFFSET_KIND:
            topic, pos = _read_string(key, pos)
            (partition,) = _INT32.unpack_from(key, pos)
            if value is None:
                group = groups.get(group_id)
                if group is not None:
                    group.offsets.pop((topic, partition), None)
                return
            (value_version, offset, epoch, committed_at, expire, topic_id,
             length) = _OFFSET_VALUE.unpack_from(value, 0)
            if value_version != 0:
                raise LogFormatError(f"unknown offset value version {value_version}")
            start = _OFFSET_VALUE.size
            if start + length > len(value):
                raise LogFormatError("metadata runs past the end of the record")
            metadata = value[start:start + length].decode("utf-8")
            group = _replayed_group(groups, group_id, now_ms)
            group.offsets[(topic, partition)] = CommittedOffset(
                offset, epoch, metadata, committed_at, expire,
                b"" if topic_id == ZERO_UUID else topic_id)
        elif kind == _GROUP_KIND:
            if value is None:
                groups.pop(group_id, None)
                return
            value_version, empty_since = _GROUP_VALUE.unpack_from(value, 0)
            if value_version != 0:
                raise LogFormatError(f"unknown group value version {value_version}")
            protocol_type, _ = _read_string(value, _GROUP_VALUE.size)
            group = _replayed_group(groups, group_id, now_ms)
            group.protocol_type = protocol_type or None
            group.empty_since = empty_since
        else:
            raise LogFormatError(f"unknown record kind {kind}")
    except (struct.error, UnicodeDecodeError) as e:
        raise LogFormatError(f"malformed record: {e}") from None


def _replayed_group(groups: dict[str, ClassicGroup], group_id: str, now_ms: int) -> ClassicGroup:
    group = groups.get(group_id)
    if group is None:
        group = groups[group_id] = ClassicGroup(group_id, now_ms)
        group.persisted = True
    return group


class OffsetLog:
    """Appends group and offset changes to the offsets stream queue; replays and compacts it.

    @ivar partition: the stream queue partition it journals to.
    """

    log = Logger()

    def __init__(self, partition: IOffsetsJournal, store: IStore, clock: IReactorTime,
                 groups: dict[str, ClassicGroup]) -> None:
        self.partition = partition
        self.store = store
        self.clock = clock
        self.groups = groups
        self._since_snapshot = 0
        self._live_at_snapshot = 0
        self._compaction: IDelayedCall | None = None
        self._compacting = False
        self.closed = False

    def now_ms(self) -> int:
        """Return the clock's time in milliseconds."""
        return int(self.clock.seconds() * 1000)

    # -- appending -------------------------------------------------------------

    def _append(self, records: list[Record]) -> None:
        now = self.now_ms()
        batch = build_batch([(key, value, [], now) for key, value in records])
        self.partition.append(batch)
        self._since_snapshot += len(records)
        self.maybe_compact()

    def maybe_compact(self) -> None:
        """Schedule a compaction if enough was appended since the last snapshot."""
        if (not self._compacting and self._compaction is None and not self.closed
                and self._since_snapshot >= max(COMPACT_MIN_RECORDS, 2 * self._live_at_snapshot)):
            self._compaction = self.clock.callLater(0, self.compact)

    def offsets_changed(self, group: ClassicGroup,
                        changes: Sequence[tuple[str, int, CommittedOffset | None]]) -> None:
        """Append C{changes} to C{group}'s offsets.

        @raise KafkaError: when the store cannot append.
        """
        group_id = group.group_id
        self._append([(offset_key(group_id, topic, partition),
                       None if committed is None else offset_value(committed))
                      for topic, partition, committed in changes])
        group.persisted = True

    def group_changed(self, group: ClassicGroup) -> None:
        """Record that C{group} became empty or got members (its protocol type too)."""
        if group.protocol_type is None:
            return
        try:
            self._append([(group_key(group.group_id), group_value(group))])
            group.persisted = True
        except KafkaError as e:
            self.log.error("Cannot record the state of group {group}: {error}",
                           group=group.group_id, error=e)

    def group_deleted(self, group_id: str) -> None:
        """Record that the group and all its offsets are gone."""
        try:
            self._append([(group_key(group_id), None)])
        except KafkaError as e:
            self.log.error("Cannot record the deletion of group {group}: {error}",
                           group=group_id, error=e)

    # -- replay ----------------------------------------------------------------

    def replay(self) -> int:
        """Rebuild C{groups} from the log; return the number of records read.

        Groups come back Empty; a group that had members when the log ends
        counts as empty from now on.  Records that cannot be read are logged
        and skipped.
        """
        partition = self.partition
        now = self.now_ms()
        position = partition.log_start_offset
        end = partition.high_watermark
        count = 0
        while position < end:
            data = partition.read(position, REPLAY_READ_BYTES)
            if not data:
                break
            try:
                batches = split_batches(data)
            except KafkaError as e:
                self.log.error("Offsets log {partition}: unreadable batch at offset {offset} "
                               "({error}); offsets after it are lost",
                               partition=partition, offset=position, error=e)
                break
            with memoryview(data) as view:
                for start, stop, header in batches:
                    if header.next_offset <= position:
                        continue
                    for record in iter_records(view[start:stop], header, _MAX_DECOMPRESSED):
                        if record.offset < position or record.key is None:
                            continue
                        try:
                            apply_record(self.groups, record.key, record.value, now)
                        except LogFormatError as e:
                            self.log.warn("Offsets log {partition}: skipping record at offset "
                                          "{offset}: {error}", partition=partition,
                                          offset=record.offset, error=e)
                        count += 1
                    position = header.next_offset
        for group in self.groups.values():
            if group.empty_since < 0:
                group.empty_since = now
        self._since_snapshot = count
        self._live_at_snapshot = 0
        return count

    # -- compaction ------------------------------------------------------------

    def live_records(self) -> Iterator[Record]:
        """Yield a record for every live group state and committed offset."""
        for group in list(self.groups.values()):
            group_id = group.group_id
            if group.protocol_type is not None:
                yield group_key(group_id), group_value(group)
            for (topic, partition), committed in group.offsets.items():
                yield offset_key(group_id, topic, partition), offset_value(committed)

    def compact(self) -> Deferred[None] | None:
        """Write a snapshot of the live table, then delete everything before it once synced.

        @return: a Deferred firing when done (C{None} if compaction is
            already running or the log is closed).
        """
        self._compaction = None
        if self._compacting or self.closed:
            return None
        self._compacting = True
        partition = self.partition
        start = partition.high_watermark
        written = 0
        batch: list[Record] = []
        try:
            for record in self.live_records():
                batch.append(record)
                if len(batch) >= SNAPSHOT_BATCH_RECORDS:
                    self._append_snapshot(batch)
                    written += len(batch)
                    batch = []
            if batch:
                self._append_snapshot(batch)
                written += len(batch)
        except KafkaError as e:
            self._compacting = False
            self.log.error("Offsets log {partition}: snapshot failed: {error}",
                           partition=partition, error=e)
            return None
        self._since_snapshot = 0
        self._live_at_snapshot = written

        def synced(_: object) -> None:
            if not self.closed:
                new_start = partition.delete_records(start)
                self.log.info("Offsets log {partition}: compacted to {count} records "
                              "from offset {start}", partition=partition, count=written,
                              start=new_start)

        def failed(failure: Failure) -> None:
            self.log.failure("Offsets log {partition}: compaction failed", failure,
                             partition=partition)

        def done(_: object) -> None:
            self._compacting = False

        d = self.store.sync()
        d.addCallback(synced)
        d.addErrback(failed)
        d.addBoth(done)
        return d

    def _append_snapshot(self, records: list[Record]) -> None:
        batch = build_batch([(key, value, [], self.now_ms()) for key, value in records])
        self.partition.append(batch)

    def close(self) -> None:
        """Stop compacting (the store is about to stop)."""
        self.closed = True
        if self._compaction is not None and self._compaction.active():
            self._compaction.cancel()
        self._compaction = None


def open_offsets_partition(vhost: IVhost) -> IOffsetsJournal:
    """Return partition 0 of C{vhost}'s offsets stream queue, creating it if needed.

    @raise KafkaError: when it cannot be created.
    """
    topic = vhost.topic(OFFSETS_TOPIC)
    if topic is None:
        topic = vhost.create_topic(OFFSETS_TOPIC, 1, dict(OFFSETS_TOPIC_CONFIGS))
    else:
        wrong = {k: v for k, v in OFFSETS_TOPIC_CONFIGS.items() if topic.configs.get(k) != v}
        if wrong:
            topic.set_configs(wrong)
    if not topic.partitions:
        raise KafkaError(ErrorCode.COORDINATOR_NOT_AVAILABLE,
                         f"{OFFSETS_TOPIC} has no partition")
    return topic.partitions[0]
