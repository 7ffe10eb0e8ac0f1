# -*- test-case-name: tests.e2e.test_admin -*-
"""End-to-end tests of the admin APIs with real admin clients against the real broker.

confluent-kafka's C{AdminClient}, kafka-python's C{KafkaAdminClient} and
aiokafka's C{AIOKafkaAdminClient} each create topics with configs, describe
them, alter them (and retention then removes old segments on disk), add
partitions, delete records and topics, and see each error case's code and
message.  Records are produced with confluent-kafka's producer.
"""

from __future__ import annotations

import asyncio
import glob
import os
from typing import Any

from twisted.trial.unittest import SynchronousTestCase

from tests.e2e.harness import BrokerTestMixin

SEGMENT_BYTES = 1 << 20
VALUE = b"v" * (100 * 1024)
#: librdkafka logs only critical events: reconnection chatter after a
#: broker restart would bury the test output.
QUIET = {"log_level": 2}


def produce(bootstrap: str, topic: str, count: int, partition: int = 0) -> None:
    """Produce C{count} 100 KiB records to one partition and wait for them."""
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5,
                         "batch.size": 300 * 1024, "acks": "all", **QUIET})
    failures: list[Any] = []

    def delivered(error: Any, message: Any) -> None:
        if error is not None:
            failures.append(error)

    for _ in range(count):
        producer.produce(topic, VALUE, partition=partition, on_delivery=delivered)
        producer.poll(0)
    if producer.flush(30) or failures:
        raise AssertionError(f"produce failed: {failures}")


def segment_files(data_dir: str, topic: str, partition: int = 0) -> list[str]:
    """Return the live segment files of a partition of the default vhost."""
    return sorted(glob.glob(os.path.join(data_dir, "vhosts", "%2F", f"{topic}-{partition}", "*.log")))


