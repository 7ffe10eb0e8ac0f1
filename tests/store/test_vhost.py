# -*- test-case-name: tests.store.test_vhost -*-
"""Tests for vhosts and topics: names, creation, deletion, configs, crash safety."""

from __future__ import annotations

import os

from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.errors import ErrorCode, KafkaError
from twisted_kafka.store.topic_names import is_internal, validate_topic_name

from .helpers import StoreTestMixin, make_batch


class TopicNameTests(SynchronousTestCase):
    """Kafka's topic name rules."""

    def _code(self, name: str) -> ErrorCode:
        with self.assertRaises(KafkaError) as e:
            validate_topic_name(name)
        return e.exception.code

    def test_legal(self) -> None:
        """Letters, digits, '.', '_' and '-' up to 249 characters, and internal names."""
        for name in ("a", "A.b_c-9", "x" * 249, "__consumer_offsets", "..."):
            validate_topic_name(name)

    def test_illegal(self) -> None:
        """Empty, '.', '..', too long or other characters are INVALID_TOPIC_EXCEPTION."""
        for name in ("", ".", "..", "x" * 250, "a b", "a/b", "ä", "a:b", "a\0"):
            self.assertEqual(self._code(name), ErrorCode.INVALID_TOPIC_EXCEPTION)


    def test_internal(self) -> None:
        """Names starting with C{__} are the broker's internal stream queues; others are not."""
        self.assertTrue(is_internal("__consumer_offsets"))
        self.assertTrue(is_internal("__"))
        self.assertFalse(is_internal("_single"))
        self.assertFalse(is_internal("a__b"))


