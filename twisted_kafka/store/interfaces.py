# -*- test-case-name: tests.store.test_interfaces -*-
"""The store as the layers above it see it: one interface per role.

Responders (C{apis/}), the connection (C{server/}), the broker and the group
coordinator reach the store only through these interfaces:

    - L{IStore}: the store service (vhosts, the cluster id, producer ids,
      the group-committed fsync);
    - L{IVhost}: a namespace of topics (look up by name or id, create,
      delete);
    - L{ITopic}: a topic (its id, partitions, config overrides);
    - L{IOffsetsJournal}: the one partition operations an internal journal
      needs (append, replay, cut the head), as the group coordinator's
      offsets log uses them;
    - L{IPartitionLog}: a partition's stream queue as clients see it (an
      offsets journal plus offset lookups and watching appends).

The disk store (L{twisted_kafka.store.service.StreamStore},
L{twisted_kafka.store.vhost.VhostStore}, L{twisted_kafka.store.topic.TopicLog},
L{twisted_kafka.store.partition.PartitionLog}) provides them; tests check
that with mypy (C{tests/store/test_interfaces.py}).

Why C{typing.Protocol} rather than zope C{Interface}: the seam is checked
statically, and a Protocol is what mypy checks natively - attribute types,
argument and return types, and structural conformance of the disk store and
of every test fake, without the implementer declaring anything and without
the C{mypy_zope} plugin's weaker checks (a zope C{Attribute} has no type, and
an C{implementer} declaration is trusted rather than verified). There is no
run-time adaptation or C{providedBy} query anywhere in the request path, which
is the one thing zope interfaces would add. Twisted's own interfaces (the
reactor's C{IReactorTime}) stay zope interfaces and are used as such.

Read-only members are declared as properties: a plain attribute of the
implementation satisfies them, and callers cannot assign through the seam.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, NamedTuple, Protocol

if TYPE_CHECKING:
    from twisted.internet.defer import Deferred

    from twisted_kafka.protocol.file_records import FileRecords
    from twisted_kafka.records.batch import BatchHeader
    from twisted_kafka.store.stats import StoreStats

__all__ = [
    "Buffer",
    "Appended",
    "IOffsetsJournal",
    "IPartitionLog",
    "ITopic",
    "IVhost",
    "IStore",
]

#: What an append takes: the bytes of one record batch, possibly a view into
#: a request frame (Produce passes a memoryview; nothing is copied for it).
Buffer = bytes | bytearray | memoryview


class Appended(NamedTuple):
    """What one accepted append reports back.

    @ivar base_offset: the offset given to the batch's first record (for a
        retried idempotent batch: the offset it got the first time).
    @ivar log_append_time_ms: the time the store stamped into the batch
        when its topic uses C{LogAppendTime}, else -1 (Produce answers it).
    """

    base_offset: int
    log_append_time_ms: int


class IOffsetsJournal(Protocol):
    """A partition used as a journal: append, replay from the start, cut the head.

    The group coordinator's offsets log (L{twisted_kafka.groups.offset_log})
    needs exactly this of its C{__consumer_offsets} partition.
    """

    @property
    def log_start_offset(self) -> int:
        """The first offset that can be read."""

    @property
    def high_watermark(self) -> int:
        """The next offset to be assigned."""

    def append(self, batch: Buffer, header: BatchHeader | None = None) -> Appended:
        """Append one RecordBatch v2; all or nothing.

        @param header: the batch's header as the records layer validated
            it; parsed from C{batch} when not given.
        @raise KafkaError: C{CORRUPT_MESSAGE}, C{MESSAGE_TOO_LARGE},
            C{KAFKA_STORAGE_ERROR} or a producer state error.
        """

    def read(self, offset: int, max_bytes: int, min_one: bool = True) -> bytes:
        """Whole stored batches from the one containing C{offset}.

        @raise KafkaError: C{OFFSET_OUT_OF_RANGE}, C{KAFKA_STORAGE_ERROR}.
        """

    def read_file_records(self, offset: int, max_bytes: int,
                          min_one: bool = True) -> bytes | FileRecords:
        """What L{read} returns, or for 64 KiB or more a range of the segment file.

        The caller owns a L{FileRecords} (its descriptor): send it or close it.

        @raise KafkaError: C{OFFSET_OUT_OF_RANGE}, C{KAFKA_STORAGE_ERROR}.
        """

    def delete_records(self, before_offset: int) -> int:
        """Move the log start offset to C{before_offset} (-1: the high watermark).

        @return: the new log start offset.
        @raise KafkaError: C{OFFSET_OUT_OF_RANGE}, C{KAFKA_STORAGE_ERROR}.
        """


class IPartitionLog(IOffsetsJournal, Protocol):
    """One partition's stream queue, as Produce, Fetch and ListOffsets use it."""

    @property
    def index(self) -> int:
        """The partition number."""

    @property
    def requires_keys(self) -> bool:
        """Whether every appended record needs a key (the topic is compacted)."""

    def timestamp_bounds(self) -> tuple[int, int] | None:
        """The range C{(earliest, latest)} a produced record's timestamp must be in now.

        From the topic's C{message.timestamp.before.max.ms} and
        C{message.timestamp.after.max.ms} around the store's clock; C{None}
        when no timestamp is checked (C{LogAppendTime}, or both unbounded).
        """

    def offset_for_timestamp(self, timestamp_ms: int) -> tuple[int, int] | None:
        """C{(base offset, maxTimestamp)} of the first batch with maxTimestamp >= C{timestamp_ms}."""

    def max_timestamp(self) -> tuple[int, int] | None:
        """C{(base offset, timestamp)} of the batch holding the largest timestamp."""

    def watch(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call C{callback()} after every append; return a function that stops that."""

    def size_bytes(self) -> int:
        """Bytes of stored batches in all the partition's segments."""

    @property
    def bytes_in(self) -> int:
        """Bytes appended since the store opened the partition."""

    @property
    def records_in(self) -> int:
        """Offsets appended since the store opened the partition."""

    @property
    def bytes_out(self) -> int:
        """Bytes read since the store opened the partition."""


class ITopic(Protocol):
    """A topic: its id, its partitions and its config overrides."""

    @property
    def name(self) -> str:
        """The topic name."""

    @property
    def topic_id(self) -> bytes:
        """16 raw bytes (a uuid4)."""

    @property
    def partitions(self) -> Sequence[IPartitionLog]:
        """The partitions, by index."""

    @property
    def num_partitions(self) -> int:
        """The partition count (for a validate-only topic: the count it would have)."""

    @property
    def configs(self) -> Mapping[str, str]:
        """The topic's config overrides (normalised strings)."""

    def config(self, key: str) -> str:
        """The effective value of topic config C{key} in Kafka's string form.

        @raise KafkaError: C{INVALID_CONFIG} for an unknown config.
        """

    def config_source(self, key: str) -> str:
        """C{"topic"} if the topic overrides C{key}, else C{"default"}."""

    def set_configs(self, configs: Mapping[str, str | None]) -> None:
        """Set (or, with C{None}, delete) overrides; persisted, effective at once.

        @raise KafkaError: C{INVALID_CONFIG}, C{KAFKA_STORAGE_ERROR}.
        """

    def add_partitions(self, total: int, validate_only: bool = False) -> None:
        """Grow the topic to C{total} partitions (with C{validate_only}: only check it could).

        @raise KafkaError: C{INVALID_PARTITIONS}, C{POLICY_VIOLATION} (the
            open-file budget), C{KAFKA_STORAGE_ERROR}.
        """


class IVhost(Protocol):
    """A namespace of topics."""

    @property
    def name(self) -> str:
        """The vhost name."""

    def topics(self) -> Sequence[ITopic]:
        """Every topic, sorted by name."""

    def topic(self, name: str) -> ITopic | None:
        """The topic called C{name}, if it exists."""

    def topic_by_id(self, topic_id: bytes) -> ITopic | None:
        """The topic with id C{topic_id} (16 raw bytes), if it exists."""

    def check_new_name(self, name: str) -> None:
        """Check that a topic called C{name} may be created: a legal name, not taken yet.

        @raise KafkaError: C{INVALID_TOPIC_EXCEPTION}, C{TOPIC_ALREADY_EXISTS}.
        """

    def create_topic(
        self,
        name: str,
        num_partitions: int,
        configs: Mapping[str, str] | None = None,
        validate_only: bool = False,
    ) -> ITopic:
        """Create a topic with C{num_partitions} partitions (-1: the store default).

        @raise KafkaError: C{INVALID_TOPIC_EXCEPTION}, C{TOPIC_ALREADY_EXISTS},
            C{INVALID_PARTITIONS}, C{INVALID_CONFIG}, C{POLICY_VIOLATION} (the
            open-file budget), C{KAFKA_STORAGE_ERROR}.
        """

    def delete_topic(self, name: str) -> None:
        """Delete a topic and all its data.

        @raise KafkaError: C{UNKNOWN_TOPIC_OR_PARTITION}, C{KAFKA_STORAGE_ERROR}.
        """


class IStore(Protocol):
    """The stream-queue store service."""

    @property
    def cluster_id(self) -> str:
        """The persisted cluster id."""

    def vhost(self, name: str) -> IVhost:
        """The vhost called C{name}, created on first use.

        @raise KafkaError: C{KAFKA_STORAGE_ERROR}.
        """

    def vhosts(self) -> Sequence[IVhost]:
        """Every vhost, sorted by name."""

    def allocate_producer_id(self) -> int:
        """A producer id never handed out before, even across restarts.

        @raise KafkaError: C{KAFKA_STORAGE_ERROR}.
        """

    @property
    def data_dir(self) -> str:
        """The absolute path of the data directory."""

    @property
    def stats(self) -> StoreStats:
        """What the store counts of its fsync rounds, failures, retention and cleaner."""

    @property
    def running(self) -> bool | int:
        """Whether the store has opened and recovered every log and not stopped since."""

    def sync(self) -> Deferred[None]:
        """Fire once an fsync covers every append made before the call.

        Errbacks with C{KafkaError(KAFKA_STORAGE_ERROR)} if the fsync fails.
        """
