# -*- test-case-name: tests.store.test_topic_configs -*-
"""The topic configs: their validation, defaults and the settings a topic applies.

L{TOPIC_CONFIGS} (from L{twisted_kafka.store.topic_config_table}: every
topic config Kafka 4 defines) is the table the store applies and the admin
APIs describe (DescribeConfigs lists it with sources and synonyms).
Retention and segment settings drive the store, the message, compression and
replica settings the Produce path; the rest are accepted and documented as
having no effect on a single node. L{validate} checks and normalises overrides the way Kafka's
C{LogConfig} does and raises C{KafkaError(INVALID_CONFIG)} naming the key;
L{check_combination} checks the values that constrain each other.
L{TopicSettings} is the typed, frozen form of a topic's effective values that
its partitions read on every append.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from twisted_kafka.errors import ErrorCode, KafkaError
from twisted_kafka.records.compression import (
    CODEC_GZIP,
    CODEC_LZ4,
    CODEC_NONE,
    CODEC_SNAPPY,
    CODEC_ZSTD,
)
from twisted_kafka.store.config import StoreConfig
from twisted_kafka.protocol.primitives import INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN
from twisted_kafka.store.topic_config_table import COMPRESSION_TYPES, TOPIC_CONFIGS, TopicConfigEntry

__all__ = ["COMPRESSION_TYPES", "STORED_CODECS", "TOPIC_CONFIGS", "TopicConfigEntry", "TopicSettings",
           "check_combination", "default_value", "effective_value", "normalise", "validate"]


#: The codec id each C{compression.type} stores batches with (C{producer}: none, the batch's own).
STORED_CODECS: dict[str, int | None] = {
    "uncompressed": CODEC_NONE,
    "gzip": CODEC_GZIP,
    "snappy": CODEC_SNAPPY,
    "lz4": CODEC_LZ4,
    "zstd": CODEC_ZSTD,
    "producer": None,
}

#: The config holding the level of each codec that has one.
_LEVELS = {
    CODEC_GZIP: "compression.gzip.level",
    CODEC_LZ4: "compression.lz4.level",
    CODEC_ZSTD: "compression.zstd.level",
}

_RANGES = {"INT": (INT32_MIN, INT32_MAX), "LONG": (INT64_MIN, INT64_MAX)}


def _invalid(name: str, value: object, why: str) -> KafkaError:
    return KafkaError(ErrorCode.INVALID_CONFIG, f"Invalid value {value} for configuration {name}: {why}")


def normalise(name: str, value: str | None) -> str:
    """Check one value and return its canonical string form.

    @raise KafkaError: C{INVALID_CONFIG} for an unknown name or a bad value.
    """
    entry = TOPIC_CONFIGS.get(name)
    if entry is None:
        raise KafkaError(ErrorCode.INVALID_CONFIG, f"Unknown topic config name: {name}")
    if value is None:
        raise _invalid(name, value, "a value is required")
    text = _parse(entry, value)
    if entry.check is not None:
        why = entry.check(text)
        if why is not None:
            raise _invalid(name, value, why)
    return text


def _parse(entry: TopicConfigEntry, value: str) -> str:
    """Parse C{value} as C{entry}'s type and range, the way Kafka's C{ConfigDef} does."""
    name = entry.name
    text = value.strip()
    if entry.type in _RANGES:
        try:
            number = int(text)
        except ValueError:
            raise _invalid(name, value, f"Not a number of type {entry.type}") from None
        low, high = _RANGES[entry.type]
        if not low <= number <= high:
            raise _invalid(name, value, f"Not a number of type {entry.type}")
        if entry.minimum is not None and number < entry.minimum:
            raise _invalid(name, value, f"Value must be at least {entry.minimum}")
        if entry.maximum is not None and number > entry.maximum:
            raise _invalid(name, value, f"Value must be no more than {entry.maximum}")
        return str(number)
    if entry.type == "DOUBLE":
        try:
            real = float(text)
        except ValueError:
            raise _invalid(name, value, "Not a number of type DOUBLE") from None
        if real != real or real in (float("inf"), float("-inf")):
            raise _invalid(name, value, "Not a number of type DOUBLE")
        if entry.minimum is not None and real < entry.minimum:
            raise _invalid(name, value, f"Value must be at least {entry.minimum}")
        if entry.maximum is not None and real > entry.maximum:
            raise _invalid(name, value, f"Value must be no more than {entry.maximum}")
        return repr(real)
    if entry.type == "BOOLEAN":
        if text.lower() not in ("true", "false"):
            raise _invalid(name, value, "Expected value to be either true or false")
        return text.lower()
    if entry.type == "LIST":
        items = [item.strip() for item in text.split(",") if item.strip()]
        if entry.choices is None:
            return ",".join(items)
        if not items:
            raise _invalid(name, value, "an empty list is not allowed")
        for item in items:
            if item not in entry.choices:
                raise _invalid(name, value, f"String must be one of: {', '.join(entry.choices)}")
        return ",".join(dict.fromkeys(items))
    assert entry.choices is not None
    if text not in entry.choices:
        raise _invalid(name, value, f"String must be one of: {', '.join(entry.choices)}")
    return text


def validate(configs: Mapping[str, str]) -> dict[str, str]:
    """Check topic config overrides and return them normalised.

    @raise KafkaError: C{INVALID_CONFIG}, naming the offending key.
    """
    return {name: normalise(name, value) for name, value in configs.items()}


def check_combination(overrides: Mapping[str, str], store: StoreConfig) -> None:
    """Check a topic's (normalised) overrides together with the defaults they leave in force.

    Kafka's C{LogConfig.validateValues}: C{min.compaction.lag.ms} may not
    exceed C{max.compaction.lag.ms}. CreateTopics, AlterConfigs and
    IncrementalAlterConfigs (also with C{validate_only}) ask this of the
    overrides a topic would have.

    @raise KafkaError: C{INVALID_CONFIG} with Kafka's message.
    """
    low = int(effective_value("min.compaction.lag.ms", overrides, store))
    high = int(effective_value("max.compaction.lag.ms", overrides, store))
    if low > high:
        raise KafkaError(ErrorCode.INVALID_CONFIG,
                         f"conflict topic config setting min.compaction.lag.ms ({low}) > "
                         f"max.compaction.lag.ms ({high})")


def default_value(name: str, store: StoreConfig) -> str:
    """The broker default of a topic config (C{KeyError} for unknown names)."""
    return TOPIC_CONFIGS[name].default(store)


def effective_value(name: str, overrides: Mapping[str, str], store: StoreConfig) -> str:
    """The value in force: the topic override if any, else the broker default."""
    if name in overrides:
        return overrides[name]
    return default_value(name, store)


@dataclass(frozen=True)
class TopicSettings:
    """The effective topic configs a partition applies, typed; replaced whole when they change.

    @ivar segment_bytes: C{segment.bytes}, at most L{INT32_MAX} (positions in
        the offset index are 32-bit).
    @ivar segment_ms: C{segment.ms}.
    @ivar retention_ms: C{retention.ms} (-1: keep forever).
    @ivar retention_bytes: C{retention.bytes} (-1: no size limit).
    @ivar index_interval_bytes: C{index.interval.bytes}.
    @ivar max_message_bytes: C{max.message.bytes}.
    @ivar message_timestamp_type: C{message.timestamp.type}.
    @ivar compact: C{cleanup.policy} has C{compact}: the log cleaner keeps the
        latest record of every key, and appends need a key on every record.
    @ivar delete: C{cleanup.policy} has C{delete}: time and size retention apply.
    @ivar delete_retention_ms: C{delete.retention.ms}.
    @ivar min_cleanable_dirty_ratio: C{min.cleanable.dirty.ratio}.
    @ivar min_compaction_lag_ms: C{min.compaction.lag.ms}.
    @ivar max_compaction_lag_ms: C{max.compaction.lag.ms}.
    @ivar compression_codec: the codec id C{compression.type} stores batches
        with (a produced batch with another codec is recompressed), or
        C{None} for C{producer} (batches are stored as sent).
    @ivar compression_level: that codec's C{compression.<codec>.level}, or
        C{None} (no codec, or one without levels: snappy, uncompressed).
    @ivar timestamp_before_max_ms: C{message.timestamp.before.max.ms}.
    @ivar timestamp_after_max_ms: C{message.timestamp.after.max.ms}.
    """

    segment_bytes: int
    segment_ms: int
    retention_ms: int
    retention_bytes: int
    index_interval_bytes: int
    max_message_bytes: int
    message_timestamp_type: str
    compact: bool = False
    delete: bool = True
    delete_retention_ms: int = 86_400_000
    min_cleanable_dirty_ratio: float = 0.5
    min_compaction_lag_ms: int = 0
    max_compaction_lag_ms: int = INT64_MAX
    compression_codec: int | None = None
    compression_level: int | None = None
    timestamp_before_max_ms: int = INT64_MAX
    timestamp_after_max_ms: int = 3_600_000

    @property
    def timestamps_checked(self) -> bool:
        """Whether produced CreateTime timestamps are checked against the two bounds.

        Not on a C{LogAppendTime} topic, nor when both bounds are C{Long.MAX_VALUE}.
        """
        return self.message_timestamp_type == "CreateTime" and (
            self.timestamp_before_max_ms != INT64_MAX or self.timestamp_after_max_ms != INT64_MAX)

    @classmethod
    def of(cls, overrides: Mapping[str, str], store: StoreConfig) -> TopicSettings:
        """The settings in force for a topic with these (normalised) overrides."""

        def value(name: str) -> str:
            return effective_value(name, overrides, store)

        policy = value("cleanup.policy").split(",")
        codec = STORED_CODECS[value("compression.type")]
        level_config = _LEVELS.get(codec) if codec is not None else None

        return cls(
            segment_bytes=min(int(value("segment.bytes")), INT32_MAX),
            segment_ms=int(value("segment.ms")),
            retention_ms=int(value("retention.ms")),
            retention_bytes=int(value("retention.bytes")),
            index_interval_bytes=int(value("index.interval.bytes")),
            max_message_bytes=int(value("max.message.bytes")),
            message_timestamp_type=value("message.timestamp.type"),
            compact="compact" in policy,
            delete="delete" in policy,
            delete_retention_ms=int(value("delete.retention.ms")),
            min_cleanable_dirty_ratio=float(value("min.cleanable.dirty.ratio")),
            min_compaction_lag_ms=int(value("min.compaction.lag.ms")),
            max_compaction_lag_ms=int(value("max.compaction.lag.ms")),
            compression_codec=codec,
            compression_level=int(value(level_config)) if level_config is not None else None,
            timestamp_before_max_ms=int(value("message.timestamp.before.max.ms")),
            timestamp_after_max_ms=int(value("message.timestamp.after.max.ms")),
        )