def watermarks(bootstrap: str, topic: str, partition: int = 0) -> tuple[int, int]:
    """Return (log start offset, high watermark) of a partition as a consumer sees them."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "watermarks", **QUIET})
    try:
        low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
    finally:
        consumer.close()
    return int(low), int(high)


class ConfluentAdminTests(BrokerTestMixin, SynchronousTestCase):
    """confluent-kafka (librdkafka) AdminClient."""

    def admin(self) -> Any:
        """Return an AdminClient on this test's broker."""
        from confluent_kafka.admin import AdminClient

        return AdminClient({"bootstrap.servers": self.broker.bootstrap, **QUIET})

    def error_of(self, future: Any) -> tuple[int, str]:
        """Return the (code, message) a failed admin future carries."""
        from confluent_kafka import KafkaException

        try:
            future.result(10)
        except KafkaException as e:
            return e.args[0].code(), e.args[0].str()
        self.fail("the operation succeeded")

    def test_topic_lifecycle(self) -> None:
        """Create with configs, describe, alter, add partitions, delete: all take effect."""
        from confluent_kafka.admin import (
            AlterConfigOpType, ConfigEntry, ConfigResource, ConfigSource, NewPartitions, NewTopic,
            ResourceType,
        )

        admin = self.admin()
        futures = admin.create_topics([
            NewTopic("orders", 2, 1, config={"retention.ms": "60000",
                                             "message.timestamp.type": "LogAppendTime"}),
            NewTopic("plain", -1, -1)])
        for future in futures.values():
            future.result(10)
        resource = ConfigResource(ResourceType.TOPIC, "orders")
        configs = admin.describe_configs([resource])[resource].result(10)
        self.assertEqual(configs["retention.ms"].value, "60000")
        self.assertEqual(configs["retention.ms"].source, ConfigSource.DYNAMIC_TOPIC_CONFIG.value)
        self.assertEqual(configs["message.timestamp.type"].value, "LogAppendTime")
        self.assertEqual(configs["segment.bytes"].value, str(1 << 30))
        self.assertEqual(configs["segment.bytes"].source, ConfigSource.DEFAULT_CONFIG.value)
        self.assertTrue(configs["segment.bytes"].is_default)

        change = ConfigResource(ResourceType.TOPIC, "orders", incremental_configs=[
            ConfigEntry("retention.bytes", "5000000", incremental_operation=AlterConfigOpType.SET),
            ConfigEntry("retention.ms", None, incremental_operation=AlterConfigOpType.DELETE)])
        admin.incremental_alter_configs([change])[change].result(10)
        configs = admin.describe_configs([resource])[resource].result(10)
        self.assertEqual(configs["retention.bytes"].value, "5000000")
        self.assertEqual(configs["retention.bytes"].source, ConfigSource.DYNAMIC_TOPIC_CONFIG.value)
        self.assertEqual(configs["retention.ms"].value, str(7 * 24 * 3600 * 1000))
        self.assertEqual(configs["retention.ms"].source, ConfigSource.DEFAULT_CONFIG.value)

        admin.create_partitions([NewPartitions("orders", 4)])["orders"].result(10)
        metadata = admin.list_topics(timeout=10)
        self.assertEqual(len(metadata.topics["orders"].partitions), 4)
        self.assertEqual(len(metadata.topics["plain"].partitions), 1)

        cluster = admin.describe_cluster().result(10)
        self.assertEqual([node.id for node in cluster.nodes], [0])
        self.assertEqual(cluster.controller.id, 0)

        for future in admin.delete_topics(["orders", "plain"]).values():
            future.result(10)
        self.assertNotIn("orders", admin.list_topics(timeout=10).topics)

    def test_kafka_topic_configs(self) -> None:
        """create_topics with configs tools set (compression.type, min.insync.replicas, ...) succeeds."""
        from confluent_kafka import KafkaError
        from confluent_kafka.admin import ConfigResource, ConfigSource, NewTopic, ResourceType

        admin = self.admin()
        config = {"compression.type": "gzip", "min.insync.replicas": "2",
                  "message.timestamp.after.max.ms": "60000", "preallocate": "true",
                  "unclean.leader.election.enable": "false", "remote.storage.enable": "false",
                  "leader.replication.throttled.replicas": "*"}
        admin.create_topics([NewTopic("tuned", 1, 1, config=config)])["tuned"].result(10)
        resource = ConfigResource(ResourceType.TOPIC, "tuned")
        configs = admin.describe_configs([resource])[resource].result(10)
        for name, value in config.items():
            self.assertEqual(configs[name].value, value, name)
            self.assertEqual(configs[name].source, ConfigSource.DYNAMIC_TOPIC_CONFIG.value, name)
        self.assertEqual(configs["compression.zstd.level"].value, "3")
        self.assertEqual(configs["compression.zstd.level"].source, ConfigSource.DEFAULT_CONFIG.value)
        code, message = self.error_of(admin.create_topics([NewTopic(
            "tiered", 1, 1, config={"remote.storage.enable": "true"})])["tiered"])
        self.assertIn("Tiered Storage functionality is disabled", message)
        code, message = self.error_of(admin.create_topics([NewTopic(
            "old", 1, 1, config={"message.downconversion.enable": "true"})])["old"])
        self.assertIn("Unknown topic config name: message.downconversion.enable", message)
        code, message = self.error_of(admin.create_topics([NewTopic(
            "lags", 1, 1, config={"min.compaction.lag.ms": "2000", "max.compaction.lag.ms": "1000"})])["lags"])
        self.assertEqual(code, KafkaError.INVALID_CONFIG)
        self.assertIn("min.compaction.lag.ms (2000) > max.compaction.lag.ms (1000)", message)

    def test_errors(self) -> None:
        """Each refused request comes back with Kafka's code and a message saying why."""
        from confluent_kafka.admin import (
            AlterConfigOpType, ConfigEntry, ConfigResource, NewPartitions, NewTopic, ResourceType,
        )

        admin = self.admin()
        admin.create_topics([NewTopic("t", 2, 1)])["t"].result(10)
        cases = [
            (NewTopic("replicated", 1, 3), 38, "single-node broker"),
            (NewTopic("t", 1, 1), 36, "already exists"),
            (NewTopic("unknown", 1, 1, config={"flush.everything": "1"}), 40, "flush.everything"),
            (NewTopic("malformed", 1, 1, config={"retention.ms": "soon"}), 40, "retention.ms"),
            (NewTopic("policy", 1, 1, config={"cleanup.policy": "forever"}), 40,
             "cleanup.policy"),
            (NewTopic("bad name!", 1, 1), 17, "illegal"),
        ]
        futures = admin.create_topics([case[0] for case in cases])
        for new_topic, code, words in cases:
            error_code, message = self.error_of(futures[new_topic.topic])
            self.assertEqual(error_code, code, new_topic.topic)
            self.assertIn(words, message)

        admin.create_topics([NewTopic("checked", 1, 1)], validate_only=True)["checked"].result(10)
        self.assertNotIn("checked", admin.list_topics(timeout=10).topics)

        change = ConfigResource(ResourceType.TOPIC, "t", incremental_configs=[
            ConfigEntry("retention.ms", "5", incremental_operation=AlterConfigOpType.APPEND)])
        code, message = self.error_of(admin.incremental_alter_configs([change])[change])
        self.assertEqual((code, message), (40, "Can't APPEND to key retention.ms because its "
                                               "type is not LIST."))
        broker = ConfigResource(ResourceType.BROKER, "0", incremental_configs=[
            ConfigEntry("num.partitions", "3", incremental_operation=AlterConfigOpType.SET)])
        code, message = self.error_of(admin.incremental_alter_configs([broker])[broker])
        self.assertEqual(code, 42)
        self.assertIn("read-only", message)

        code, message = self.error_of(admin.create_partitions([NewPartitions("t", 1)])["t"])
        self.assertEqual(code, 37)
        self.assertIn("would not be an increase", message)
        missing = ConfigResource(ResourceType.TOPIC, "missing")
        code, _ = self.error_of(admin.describe_configs([missing])[missing])
        self.assertEqual(code, 3)
        code, _ = self.error_of(admin.delete_topics(["missing"])["missing"])
        self.assertEqual(code, 3)

    def test_retention_and_delete_records(self) -> None:
        """Lowering retention.bytes removes old segments; DeleteRecords moves the start on.

        Both survive a restart, as does the altered config.
        """
        from confluent_kafka import TopicPartition
        from confluent_kafka.admin import (
            AlterConfigOpType, ConfigEntry, ConfigResource, NewTopic, ResourceType,
        )

        admin = self.admin()
        admin.create_topics([NewTopic("logs", 1, 1, config={
            "segment.bytes": str(SEGMENT_BYTES)})])["logs"].result(10)
        produce(self.broker.bootstrap, "logs", 40)
        before = segment_files(self.broker.data_dir, "logs")
        self.assertGreaterEqual(len(before), 4)
        self.assertEqual(watermarks(self.broker.bootstrap, "logs"), (0, 40))

        change = ConfigResource(ResourceType.TOPIC, "logs", incremental_configs=[
            ConfigEntry("retention.bytes", str(SEGMENT_BYTES),
                        incremental_operation=AlterConfigOpType.SET)])
        admin.incremental_alter_configs([change])[change].result(10)
        after = segment_files(self.broker.data_dir, "logs")
        self.assertLess(len(after), len(before))
        self.assertEqual(after, before[-len(after):])
        start, end = watermarks(self.broker.bootstrap, "logs")
        self.assertGreater(start, 0)
        self.assertEqual(end, 40)

        [deleted] = admin.delete_records([TopicPartition("logs", 0, 38)]).values()
        self.assertEqual(deleted.result(10).low_watermark, 38)
        self.assertEqual(watermarks(self.broker.bootstrap, "logs"), (38, 40))

        self.broker.restart()
        admin = self.admin()
        resource = ConfigResource(ResourceType.TOPIC, "logs")
        configs = admin.describe_configs([resource])[resource].result(10)
        self.assertEqual(configs["retention.bytes"].value, str(SEGMENT_BYTES))
        self.assertEqual(configs["segment.bytes"].value, str(SEGMENT_BYTES))
        self.assertEqual(watermarks(self.broker.bootstrap, "logs"), (38, 40))


