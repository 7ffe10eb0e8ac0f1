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
        """Every topic config of Kafka 4's C{LogConfig} is listed, and only those."""
        self.assertEqual(
            sorted(topic_configs.TOPIC_CONFIGS),
            [
                "cleanup.policy",
                "compression.gzip.level",
                "compression.lz4.level",
                "compression.type",
                "compression.zstd.level",
                "delete.retention.ms",
                "file.delete.delay.ms",
                "flush.messages",
                "flush.ms",
                "follower.replication.throttled.replicas",
                "index.interval.bytes",
                "leader.replication.throttled.replicas",
                "local.retention.bytes",
                "local.retention.ms",
                "max.compaction.lag.ms",
                "max.message.bytes",
                "message.timestamp.after.max.ms",
                "message.timestamp.before.max.ms",
                "message.timestamp.type",
                "min.cleanable.dirty.ratio",
                "min.compaction.lag.ms",
                "min.insync.replicas",
                "preallocate",
                "remote.copy.lag.bytes",
                "remote.copy.lag.ms",
                "remote.log.copy.disable",
                "remote.log.delete.on.disable",
                "remote.storage.enable",
                "retention.bytes",
                "retention.ms",
                "segment.bytes",
                "segment.index.bytes",
                "segment.jitter.ms",
                "segment.ms",
                "unclean.leader.election.enable",
            ],
        )

    def test_entries_complete(self) -> None:
        """Each entry has a type, a doc string and a valid default; a broker synonym unless Kafka has none."""
        store = StoreConfig()
        without_synonym = {
            "follower.replication.throttled.replicas", "leader.replication.throttled.replicas",
            "remote.copy.lag.bytes", "remote.copy.lag.ms", "remote.log.copy.disable",
            "remote.log.delete.on.disable", "remote.storage.enable",
        }
        for name, entry in topic_configs.TOPIC_CONFIGS.items():
            self.assertEqual(entry.name, name)
            self.assertIn(entry.type, ("INT", "LONG", "DOUBLE", "BOOLEAN", "STRING", "LIST"))
            self.assertTrue(entry.doc)
            self.assertEqual(entry.synonym is None, name in without_synonym, name)
            default = topic_configs.default_value(name, store)
            self.assertEqual(topic_configs.normalise(name, default), default)

    def test_kafka_defaults(self) -> None:
        """The configs without a [store] setting have Kafka 4's defaults."""
        store = StoreConfig()
        expected = {
            "compression.type": "producer",
            "compression.gzip.level": "-1",
            "compression.lz4.level": "9",
            "compression.zstd.level": "3",
            "min.insync.replicas": "1",
            "message.timestamp.before.max.ms": str(2**63 - 1),
            "message.timestamp.after.max.ms": "3600000",
            "file.delete.delay.ms": "60000",
            "flush.messages": str(2**63 - 1),
            "segment.index.bytes": str(10 * 1024 * 1024),
            "segment.jitter.ms": "0",
            "local.retention.ms": "-2",
            "local.retention.bytes": "-2",
            "preallocate": "false",
            "remote.storage.enable": "false",
            "unclean.leader.election.enable": "false",
            "leader.replication.throttled.replicas": "",
        }
        for name, value in expected.items():
            self.assertEqual(topic_configs.default_value(name, store), value, name)
        self.assertEqual(topic_configs.TOPIC_CONFIGS["file.delete.delay.ms"].synonym,
                         "log.segment.delete.delay.ms")
        self.assertEqual(topic_configs.TOPIC_CONFIGS["segment.index.bytes"].synonym,
                         "log.index.size.max.bytes")

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


    def test_compression(self) -> None:
        """compression.type gives the codec id batches are stored with and that codec's level."""
        store = StoreConfig()
        expected = {
            "producer": (None, None),
            "uncompressed": (0, None),
            "gzip": (1, -1),
            "snappy": (2, None),
            "lz4": (3, 9),
            "zstd": (4, 3),
        }
        for name, codec_level in expected.items():
            settings = topic_configs.TopicSettings.of({"compression.type": name}, store)
            self.assertEqual((settings.compression_codec, settings.compression_level), codec_level, name)
        levels = {"compression.gzip.level": "2", "compression.lz4.level": "4", "compression.zstd.level": "-7"}
        for name, level in (("gzip", 2), ("lz4", 4), ("zstd", -7)):
            settings = topic_configs.TopicSettings.of({"compression.type": name, **levels}, store)
            self.assertEqual(settings.compression_level, level, name)


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
        """An unknown config is rejected by name, including those Kafka 4 removed."""
        for name in ("unknown.key", "message.downconversion.enable",
                     "message.timestamp.difference.max.ms", "message.format.version"):
            error = self._error({name: "1"})
            self.assertEqual(error.message, f"Unknown topic config name: {name}")

    def test_booleans(self) -> None:
        """Booleans are true or false in any case, normalised to lower case."""
        self.assertEqual(topic_configs.validate({"preallocate": " TRUE ",
                                                 "unclean.leader.election.enable": "False"}),
                         {"preallocate": "true", "unclean.leader.election.enable": "false"})
        error = self._error({"preallocate": "yes"})
        self.assertIn("Expected value to be either true or false", error.message)

    def test_compression(self) -> None:
        """compression.type is one of Kafka's broker codecs; levels have each codec's range."""
        for codec in ("uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"):
            self.assertEqual(topic_configs.validate({"compression.type": codec}),
                             {"compression.type": codec})
        self.assertIn("String must be one of: uncompressed, zstd, lz4, snappy, gzip, producer",
                      self._error({"compression.type": "none"}).message)
        self._error({"compression.type": "GZIP"})
        for level in ("-1", "1", "9"):
            topic_configs.validate({"compression.gzip.level": level})
        for level in ("0", "-2", "10"):
            self.assertIn("Value must be between 1 and 9 or equal to -1",
                          self._error({"compression.gzip.level": level}).message)
        topic_configs.validate({"compression.lz4.level": "17", "compression.zstd.level": "-131072"})
        self._error({"compression.lz4.level": "0"})
        self._error({"compression.lz4.level": "18"})
        self._error({"compression.zstd.level": "23"})
        self._error({"compression.zstd.level": "-131073"})

    def test_ranges_of_new_configs(self) -> None:
        """The minimums of Kafka's LogConfig apply."""
        for name, value in [("min.insync.replicas", "0"), ("message.timestamp.after.max.ms", "-1"),
                            ("message.timestamp.before.max.ms", "-1"), ("flush.messages", "0"),
                            ("segment.index.bytes", "3"), ("local.retention.ms", "-3"),
                            ("remote.copy.lag.ms", "-2"), ("segment.jitter.ms", "-1")]:
            self._error({name: value})
        self.assertEqual(topic_configs.validate({"min.insync.replicas": "2", "local.retention.bytes": "-2"}),
                         {"min.insync.replicas": "2", "local.retention.bytes": "-2"})

    def test_throttled_replicas(self) -> None:
        """Throttled replica lists are * or partition:broker pairs, as Kafka checks them."""
        name = "leader.replication.throttled.replicas"
        self.assertEqual(topic_configs.validate({name: "0:0, 1:0"}), {name: "0:0,1:0"})
        self.assertEqual(topic_configs.validate({name: "*"}), {name: "*"})
        self.assertEqual(topic_configs.validate({name: ""}), {name: ""})
        self.assertIn("must be the literal '*'", self._error({name: "0-0"}).message)
        self._error({"follower.replication.throttled.replicas": "*,0:1"})

    def test_remote_storage(self) -> None:
        """remote.storage.enable=true is refused as Kafka refuses it without tiered storage."""
        self.assertEqual(topic_configs.validate({"remote.storage.enable": "false"}),
                         {"remote.storage.enable": "false"})
        self.assertIn("Tiered Storage functionality is disabled in the broker",
                      self._error({"remote.storage.enable": "true"}).message)

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


class CombinationTests(SynchronousTestCase):
    """check_combination: min.compaction.lag.ms may not exceed max.compaction.lag.ms."""

    def test_conflict(self) -> None:
        """Overrides or defaults in conflict are INVALID_CONFIG with Kafka's message; equal is fine."""
        store = StoreConfig(max_compaction_lag_ms=5000)
        topic_configs.check_combination({"min.compaction.lag.ms": "5000"}, store)
        topic_configs.check_combination({"min.compaction.lag.ms": "9000",
                                         "max.compaction.lag.ms": "9000"}, store)
        for overrides in ({"min.compaction.lag.ms": "5001"},
                          {"min.compaction.lag.ms": "5001", "max.compaction.lag.ms": "5000"}):
            with self.assertRaises(KafkaError) as e:
                topic_configs.check_combination(overrides, store)
            self.assertEqual((e.exception.code, e.exception.message), (
                ErrorCode.INVALID_CONFIG,
                "conflict topic config setting min.compaction.lag.ms (5001) > max.compaction.lag.ms (5000)"))
        with self.assertRaises(KafkaError):
            topic_configs.check_combination({"max.compaction.lag.ms": "10"}, StoreConfig(min_compaction_lag_ms=11))
