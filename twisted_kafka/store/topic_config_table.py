# -*- test-case-name: tests.store.test_topic_configs -*-
"""The table of every topic config Kafka 4 defines: names, types, ranges, defaults, docs.

The names, types, ranges, defaults and broker synonyms are those of Kafka's
C{LogConfig} and C{ServerTopicConfigSynonyms}. Kafka 4 removed
C{message.format.version}, C{message.downconversion.enable} and
C{message.timestamp.difference.max.ms}; they are unknown here as there.
Each entry's C{doc} says what the config does on this broker: for those
that cannot apply to a single node without tiered storage, that it is
accepted and has no effect (docs/admin.md has the same table).
L{twisted_kafka.store.topic_configs} validates values against it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from twisted_kafka.protocol.primitives import INT64_MAX
from twisted_kafka.store.config import StoreConfig

#: A further check of a normalised value: the reason it is refused, or C{None}.
Check = Callable[[str], "str | None"]


@dataclass(frozen=True)
class TopicConfigEntry:
    """One topic config.

    @ivar name: the topic config name (C{retention.ms}).
    @ivar type: Kafka's config type name: C{LONG}, C{INT}, C{DOUBLE},
        C{BOOLEAN}, C{STRING}, C{LIST}.
    @ivar synonym: the broker config that provides the default
        (C{log.retention.ms}), or C{None} for the configs Kafka gives no
        broker default (remote storage, replica throttling).
    @ivar store_field: the L{StoreConfig} attribute holding that default, or C{None}.
    @ivar fixed_default: the default when there is no store field.
    @ivar minimum: smallest accepted number (numeric types).
    @ivar maximum: largest accepted number (numeric types), if bounded.
    @ivar choices: accepted values (string types, and list types whose
        items are from a fixed set).
    @ivar check: a further check of the normalised value, for Kafka's
        validators that are not a range or a set (gzip levels, replica lists).
    @ivar doc: what it does here, for DescribeConfigs documentation.
    """

    name: str
    type: str
    synonym: str | None
    doc: str
    store_field: str | None = None
    fixed_default: str | None = None
    minimum: int | float | None = None
    maximum: int | float | None = None
    choices: tuple[str, ...] | None = None
    check: Check | None = None

    def default(self, store: StoreConfig) -> str:
        """The broker default as Kafka's string form."""
        if self.store_field is not None:
            return str(getattr(store, self.store_field))
        assert self.fixed_default is not None
        return self.fixed_default


#: Kafka's C{compression.type} values (C{BrokerCompressionType}), in its order.
COMPRESSION_TYPES = ("uncompressed", "zstd", "lz4", "snappy", "gzip", "producer")

_REPLICA = re.compile(r"([0-9]+:[0-9]+)?")


def _gzip_level(value: str) -> str | None:
    """Kafka's gzip level validator: 1 to 9, or -1 (zlib's default)."""
    level = int(value)
    if level > 9 or (level < 1 and level != -1):
        return "Value must be between 1 and 9 or equal to -1"
    return None


def _throttled_replicas(value: str) -> str | None:
    """Kafka's C{ThrottledReplicaListValidator}: C{*} or C{partition:broker} pairs."""
    items = value.split(",") if value else []
    if value == "*" or all(_REPLICA.fullmatch(item) for item in items):
        return None
    return "must be the literal '*' or a list of replicas in the following format: " \
           "[partitionId]:[brokerId],[partitionId]:[brokerId],..."


def _no_tiered_storage(value: str) -> str | None:
    """Kafka refuses C{remote.storage.enable=true} when tiered storage is off broker-wide."""
    if value == "true":
        return "Tiered Storage functionality is disabled in the broker. " \
               "Topic cannot be configured with remote log storage."
    return None


_NO_EFFECT = " Accepted and validated; no effect on this broker:"
_NO_REMOTE = _NO_EFFECT + " there is no tiered (remote) storage."
_NO_REPLICAS = _NO_EFFECT + " a single node has no followers."