class KafkaPythonAdminTests(BrokerTestMixin, SynchronousTestCase):
    """kafka-python's KafkaAdminClient."""

    def admin(self) -> Any:
        """Return a KafkaAdminClient on this test's broker, closed after the test."""
        from kafka.admin import KafkaAdminClient

        client = KafkaAdminClient(bootstrap_servers=self.broker.bootstrap)
        self.addCleanup(client.close)
        return client

    def test_topic_lifecycle(self) -> None:
        """Create with configs, describe, alter (retention acts), add partitions, delete."""
        from kafka import TopicPartition
        from kafka.admin import ConfigResource, ConfigResourceType, NewPartitions, NewTopic

        admin = self.admin()
        admin.create_topics([NewTopic("events", 1, 1, topic_configs={
            "segment.bytes": str(SEGMENT_BYTES), "retention.ms": "86400000"})])
        resource = ConfigResource(ConfigResourceType.TOPIC, "events")
        described = admin.describe_configs([resource], config_filter="all")
        configs = described["topic"]["events"]
        self.assertEqual(configs["retention.ms"]["value"], "86400000")
        self.assertEqual(configs["retention.ms"]["config_source"], "DYNAMIC_TOPIC_CONFIG")
        self.assertEqual(configs["retention.bytes"]["config_source"], "DEFAULT_CONFIG")

        produce(self.broker.bootstrap, "events", 30)
        before = segment_files(self.broker.data_dir, "events")
        result = admin.alter_configs([ConfigResource(
            ConfigResourceType.TOPIC, "events", configs={"retention.bytes": str(SEGMENT_BYTES)})])
        self.assertEqual(result, {"topic": {"events": "OK"}})
        self.assertLess(len(segment_files(self.broker.data_dir, "events")), len(before))
        modified = admin.describe_configs([resource])["topic"]["events"]
        self.assertEqual(set(modified), {"segment.bytes", "retention.ms", "retention.bytes"})

        admin.create_partitions({"events": NewPartitions(3)})
        cluster = admin.describe_cluster()
        self.assertEqual([b["broker_id"] for b in cluster["brokers"]], [0])
        self.assertEqual(cluster["controller_id"], 0)

        deleted = admin.delete_records({TopicPartition("events", 0): 29})
        self.assertEqual(deleted[TopicPartition("events", 0)]["low_watermark"], 29)
        self.assertEqual(watermarks(self.broker.bootstrap, "events", 0), (29, 30))
        self.assertEqual(watermarks(self.broker.bootstrap, "events", 2), (0, 0))

        response = admin.delete_topics(["events"])
        self.assertEqual([t["error_code"] for t in response["topics"]], [0])
        self.assertNotIn("events", admin.list_topics())

    def test_errors(self) -> None:
        """Refusals raise the matching kafka-python errors, carrying the broker's message."""
        from kafka import errors
        from kafka.admin import ConfigResource, ConfigResourceType, NewPartitions, NewTopic

        admin = self.admin()
        admin.create_topics([NewTopic("t", 1, 1)])
        cases = [
            (NewTopic("r", 1, 2), errors.InvalidReplicationFactorError, "single-node broker"),
            (NewTopic("t", 1, 1), errors.TopicAlreadyExistsError, "already exists"),
            (NewTopic("c", 1, 1, topic_configs={"cleanup.policy": "forever"}),
             errors.InvalidConfigurationError, "cleanup.policy"),
            (NewTopic("u", 1, 1, topic_configs={"unknown.key": "1"}),
             errors.InvalidConfigurationError, "unknown.key"),
        ]
        for new_topic, error, words in cases:
            with self.assertRaises(error) as raised:
                admin.create_topics([new_topic])
            self.assertIn(words, str(raised.exception))
        with self.assertRaises(errors.InvalidPartitionsError):
            admin.create_partitions({"t": NewPartitions(1)})
        with self.assertRaises(errors.UnknownTopicOrPartitionError):
            admin.delete_topics(["missing"])
        result = admin.alter_configs([ConfigResource(
            ConfigResourceType.TOPIC, "t", configs={"max.message.bytes": "lots"})],
            raise_on_unknown=False, incremental=False)
        self.assertIn("InvalidConfigurationError", result["topic"]["t"])
        self.assertIn("max.message.bytes", result["topic"]["t"])


