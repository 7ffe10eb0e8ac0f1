# -*- test-case-name: tests.store.test_service -*-
"""The store's configuration: the C{[store]} section of the broker config.

Values are the broker-wide defaults; per-topic overrides (see
L{twisted_kafka.store.topic_configs}) take precedence for the topic configs.
"""

from __future__ import annotations

from dataclasses import dataclass

from twisted_kafka.protocol.primitives import INT64_MAX
from twisted_kafka.store.open_files import MAX_OPEN_SEALED_FILES


@dataclass
class StoreConfig:
    """Settings of the stream-queue store.

    @ivar fsync: fsync appended data before acks=all answers, and metadata
        files when they change (group commit). C{False} trusts the page cache.
    @ivar segment_bytes: roll to a new segment before an append that would
        make the active one larger than this (Kafka's C{segment.bytes}).
    @ivar segment_ms: roll a segment this old (Kafka's C{segment.ms}).
    @ivar retention_ms: delete sealed segments whose newest timestamp is this
        old; -1 keeps them forever (Kafka's C{retention.ms}).
    @ivar retention_bytes: delete the oldest sealed segments while the
        partition is larger than this; -1: no limit (C{retention.bytes}).
    @ivar index_interval_bytes: bytes between sparse index entries.
    @ivar retention_check_interval_ms: how often the retention sweep runs.
    @ivar max_message_bytes: largest batch an append accepts.
    @ivar message_timestamp_type: C{CreateTime} or C{LogAppendTime}.
    @ivar compression_type: the default C{compression.type} (Kafka's broker
        C{compression.type}): C{producer} keeps each batch's codec; a codec
        name makes the store recompress batches sent with another.
    @ivar num_partitions: partition count of a topic created with -1.
    @ivar producer_id_expiration_ms: forget an idle idempotent producer's
        state after this long (Kafka's C{producer.id.expiration.ms}).
    @ivar cleanup_policy: the default C{cleanup.policy} (C{[kafka]
        log_cleanup_policy}): C{delete}, C{compact} or C{compact,delete}.
    @ivar delete_retention_ms: the default C{delete.retention.ms}: how long
        tombstones stay after their part of the log was cleaned.
    @ivar min_cleanable_dirty_ratio: the default C{min.cleanable.dirty.ratio}.
    @ivar min_compaction_lag_ms: the default C{min.compaction.lag.ms}.
    @ivar max_compaction_lag_ms: the default C{max.compaction.lag.ms}.
    @ivar cleaner_dedupe_buffer_size: memory for the log cleaner's map of
        keys to their latest offsets (Kafka's
        C{log.cleaner.dedupe.buffer.size}); a partition with more distinct
        keys than fit is cleaned in several passes.
    @ivar cleaner_backoff_ms: how often the cleaner looks for partitions to
        clean when none needed it (Kafka's C{log.cleaner.backoff.ms}).
    @ivar max_open_sealed_files: how many C{.log} files of sealed segments
        stay open at once, store-wide (least recently read are closed past
        this; active segments are always open).
    @ivar max_connections: the most client connections open at once
        (C{[kafka] max_connections}, 0: no limit), for the open-file budget
        (L{twisted_kafka.store.descriptors}).
    """

    fsync: bool = True
    segment_bytes: int = 1 << 30
    segment_ms: int = 7 * 24 * 3600 * 1000
    retention_ms: int = 7 * 24 * 3600 * 1000
    retention_bytes: int = -1
    index_interval_bytes: int = 4096
    retention_check_interval_ms: int = 300_000
    max_message_bytes: int = 1048588
    message_timestamp_type: str = "CreateTime"
    compression_type: str = "producer"
    num_partitions: int = 1
    producer_id_expiration_ms: int = 86_400_000
    max_open_sealed_files: int = MAX_OPEN_SEALED_FILES
    cleanup_policy: str = "delete"
    delete_retention_ms: int = 86_400_000
    min_cleanable_dirty_ratio: float = 0.5
    min_compaction_lag_ms: int = 0
    max_compaction_lag_ms: int = INT64_MAX
    cleaner_dedupe_buffer_size: int = 32 * 1024 * 1024
    cleaner_backoff_ms: int = 15_000
    max_connections: int = 10000
