# -*- test-case-name: tests.store.test_topic_configs -*-
"""The topic configs this broker honours: names, types, ranges, defaults, docs.

L{TOPIC_CONFIGS} is the table the store applies and the admin APIs describe
(DescribeConfigs lists it with sources and synonyms). Every entry takes
effect: retention and segment settings drive the store, the message settings
the Produce path. L{validate} checks and normalises overrides the way Kafka's
C{LogConfig} does and raises C{KafkaError(INVALID_CONFIG)} naming the key.
L{TopicSettings} is the typed, frozen form of a topic's effective values that
its partitions read on every append.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from twisted_kafka.errors import ErrorCode, KafkaError
from twisted_kafka.store.config import StoreConfig
from twisted_kafka.protocol.primitives import INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN



@dataclass(frozen=True)
class TopicConfigEntry:
    """One topic config.

    @ivar name: the topic config name (C{retention.ms}).
    @ivar type: Kafka's config type name: C{LONG}, C{INT}, C{STRING}, C{LIST}.
    @ivar synonym: the broker config that provides the default (C{log.retention.ms}).
    @ivar store_field: the L{StoreConfig} attribute holding that default, or C{None}.
    @ivar fixed_default: the default when there is no store field.
    @ivar minimum: smallest accepted number (numeric types).
    @ivar maximum: largest accepted number (numeric types), if bounded.
    @ivar choices: accepted values (string and list types).
    @ivar doc: what it does, for DescribeConfigs documentation.
    """

    name: str
    type: str
    synonym: str
    doc: str
    store_field: str | None = None
    fixed_default: str | None = None
    minimum: int | float | None = None
    maximum: int | float | None = None
    choices: tuple[str, ...] | None = None

    def default(self, store: StoreConfig) -> str:
        """The broker default as Kafka's string form."""
        if self.store_field is not None:
            return str(getattr(store, self.store_field))
        assert self.fixed_default is not None
        return self.fixed_default


TOPIC_CONFIGS: dict[str, TopicConfigEntry] = {
    entry.name: entry
    for entry in (
        TopicConfigEntry(
            "cleanup.policy",
            "LIST",
            "log.cleanup.policy",
            "What happens to old segments: \"delete\" removes them past retention;"
            " \"compact\" keeps the latest record of every key (the log cleaner);"
            " \"compact,delete\" does both.",
            store_field="cleanup_policy",
            choices=("compact", "delete"),
        ),
        TopicConfigEntry(
            "delete.retention.ms",
            "LONG",
            "log.cleaner.delete.retention.ms",
            "How long a tombstone (a record with a null value) stays in a compacted"
            " topic after the cleaner has cleaned the part of the log holding it.",
            store_field="delete_retention_ms",
            minimum=0,
        ),
        TopicConfigEntry(
            "index.interval.bytes",
            "INT",
            "log.index.interval.bytes",
            "How many bytes of batches lie between two entries of the sparse offset index.",
            store_field="index_interval_bytes",
            minimum=0,
        ),
        TopicConfigEntry(
            "max.message.bytes",
            "INT",
            "message.max.bytes",
            "The largest record batch (including its 12-byte log overhead) a producer may send.",
            store_field="max_message_bytes",
            minimum=0,
        ),
        TopicConfigEntry(
            "max.compaction.lag.ms",
            "LONG",
            "log.cleaner.max.compaction.lag.ms",
            "The longest a record may stay uncompacted: a partition whose oldest"
            " dirty record is older than this is cleaned whatever its dirty ratio.",
            store_field="max_compaction_lag_ms",
            minimum=1,
        ),
        TopicConfigEntry(
            "message.timestamp.type",
            "STRING",
            "log.message.timestamp.type",
            "CreateTime keeps the producer's timestamps; LogAppendTime replaces them with the broker's clock.",
            store_field="message_timestamp_type",
            choices=("CreateTime", "LogAppendTime"),
        ),
        TopicConfigEntry(
            "min.cleanable.dirty.ratio",
            "DOUBLE",
            "log.cleaner.min.cleanable.ratio",
            "How much of a compacted partition's cleanable log must be dirty"
            " (written since the last clean) before the cleaner cleans it.",
            store_field="min_cleanable_dirty_ratio",
            minimum=0.0,
            maximum=1.0,
        ),
        TopicConfigEntry(
            "min.compaction.lag.ms",
            "LONG",
            "log.cleaner.min.compaction.lag.ms",
            "The shortest time a record stays uncompacted: newer records are never cleaned.",
            store_field="min_compaction_lag_ms",
            minimum=0,
        ),
        TopicConfigEntry(
            "retention.bytes",
            "LONG",
            "log.retention.bytes",
            "Delete the oldest sealed segments while a partition is larger than this; -1: no size limit.",
            store_field="retention_bytes",
            minimum=-1,
        ),
        TopicConfigEntry(
            "retention.ms",
            "LONG",
            "log.retention.ms",
            "Delete sealed segments whose newest timestamp is older than this; -1: keep forever.",
            store_field="retention_ms",
            minimum=-1,
        ),
        TopicConfigEntry(
            "segment.bytes",
            "INT",
            "log.segment.bytes",
            "Roll to a new segment before an append would make the active one larger than this.",
            store_field="segment_bytes",
            minimum=1024 * 1024,
        ),
        TopicConfigEntry(
            "segment.ms",
            "LONG",
            "log.roll.ms",
            "Roll to a new segment once the active one is this old, so retention can delete it.",
            store_field="segment_ms",
            minimum=1,
        ),
    )
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
    if entry.type == "LIST":
        items = [item.strip() for item in text.split(",") if item.strip()]
        if not items:
            raise _invalid(name, value, "an empty list is not allowed")
        assert entry.choices is not None
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

    @classmethod
    def of(cls, overrides: Mapping[str, str], store: StoreConfig) -> TopicSettings:
        """The settings in force for a topic with these (normalised) overrides."""

        def value(name: str) -> str:
            return effective_value(name, overrides, store)

        policy = value("cleanup.policy").split(",")

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
        )