class AIOKafkaAdminTests(BrokerTestMixin, SynchronousTestCase):
    """aiokafka's AIOKafkaAdminClient (driven by asyncio.run in the test)."""

    def run_admin(self, work: Any) -> Any:
        """Run C{await work(admin)} with a started client; return its result."""
        from aiokafka.admin import AIOKafkaAdminClient

        async def main() -> Any:
            admin = AIOKafkaAdminClient(bootstrap_servers=self.broker.bootstrap)
            await admin.start()
            try:
                return await work(admin)
            finally:
                await admin.close()

        return asyncio.run(main())

    def test_topic_lifecycle(self) -> None:
        """Create with configs, describe, alter (retention acts), add partitions, delete."""
        from aiokafka.admin import NewPartitions, NewTopic
        from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
        from aiokafka.admin.records_to_delete import RecordsToDelete
        from aiokafka.structs import TopicPartition

        topic = ConfigResource(ConfigResourceType.TOPIC, "metrics")
        bootstrap = self.broker.bootstrap

        async def create(admin: Any) -> Any:
            created = await admin.create_topics([NewTopic("metrics", 1, 1, topic_configs={
                "segment.bytes": str(SEGMENT_BYTES), "retention.ms": "3600000"})])
            [described] = await admin.describe_configs([topic], include_synonyms=True)
            return created, described

        created, described = self.run_admin(create)
        self.assertEqual([t[1] for t in created.topic_errors], [0])
        entries = {e[0]: e for e in described.resources[0][4]}
        self.assertEqual(entries["retention.ms"][1], "3600000")
        self.assertEqual(entries["retention.ms"][3], 1)
        self.assertEqual(entries["retention.ms"][5][0][0], "retention.ms")
        self.assertEqual(entries["segment.ms"][3], 5)

        produce(bootstrap, "metrics", 30)
        before = segment_files(self.broker.data_dir, "metrics")

        async def alter(admin: Any) -> Any:
            [altered] = await admin.alter_configs([ConfigResource(
                ConfigResourceType.TOPIC, "metrics",
                configs={"segment.bytes": str(SEGMENT_BYTES),
                         "retention.bytes": str(SEGMENT_BYTES)})])
            partitions = await admin.create_partitions({"metrics": NewPartitions(2)})
            deleted = await admin.delete_records(
                {TopicPartition("metrics", 0): RecordsToDelete(29)})
            cluster = await admin.describe_cluster()
            return altered, partitions, deleted, cluster

        altered, partitions, deleted, cluster = self.run_admin(alter)
        self.assertEqual(altered.resources[0][0], 0)
        self.assertLess(len(segment_files(self.broker.data_dir, "metrics")), len(before))
        self.assertEqual(partitions.topic_errors[0][1], 0)
        self.assertEqual(deleted, {TopicPartition("metrics", 0): 29})
        self.assertEqual(cluster["controller_id"], 0)
        self.assertEqual(watermarks(bootstrap, "metrics", 1), (0, 0))

        async def delete(admin: Any) -> Any:
            return await admin.delete_topics(["metrics", "missing"])

        response = self.run_admin(delete)
        self.assertEqual(sorted(response.topic_error_codes), [("metrics", 0), ("missing", 3)])

    def test_errors(self) -> None:
        """Refused creations and alterations carry their code and message."""
        from aiokafka.admin import NewTopic
        from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

        async def work(admin: Any) -> Any:
            created = await admin.create_topics([
                NewTopic("r", 1, 3),
                NewTopic("c", 1, 1, topic_configs={"cleanup.policy": "forever"})])
            [no_topics, altered] = await admin.alter_configs([
                ConfigResource(ConfigResourceType.BROKER, "0", configs={"num.partitions": "5"})])
            return created, altered

        created, altered = self.run_admin(work)
        errors = {name: (code, message) for name, code, message in created.topic_errors}
        self.assertEqual(errors["r"][0], 38)
        self.assertIn("single-node broker", errors["r"][1])
        self.assertEqual(errors["c"][0], 40)
        self.assertIn("cleanup.policy", errors["c"][1])
        code, message = altered.resources[0][:2]
        self.assertEqual(code, 42)
        self.assertIn("num.partitions", message)