class VhostTests(StoreTestMixin, SynchronousTestCase):
    """Creating, finding and deleting topics."""

    def setUp(self) -> None:
        """Set up what each test here uses."""
        super().setUp()
        self.store = self.open_store()
        self.vhost = self.store.vhost("/")

    def _code(self, f, *args, **kwargs) -> ErrorCode:  # type: ignore[no-untyped-def]
        with self.assertRaises(KafkaError) as e:
            f(*args, **kwargs)
        return e.exception.code

    def test_check_new_name(self) -> None:
        """A new name must be legal and not taken; checking creates nothing."""
        self.vhost.create_topic("taken", 1)
        self.vhost.check_new_name("free")
        self.assertIsNone(self.vhost.topic("free"))
        self.assertEqual(self._code(self.vhost.check_new_name, "a b"), ErrorCode.INVALID_TOPIC_EXCEPTION)
        self.assertEqual(self._code(self.vhost.check_new_name, "taken"), ErrorCode.TOPIC_ALREADY_EXISTS)

    def test_bad_partition_count(self) -> None:
        """Zero or fewer partitions (other than -1, the default) is INVALID_PARTITIONS with Kafka's message."""
        for count in (0, -2):
            with self.assertRaises(KafkaError) as e:
                self.vhost.create_topic("t", count)
            self.assertEqual(e.exception.code, ErrorCode.INVALID_PARTITIONS)
            self.assertEqual(e.exception.message, "Number of partitions was set to an invalid non-positive value.")
        self.assertEqual(self.vhost.create_topic("t", -1).num_partitions, 1)

    def test_create_and_list(self) -> None:
        """Topics are listed sorted by name and found by name and by id."""
        b = self.vhost.create_topic("b", 2)
        a = self.vhost.create_topic("a", 1)
        self.assertEqual([t.name for t in self.vhost.topics()], ["a", "b"])
        self.assertIs(self.vhost.topic("b"), b)
        self.assertIs(self.vhost.topic_by_id(a.topic_id), a)
        self.assertIsNone(self.vhost.topic("c"))
        self.assertIsNone(self.vhost.topic_by_id(b"\0" * 16))
        self.assertEqual(len(b.topic_id), 16)
        self.assertNotEqual(a.topic_id, b.topic_id)
        self.assertEqual([(p.topic, p.index) for p in b.partitions], [(b, 0), (b, 1)])

    def test_layout(self) -> None:
        """Partition directories and the metadata file sit in the percent-encoded vhost directory."""
        self.store.vhost("my/vhost").create_topic("t", 2)
        vhost_dir = os.path.join(self.data_dir, "vhosts", "my%2Fvhost")
        self.assertEqual(sorted(os.listdir(vhost_dir)), ["t-0", "t-1", "t.topic"])
        self.assertEqual(os.listdir(os.path.join(vhost_dir, "t-0")), [f"{0:020d}.log"])

    def test_vhosts_separate(self) -> None:
        """The same topic name in two vhosts is two topics."""
        self.vhost.create_topic("t", 1).partitions[0].append(make_batch())
        other = self.store.vhost("other").create_topic("t", 1)
        self.assertEqual(other.partitions[0].high_watermark, 0)
        self.assertEqual([v.name for v in self.store.vhosts()], ["/", "other"])

    def test_errors(self) -> None:
        """Bad names, duplicates, collisions, partition counts and configs are rejected."""
        self.vhost.create_topic("a.b", 1)
        self.assertEqual(self._code(self.vhost.create_topic, "a b", 1), ErrorCode.INVALID_TOPIC_EXCEPTION)
        self.assertEqual(self._code(self.vhost.create_topic, "a.b", 1), ErrorCode.TOPIC_ALREADY_EXISTS)
        self.assertEqual(self._code(self.vhost.create_topic, "a_b", 1), ErrorCode.INVALID_TOPIC_EXCEPTION)
        self.assertEqual(self._code(self.vhost.create_topic, "c", 0), ErrorCode.INVALID_PARTITIONS)
        self.assertEqual(
            self._code(self.vhost.create_topic, "c", 1, {"cleanup.policy": "forever"}), ErrorCode.INVALID_CONFIG
        )
        self.assertEqual([t.name for t in self.vhost.topics()], ["a.b"])

    def test_default_partitions(self) -> None:
        """-1 partitions means the store default."""
        store = self.reopen(self.store, num_partitions=3)
        self.assertEqual(len(store.vhost("/").create_topic("t", -1).partitions), 3)

    def test_validate_only(self) -> None:
        """validate_only checks everything but stores nothing."""
        topic = self.vhost.create_topic("t", 4, {"retention.ms": "1000"}, validate_only=True)
        self.assertEqual((topic.num_partitions, topic.config("retention.ms")), (4, "1000"))
        self.assertIsNone(self.vhost.topic("t"))
        self.assertEqual(os.listdir(self.vhost.directory), [])

    def test_internal_topic(self) -> None:
        """Names starting with '__' (the offsets log) are allowed."""
        self.vhost.create_topic("__consumer_offsets", 1).partitions[0].append(make_batch())

    def test_reopen(self) -> None:
        """Topics, ids, partition counts, configs and data survive a restart."""
        topic = self.vhost.create_topic("t", 3, {"retention.bytes": "12345"})
        topic.partitions[2].append(make_batch(4))
        store = self.reopen(self.store)
        again = store.vhost("/").topic("t")
        assert again is not None
        self.assertEqual(again.topic_id, topic.topic_id)
        self.assertEqual(len(again.partitions), 3)
        self.assertEqual(again.configs, {"retention.bytes": "12345"})
        self.assertEqual(again.partitions[2].high_watermark, 4)

    def test_delete(self) -> None:
        """A deleted topic is gone, its files removed, and the name can be reused."""
        topic = self.vhost.create_topic("t", 2)
        topic.partitions[0].append(make_batch())
        self.vhost.delete_topic("t")
        self.threads.run_all()
        self.assertIsNone(self.vhost.topic("t"))
        self.assertIsNone(self.vhost.topic_by_id(topic.topic_id))
        self.assertEqual(os.listdir(self.vhost.directory), [])
        for call in (lambda: topic.partitions[0].append(make_batch()), lambda: topic.partitions[0].read(0, 1)):
            with self.assertRaises(KafkaError) as e:
                call()
            self.assertEqual(e.exception.code, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
        again = self.vhost.create_topic("t", 1)
        self.assertEqual(again.partitions[0].high_watermark, 0)
        self.assertEqual(self._code(self.vhost.delete_topic, "nope"), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)

    def test_crash_during_delete(self) -> None:
        """Metadata renamed away but partition directories still there: the topic is gone after restart."""
        topic = self.vhost.create_topic("t", 2)
        topic.partitions[0].append(make_batch())
        self.vhost.create_topic("keep", 1).partitions[0].append(make_batch())
        os.rename(topic.metadata_path, topic.metadata_path + "-x.deleted")
        os.rename(topic.partitions[1].directory, topic.partitions[1].directory + "-x.deleted")
        store = self.reopen(self.store, clean=False)
        vhost = store.vhost("/")
        self.assertEqual([t.name for t in vhost.topics()], ["keep"])
        self.assertEqual(sorted(os.listdir(vhost.directory)), ["keep-0", "keep.topic"])
        self.assertEqual(vhost.topic("keep").partitions[0].high_watermark, 1)  # type: ignore[union-attr]

    def test_crash_during_create(self) -> None:
        """Partition directories without a metadata file are removed; the topic can be created."""
        topic = self.vhost.create_topic("t", 2)
        topic.partitions[0].append(make_batch())
        os.unlink(topic.metadata_path)
        store = self.reopen(self.store, clean=False)
        self.assertEqual(os.listdir(store.vhost("/").directory), [])
        self.assertEqual(store.vhost("/").create_topic("t", 1).partitions[0].high_watermark, 0)

    def test_missing_partition_directory(self) -> None:
        """A partition directory lost after the metadata was written is recreated empty."""
        import shutil

        topic = self.vhost.create_topic("t", 2)
        self.stop(self.store)
        shutil.rmtree(topic.partitions[1].directory)
        store = self.open_store()
        self.assertEqual(store.vhost("/").topic("t").partitions[1].high_watermark, 0)  # type: ignore[union-attr]

    def test_corrupt_metadata_refuses_start(self) -> None:
        """An unreadable topic metadata file stops start-up instead of dropping data."""
        from twisted_kafka.store.metafile import MetadataFileError

        topic = self.vhost.create_topic("t", 1)
        self.stop(self.store)
        with open(topic.metadata_path, "wb") as f:
            f.write(b"garbage")
        self.assertRaises(MetadataFileError, self.open_store)
        self.assertTrue(os.path.isdir(topic.partitions[0].directory))


class TopicConfigTests(StoreTestMixin, SynchronousTestCase):
    """Per-topic config overrides."""

    def setUp(self) -> None:
        """Set up what each test here uses."""
        super().setUp()
        self.store = self.open_store(retention_ms=1000)
        self.topic = self.store.vhost("/").create_topic("t", 1, {"retention.bytes": " 500 "})

    def test_effective_and_source(self) -> None:
        """Overrides win over store defaults; the source says which applies."""
        self.assertEqual(self.topic.configs, {"retention.bytes": "500"})
        self.assertEqual(self.topic.config("retention.bytes"), "500")
        self.assertEqual(self.topic.config_source("retention.bytes"), "topic")
        self.assertEqual(self.topic.config("retention.ms"), "1000")
        self.assertEqual(self.topic.config_source("retention.ms"), "default")
        self.assertEqual(self.topic.config("cleanup.policy"), "delete")
        with self.assertRaises(KafkaError) as e:
            self.topic.config("nope")
        self.assertEqual(e.exception.code, ErrorCode.INVALID_CONFIG)

    def test_set_and_delete(self) -> None:
        """set_configs sets and (with None) deletes overrides, persisted."""
        self.topic.set_configs({"retention.ms": "5000", "retention.bytes": None})
        self.assertEqual(self.topic.configs, {"retention.ms": "5000"})
        self.assertEqual((self.topic.settings.retention_ms, self.topic.settings.retention_bytes), (5000, -1))
        store = self.reopen(self.store, retention_ms=1000)
        self.assertEqual(store.vhost("/").topic("t").configs, {"retention.ms": "5000"})  # type: ignore[union-attr]

    def test_settings_flow_down(self) -> None:
        """Partitions hold the topic's frozen settings; a change replaces them with a new object."""
        self.topic.add_partitions(2)
        before = self.topic.settings
        self.assertEqual([p.settings for p in self.topic.partitions], [before, before])
        self.topic.set_configs({"max.message.bytes": "2000", "segment.ms": "60000"})
        after = self.topic.settings
        self.assertEqual((after.max_message_bytes, after.segment_ms), (2000, 60000))
        self.assertEqual(after.retention_bytes, 500)
        self.assertEqual([p.settings for p in self.topic.partitions], [after, after])
        self.assertNotEqual(before.max_message_bytes, 2000)
        with self.assertRaises(AttributeError):
            after.max_message_bytes = 1  # type: ignore[misc]

    def test_invalid_changes_nothing(self) -> None:
        """A bad value anywhere rejects the whole change."""
        with self.assertRaises(KafkaError) as e:
            self.topic.set_configs({"retention.ms": "5", "segment.bytes": "10"})
        self.assertEqual(e.exception.code, ErrorCode.INVALID_CONFIG)
        self.assertIn("segment.bytes", str(e.exception))
        self.assertEqual(self.topic.configs, {"retention.bytes": "500"})
        self.assertEqual(self.topic.partitions[0].settings.retention_ms, 1000)

    def test_compaction_lags_together(self) -> None:
        """The store refuses min.compaction.lag.ms above max.compaction.lag.ms, at creation and change."""
        with self.assertRaises(KafkaError) as e:
            self.store.vhost("/").create_topic("u", 1, {"min.compaction.lag.ms": "10",
                                                        "max.compaction.lag.ms": "9"})
        self.assertEqual(e.exception.code, ErrorCode.INVALID_CONFIG)
        self.assertIsNone(self.store.vhost("/").topic("u"))
        self.topic.set_configs({"max.compaction.lag.ms": "9"})
        with self.assertRaises(KafkaError) as e:
            self.topic.set_configs({"min.compaction.lag.ms": "10"})
        self.assertEqual(e.exception.code, ErrorCode.INVALID_CONFIG)
        self.assertEqual(self.topic.configs, {"retention.bytes": "500", "max.compaction.lag.ms": "9"})
        self.assertEqual(self.topic.settings.min_compaction_lag_ms, 0)

    def test_add_partitions(self) -> None:
        """Partitions can be added, never removed; the count persists."""
        self.topic.add_partitions(3)
        self.assertEqual([p.index for p in self.topic.partitions], [0, 1, 2])
        with self.assertRaises(KafkaError) as e:
            self.topic.add_partitions(3)
        self.assertEqual(e.exception.code, ErrorCode.INVALID_PARTITIONS)
        store = self.reopen(self.store)
        self.assertEqual(len(store.vhost("/").topic("t").partitions), 3)  # type: ignore[union-attr]