def _entries() -> tuple[TopicConfigEntry, ...]:
    entry = TopicConfigEntry
    return (
        entry("cleanup.policy", "LIST", "log.cleanup.policy",
              "What happens to old segments: \"delete\" removes them past retention;"
              " \"compact\" keeps the latest record of every key (the log cleaner);"
              " \"compact,delete\" does both.",
              store_field="cleanup_policy", choices=("compact", "delete")),
        entry("compression.gzip.level", "INT", "compression.gzip.level",
              "The gzip level the broker recompresses with when compression.type is gzip"
              " (1 to 9, -1: zlib's default).",
              fixed_default="-1", check=_gzip_level),
        entry("compression.lz4.level", "INT", "compression.lz4.level",
              "The lz4 level the broker recompresses with when compression.type is lz4"
              " (1 to 17; lz4 treats levels above 12 as 12).",
              fixed_default="9", minimum=1, maximum=17),
        entry("compression.type", "STRING", "compression.type",
              "The codec batches are stored with: \"producer\" keeps the producer's;"
              " uncompressed, gzip, snappy, lz4 or zstd make the broker recompress, at"
              " produce time, every batch sent with another codec (max.message.bytes"
              " then applies to the recompressed batch too).",
              store_field="compression_type", choices=COMPRESSION_TYPES),
        entry("compression.zstd.level", "INT", "compression.zstd.level",
              "The zstd level the broker recompresses with when compression.type is zstd"
              " (-131072 to 22).",
              fixed_default="3", minimum=-131072, maximum=22),
        entry("delete.retention.ms", "LONG", "log.cleaner.delete.retention.ms",
              "How long a tombstone (a record with a null value) stays in a compacted"
              " topic after the cleaner has cleaned the part of the log holding it.",
              store_field="delete_retention_ms", minimum=0),
        entry("file.delete.delay.ms", "LONG", "log.segment.delete.delay.ms",
              "How long Kafka keeps a deleted segment's files." + _NO_EFFECT
              + " segments are removed at once (readers keep open files).",
              fixed_default="60000", minimum=0),
        entry("flush.messages", "LONG", "log.flush.interval.messages",
              "Records between forced fsyncs." + _NO_EFFECT
              + " fsync follows [store] fsync (group commit before acks=all answers).",
              fixed_default=str(INT64_MAX), minimum=1),
        entry("flush.ms", "LONG", "log.flush.interval.ms",
              "Time between forced fsyncs." + _NO_EFFECT
              + " fsync follows [store] fsync (group commit before acks=all answers).",
              fixed_default=str(INT64_MAX), minimum=0),
        entry("follower.replication.throttled.replicas", "LIST", None,
              "Replicas whose follower fetches are throttled (* or partition:broker)."
              + _NO_REPLICAS,
              fixed_default="", check=_throttled_replicas),
        entry("index.interval.bytes", "INT", "log.index.interval.bytes",
              "How many bytes of batches lie between two entries of the sparse offset index.",
              store_field="index_interval_bytes", minimum=0),
        entry("leader.replication.throttled.replicas", "LIST", None,
              "Replicas whose leader side of replication is throttled (* or partition:broker)."
              + _NO_REPLICAS,
              fixed_default="", check=_throttled_replicas),
        entry("local.retention.bytes", "LONG", "log.local.retention.bytes",
              "Local retention before tiering (-2: retention.bytes)." + _NO_REMOTE,
              fixed_default="-2", minimum=-2),
        entry("local.retention.ms", "LONG", "log.local.retention.ms",
              "Local retention before tiering (-2: retention.ms)." + _NO_REMOTE,
              fixed_default="-2", minimum=-2),
        entry("max.compaction.lag.ms", "LONG", "log.cleaner.max.compaction.lag.ms",
              "The longest a record may stay uncompacted: a partition whose oldest"
              " dirty record is older than this is cleaned whatever its dirty ratio.",
              store_field="max_compaction_lag_ms", minimum=1),
        entry("max.message.bytes", "INT", "message.max.bytes",
              "The largest record batch (including its 12-byte log overhead) a producer may send.",
              store_field="max_message_bytes", minimum=0),
        entry("message.timestamp.after.max.ms", "LONG", "log.message.timestamp.after.max.ms",
              "With CreateTime, a produced record whose timestamp is more than this ahead of"
              " the broker's clock fails its batch with INVALID_TIMESTAMP (each such record"
              " named in record_errors). Ignored with LogAppendTime.",
              fixed_default="3600000", minimum=0),
        entry("message.timestamp.before.max.ms", "LONG", "log.message.timestamp.before.max.ms",
              "With CreateTime, a produced record whose timestamp is more than this behind"
              " the broker's clock fails its batch with INVALID_TIMESTAMP (each such record"
              " named in record_errors). Ignored with LogAppendTime.",
              fixed_default=str(INT64_MAX), minimum=0),
        entry("message.timestamp.type", "STRING", "log.message.timestamp.type",
              "CreateTime keeps the producer's timestamps; LogAppendTime replaces them with the broker's clock.",
              store_field="message_timestamp_type", choices=("CreateTime", "LogAppendTime")),
        entry("min.cleanable.dirty.ratio", "DOUBLE", "log.cleaner.min.cleanable.ratio",
              "How much of a compacted partition's cleanable log must be dirty"
              " (written since the last clean) before the cleaner cleans it.",
              store_field="min_cleanable_dirty_ratio", minimum=0.0, maximum=1.0),
        entry("min.compaction.lag.ms", "LONG", "log.cleaner.min.compaction.lag.ms",
              "The shortest time a record stays uncompacted: newer records are never cleaned.",
              store_field="min_compaction_lag_ms", minimum=0),
        entry("min.insync.replicas", "INT", "min.insync.replicas",
              "Replicas an acks=all produce needs in sync (Kafka refuses it with"
              " NOT_ENOUGH_REPLICAS when fewer are). A single node is the whole ISR,"
              " so above 1 every acks=all produce is refused.",
              fixed_default="1", minimum=1),
        entry("preallocate", "BOOLEAN", "log.preallocate",
              "Preallocate segment files." + _NO_EFFECT + " segment files grow as written.",
              fixed_default="false"),
        entry("remote.log.copy.disable", "BOOLEAN", None,
              "Stop copying segments to remote storage." + _NO_REMOTE,
              fixed_default="false"),
        entry("remote.log.delete.on.disable", "BOOLEAN", None,
              "Delete remote data when remote storage is turned off." + _NO_REMOTE,
              fixed_default="false"),
        entry("remote.copy.lag.bytes", "LONG", None,
              "Bytes a segment waits before it is copied to remote storage." + _NO_REMOTE,
              fixed_default="0", minimum=-1),
        entry("remote.copy.lag.ms", "LONG", None,
              "Time a segment waits before it is copied to remote storage." + _NO_REMOTE,
              fixed_default="0", minimum=-1),
        entry("remote.storage.enable", "BOOLEAN", None,
              "Tiered storage for the topic: only false is accepted, as on a Kafka"
              " broker with tiered storage disabled.",
              fixed_default="false", check=_no_tiered_storage),
        entry("retention.bytes", "LONG", "log.retention.bytes",
              "Delete the oldest sealed segments while a partition is larger than this; -1: no size limit.",
              store_field="retention_bytes", minimum=-1),
        entry("retention.ms", "LONG", "log.retention.ms",
              "Delete sealed segments whose newest timestamp is older than this; -1: keep forever.",
              store_field="retention_ms", minimum=-1),
        entry("segment.bytes", "INT", "log.segment.bytes",
              "Roll to a new segment before an append would make the active one larger than this.",
              store_field="segment_bytes", minimum=1024 * 1024),
        entry("segment.index.bytes", "INT", "log.index.size.max.bytes",
              "The largest offset index of a segment." + _NO_EFFECT
              + " the sparse index grows as needed.",
              fixed_default=str(10 * 1024 * 1024), minimum=4),
        entry("segment.jitter.ms", "LONG", "log.roll.jitter.ms",
              "A random jitter subtracted from segment.ms." + _NO_EFFECT
              + " segments roll at segment.ms exactly.",
              fixed_default="0", minimum=0),
        entry("segment.ms", "LONG", "log.roll.ms",
              "Roll to a new segment once the active one is this old, so retention can delete it.",
              store_field="segment_ms", minimum=1),
        entry("unclean.leader.election.enable", "BOOLEAN", "unclean.leader.election.enable",
              "Let an out-of-sync replica become leader." + _NO_REPLICAS,
              fixed_default="false"),
    )


TOPIC_CONFIGS: dict[str, TopicConfigEntry] = {entry.name: entry for entry in _entries()}
