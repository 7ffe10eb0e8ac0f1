# -*- test-case-name: tests.store.test_topic_configs -*-
"""Tests for L{twisted_kafka.store.topic_configs}: the table, validation and settings of topic configs."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.store import topic_configs
from twisted_kafka.errors import ErrorCode, KafkaError
from twisted_kafka.store.config import StoreConfig


class TableTests(SynchronousTestCase):
    """The table describes every config the store applies."""

    def test_names(self) -> None:
        """Exactly the configs that take effect are listed."""
        self.assertEqual(
            sorted(topic_configs.TOPIC_CONFIGS),
            [
                "cleanup.policy",
                "delete.retention.ms",
                "index.interval.bytes",
                "max.compaction.lag.ms",
                "max.message.bytes",
                "message.timestamp.type",
                "min.cleanable.dirty.ratio",
                "min.compaction.lag.ms",
                "retention.bytes",
                "retention.ms",
                "segment.bytes",
                "segment.ms",
            ],
        )

    def test_entries_complete(self) -> None:
        """Each entry has a type, a broker synonym, a doc string and a valid default."""
        store = StoreConfig()
        for name, entry in topic_configs.TOPIC_CONFIGS.items():
            self.assertEqual(entry.name, name)
            self.assertIn(entry.type, ("INT", "LONG", "DOUBLE", "STRING", "LIST"))
            self.assertTrue(entry.synonym and entry.doc)
            default = topic_configs.default_value(name, store)
            self.assertEqual(topic_configs.normalise(name, default), default)

    def test_defaults_from_store_config(self) -> None:
        """Defaults follow the [store] settings."""
        store = StoreConfig(retention_ms=123, segment_bytes=1 << 21, message_timestamp_type="LogAppendTime")
        self.assertEqual(topic_configs.default_value("retention.ms", store), "123")
        self.assertEqual(topic_configs.default_value("segment.bytes", store), str(1 << 21))
        self.assertEqual(topic_configs.default_value("message.timestamp.type", store), "LogAppendTime")
        self.assertEqual(topic_configs.default_value("cleanup.policy", store), "delete")
        self.assertEqual(topic_configs.TOPIC_CONFIGS["retention.ms"].synonym, "log.retention.ms")

    def test_effective(self) -> None:
        """An override wins over the default."""
        store = StoreConfig()
        self.assertEqual(topic_configs.effective_value("retention.ms", {"retention.ms": "7"}, store), "7")
        self.assertEqual(topic_configs.effective_value("retention.ms", {}, store), str(store.retention_ms))


class SettingsTests(SynchronousTestCase):
    """TopicSettings: the typed effective values a partition applies."""

    def test_of(self) -> None:
        """Overrides win over the store defaults; segment.bytes is capped at 32 bits."""
        store = StoreConfig(retention_ms=123, max_message_bytes=4000, segment_bytes=2**40)
        settings = topic_configs.TopicSettings.of(
            {"message.timestamp.type": "LogAppendTime", "retention.bytes": "9"}, store
        )
        self.assertEqual(
            settings,
            topic_configs.TopicSettings(
                segment_bytes=2**31 - 1,
                segment_ms=store.segment_ms,
                retention_ms=123,
                retention_bytes=9,
                index_interval_bytes=store.index_interval_bytes,
                max_message_bytes=4000,
                message_timestamp_type="LogAppendTime",
            ),
        )


class ValidateTests(SynchronousTestCase):
    """validate() normalises good values and names the key of bad ones."""

    def _error(self, configs: dict[str, str]) -> KafkaError:
        with self.assertRaises(KafkaError) as e:
            topic_configs.validate(configs)
        self.assertEqual(e.exception.code, ErrorCode.INVALID_CONFIG)
        return e.exception

    def test_normalises(self) -> None:
        """Numbers are trimmed and canonical; lists are de-duplicated."""
        self.assertEqual(
            topic_configs.validate(
                {"retention.ms": " 0060000 ", "cleanup.policy": "delete, delete", "retention.bytes": "-1"}
            ),
            {"retention.ms": "60000", "cleanup.policy": "delete", "retention.bytes": "-1"},
        )

    def test_unknown_key(self) -> None:
        """An unknown config is rejected by name."""
        self.assertIn("compression.type", str(self._error({"compression.type": "lz4"})))

    def test_bad_numbers(self) -> None:
        """Non-numbers, values out of the type's range and below the minimum are rejected."""
        for name, value in [
            ("retention.ms", "soon"),
            ("retention.ms", "-2"),
            ("segment.bytes", "1000"),
            ("segment.bytes", str(2**31)),
            ("segment.ms", "0"),
            ("max.message.bytes", "-1"),
            ("retention.bytes", str(2**63)),
            ("index.interval.bytes", "1.5"),
        ]:
            error = self._error({name: value})
            self.assertIn(name, str(error))

    def test_choices(self) -> None:
        """Strings and list items must be among the allowed values; lists are normalised."""
        self.assertEqual(
            topic_configs.validate({"message.timestamp.type": "LogAppendTime"}),
            {"message.timestamp.type": "LogAppendTime"},
        )
        self.assertIn("message.timestamp.type", str(self._error({"message.timestamp.type": "logappendtime"})))
        self.assertEqual(topic_configs.validate({"cleanup.policy": " compact , delete,compact"}),
                         {"cleanup.policy": "compact,delete"})
        self.assertIn("compact, delete", str(self._error({"cleanup.policy": "delete,forever"})))
        self._error({"cleanup.policy": ""})
        self._error({"cleanup.policy": "forever"})

    def test_null(self) -> None:
        """A missing value is rejected."""
        self._error({"retention.ms": None})  # type: ignore[dict-item]
