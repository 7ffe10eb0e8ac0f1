# -*- test-case-name: tests.apis.test_admin_configs -*-
"""Tests for DescribeConfigs, AlterConfigs and IncrementalAlterConfigs, through the codec."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from tests.apis.support import call, make_broker, roundtrip
from tests.apis.test_admin_topics import create_one, reopen_store
from twisted_kafka.apis import config_apis
from twisted_kafka.apis.support.config_values import DEFAULT_CONFIG, DYNAMIC_TOPIC_CONFIG, STATIC_BROKER_CONFIG
from twisted_kafka.broker import Broker
from twisted_kafka.errors import ErrorCode
from twisted_kafka.records.record import build_batch
from twisted_kafka.store.topic_configs import TOPIC_CONFIGS

TOPIC, BROKER = 2, 4
SET, DELETE, APPEND, SUBTRACT = 0, 1, 2, 3


def describe(broker: Broker, resource_type: int, name: str, keys: list[str] | None = None,
             version: int = 4, synonyms: bool = False, documentation: bool = False) -> dict:
    """Describe one resource; return its result entry."""
    request = {"resources": [{"resource_type": resource_type, "resource_name": name,
                              "configuration_keys": keys}],
               "include_synonyms": synonyms, "include_documentation": documentation}
    response = call(broker, config_apis.DESCRIBE_CONFIGS, version, request)
    [result] = roundtrip(config_apis.DESCRIBE_CONFIGS, version, response)["results"]
    return result


def by_name(result: dict) -> dict[str, dict]:
    """Return a DescribeConfigs result's configs by name."""
    return {c["name"]: c for c in result["configs"]}


def alter(broker: Broker, resources: list[tuple[int, str, dict[str, str | None]]],
          version: int = 2, validate_only: bool = False) -> list[dict]:
    """Send AlterConfigs; return the per-resource responses."""
    request = {"resources": [
        {"resource_type": t, "resource_name": n,
         "configs": [{"name": k, "value": v} for k, v in c.items()]}
        for t, n, c in resources], "validate_only": validate_only}
    response = call(broker, config_apis.ALTER_CONFIGS, version, request)
    return roundtrip(config_apis.ALTER_CONFIGS, version, response)["responses"]


def incremental(broker: Broker, resource_type: int, name: str,
                operations: list[tuple[str, int, str | None]], version: int = 1,
                validate_only: bool = False) -> dict:
    """Send IncrementalAlterConfigs for one resource; return its response."""
    request = {"resources": [{
        "resource_type": resource_type, "resource_name": name,
        "configs": [{"name": k, "config_operation": op, "value": v} for k, op, v in operations],
    }], "validate_only": validate_only}
    response = call(broker, config_apis.INCREMENTAL_ALTER_CONFIGS, version, request)
    [result] = roundtrip(config_apis.INCREMENTAL_ALTER_CONFIGS, version, response)["responses"]
    return result


class DescribeConfigsTests(SynchronousTestCase):
    """DescribeConfigs reports topic and broker configs with their sources."""

    def setUp(self) -> None:
        """Set up what each test here uses."""
        self.broker = make_broker(self, kafka={"num_partitions": 4},
                                  store={"retention_bytes": 5000000})
        create_one(self.broker, "t", 1, 1, configs={"retention.ms": "60000"})

    def test_topic(self) -> None:
        """Every topic config is listed; overrides have source DYNAMIC_TOPIC_CONFIG."""
        result = describe(self.broker, TOPIC, "t")
        self.assertEqual(result["error_code"], ErrorCode.NONE)
        found = by_name(result)
        self.assertEqual(set(found), set(TOPIC_CONFIGS))
        self.assertEqual(found["retention.ms"]["value"], "60000")
        self.assertEqual(found["retention.ms"]["config_source"], DYNAMIC_TOPIC_CONFIG)
        self.assertEqual(found["segment.bytes"]["value"], str(1 << 30))
        self.assertEqual(found["segment.bytes"]["config_source"], DEFAULT_CONFIG)
        self.assertEqual(found["cleanup.policy"]["value"], "delete")
        self.assertFalse(found["retention.ms"]["read_only"])
        self.assertFalse(found["retention.ms"]["is_sensitive"])
        self.assertEqual(found["retention.ms"]["synonyms"], [])
        self.assertIsNone(found["retention.ms"]["documentation"])

    def test_static_broker_source(self) -> None:
        """A default set in the configuration file has source STATIC_BROKER_CONFIG."""
        found = by_name(describe(self.broker, TOPIC, "t", synonyms=True))
        entry = found["retention.bytes"]
        self.assertEqual(entry["value"], "5000000")
        self.assertEqual(entry["config_source"], STATIC_BROKER_CONFIG)
        self.assertEqual(entry["synonyms"], [
            {"name": "log.retention.bytes", "value": "5000000", "source": STATIC_BROKER_CONFIG},
            {"name": "log.retention.bytes", "value": "-1", "source": DEFAULT_CONFIG},
        ])

    def test_synonyms(self) -> None:
        """With include_synonyms an override lists itself, then the broker default."""
        found = by_name(describe(self.broker, TOPIC, "t", synonyms=True))
        self.assertEqual(found["retention.ms"]["synonyms"], [
            {"name": "retention.ms", "value": "60000", "source": DYNAMIC_TOPIC_CONFIG},
            {"name": "log.retention.ms", "value": "604800000", "source": DEFAULT_CONFIG},
        ])

    def test_kafka_defaults_and_synonyms(self) -> None:
        """Configs without a [store] setting show Kafka's default under Kafka's broker name."""
        create_one(self.broker, "c", 1, 1, configs={"compression.type": "gzip",
                                                    "leader.replication.throttled.replicas": "*"})
        found = by_name(describe(self.broker, TOPIC, "c", synonyms=True, documentation=True))
        self.assertEqual(found["compression.type"]["synonyms"], [
            {"name": "compression.type", "value": "gzip", "source": DYNAMIC_TOPIC_CONFIG},
            {"name": "compression.type", "value": "producer", "source": DEFAULT_CONFIG},
        ])
        self.assertEqual(found["min.insync.replicas"]["value"], "1")
        self.assertEqual(found["min.insync.replicas"]["synonyms"], [
            {"name": "min.insync.replicas", "value": "1", "source": DEFAULT_CONFIG}])
        self.assertEqual(found["preallocate"]["config_type"], 1)
        self.assertEqual(found["message.timestamp.after.max.ms"]["synonyms"], [
            {"name": "log.message.timestamp.after.max.ms", "value": "3600000",
             "source": DEFAULT_CONFIG}])
        self.assertIn("no effect", found["preallocate"]["documentation"])

    def test_configs_without_broker_synonym(self) -> None:
        """A config Kafka gives no broker config has only its override as a synonym."""
        create_one(self.broker, "c", 1, 1, configs={"leader.replication.throttled.replicas": "0:0"})
        found = by_name(describe(self.broker, TOPIC, "c", synonyms=True))
        entry = found["leader.replication.throttled.replicas"]
        self.assertEqual((entry["value"], entry["config_source"]), ("0:0", DYNAMIC_TOPIC_CONFIG))
        self.assertEqual(entry["synonyms"], [
            {"name": "leader.replication.throttled.replicas", "value": "0:0",
             "source": DYNAMIC_TOPIC_CONFIG}])
        entry = found["remote.storage.enable"]
        self.assertEqual((entry["value"], entry["config_source"], entry["synonyms"]),
                         ("false", DEFAULT_CONFIG, []))

    def test_documentation(self) -> None:
        """v3+ with include_documentation gives each config's type and documentation."""
        found = by_name(describe(self.broker, TOPIC, "t", documentation=True, version=3))
        self.assertEqual(found["retention.ms"]["config_type"], 5)
        self.assertEqual(found["cleanup.policy"]["config_type"], 7)
        self.assertEqual(found["retention.ms"]["documentation"], TOPIC_CONFIGS["retention.ms"].doc)

    def test_v1(self) -> None:
        """v1 (the oldest served) has sources and synonyms."""
        found = by_name(describe(self.broker, TOPIC, "t", version=1, synonyms=True))
        self.assertEqual(found["retention.ms"]["config_source"], DYNAMIC_TOPIC_CONFIG)
        self.assertEqual(len(found["retention.ms"]["synonyms"]), 2)

    def test_keys(self) -> None:
        """configuration_keys limits the answer (unknown keys are left out); empty means all."""
        result = describe(self.broker, TOPIC, "t", keys=["retention.ms", "no.such"])
        self.assertEqual([c["name"] for c in result["configs"]], ["retention.ms"])
        result = describe(self.broker, TOPIC, "t", keys=[])
        self.assertEqual(set(by_name(result)), set(TOPIC_CONFIGS))

    def test_unknown_topic(self) -> None:
        """An unknown topic is UNKNOWN_TOPIC_OR_PARTITION."""
        result = describe(self.broker, TOPIC, "nope")
        self.assertEqual(result["error_code"], ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
        self.assertEqual(result["configs"], [])

    def test_invalid_topic(self) -> None:
        """An illegal topic name is INVALID_TOPIC_EXCEPTION."""
        result = describe(self.broker, TOPIC, "no way")
        self.assertEqual(result["error_code"], ErrorCode.INVALID_TOPIC_EXCEPTION)

    def test_broker(self) -> None:
        """The broker's configs are read-only, sourced from the configuration file."""
        found = by_name(describe(self.broker, BROKER, "0", synonyms=True))
        self.assertEqual(found["num.partitions"]["value"], "4")
        self.assertEqual(found["num.partitions"]["config_source"], STATIC_BROKER_CONFIG)
        self.assertTrue(found["num.partitions"]["read_only"])
        self.assertEqual(found["auto.create.topics.enable"]["value"], "true")
        self.assertEqual(found["auto.create.topics.enable"]["config_source"], DEFAULT_CONFIG)
        self.assertEqual(found["log.retention.bytes"]["value"], "5000000")
        self.assertEqual(found["log.retention.ms"]["value"], "604800000")
        self.assertEqual(found["default.replication.factor"]["value"], "1")
        self.assertEqual(found["log.segment.bytes"]["synonyms"][0]["name"], "log.segment.bytes")
        self.assertEqual(found["min.insync.replicas"]["value"], "1")
        self.assertEqual(found["compression.type"]["value"], "producer")
        self.assertEqual(found["log.message.timestamp.after.max.ms"]["value"], "3600000")
        self.assertNotIn("remote.storage.enable", found)
        names = [c["name"] for c in describe(self.broker, BROKER, "0")["configs"]]
        self.assertEqual(len(names), len(set(names)))

    def test_broker_defaults(self) -> None:
        """The cluster-default broker resource ("") has no dynamic configs."""
        result = describe(self.broker, BROKER, "")
        self.assertEqual((result["error_code"], result["configs"]), (ErrorCode.NONE, []))

    def test_other_broker(self) -> None:
        """Another broker id, or a non-number, is INVALID_REQUEST."""
        for name, words in (("7", "Unexpected broker id"), ("x", "must be an integer")):
            result = describe(self.broker, BROKER, name)
            self.assertEqual(result["error_code"], ErrorCode.INVALID_REQUEST)
            self.assertIn(words, result["error_message"])

    def test_unsupported_type(self) -> None:
        """Resource types other than topic and broker are INVALID_REQUEST."""
        for resource_type in (8, 99):
            result = describe(self.broker, resource_type, "x")
            self.assertEqual(result["error_code"], ErrorCode.INVALID_REQUEST)


class AlterConfigsTests(SynchronousTestCase):
    """AlterConfigs replaces a topic's overrides."""

    def setUp(self) -> None:
        """Set up what each test here uses."""
        self.broker = make_broker(self)
        create_one(self.broker, "t", 1, 1, configs={"retention.ms": "60000"})
        self.topic = self.broker.store.vhost("/").topic("t")

    def test_replace(self) -> None:
        """The given configs become the only overrides."""
        [result] = alter(self.broker, [(TOPIC, "t", {"retention.bytes": "100000000"})], version=0)
        self.assertEqual(result["error_code"], ErrorCode.NONE)
        self.assertEqual(self.topic.configs, {"retention.bytes": "100000000"})
        self.assertEqual(self.topic.settings.retention_ms, 7 * 24 * 3600 * 1000)
        self.assertEqual(self.topic.settings.retention_bytes, 100000000)

    def test_validate_only(self) -> None:
        """validate_only changes nothing."""
        [result] = alter(self.broker, [(TOPIC, "t", {"retention.bytes": "1"})], validate_only=True)
        self.assertEqual(result["error_code"], ErrorCode.NONE)
        self.assertEqual(self.topic.configs, {"retention.ms": "60000"})

    def test_invalid(self) -> None:
        """Unknown names and bad values are INVALID_CONFIG naming the key."""
        for key, value, words in (("nope.ms", "1", "nope.ms"),
                                  ("segment.ms", "x", "segment.ms"),
                                  ("cleanup.policy", "forever", "cleanup.policy"),
                                  ("min.cleanable.dirty.ratio", "1.5", "min.cleanable.dirty.ratio")):
            [result] = alter(self.broker, [(TOPIC, "t", {key: value})])
            self.assertEqual(result["error_code"], ErrorCode.INVALID_CONFIG)
            self.assertIn(words, result["error_message"])
        self.assertEqual(self.topic.configs, {"retention.ms": "60000"})

    def test_null(self) -> None:
        """A null value is INVALID_REQUEST."""
        [result] = alter(self.broker, [(TOPIC, "t", {"retention.ms": None})])
        self.assertEqual(result["error_code"], ErrorCode.INVALID_REQUEST)

    def test_unknown_topic(self) -> None:
        """An unknown topic is UNKNOWN_TOPIC_OR_PARTITION."""
        [result] = alter(self.broker, [(TOPIC, "nope", {"retention.ms": "1"})])
        self.assertEqual(result["error_code"], ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)

    def test_duplicate_resource(self) -> None:
        """A resource named twice is INVALID_REQUEST for both."""
        results = alter(self.broker, [(TOPIC, "t", {}), (TOPIC, "t", {})])
        self.assertEqual([r["error_code"] for r in results], [ErrorCode.INVALID_REQUEST] * 2)

    def test_broker(self) -> None:
        """Changing a broker config is INVALID_REQUEST: they are read-only."""
        [result] = alter(self.broker, [(BROKER, "0", {"num.partitions": "3"})])
        self.assertEqual(result["error_code"], ErrorCode.INVALID_REQUEST)
        self.assertIn("num.partitions", result["error_message"])
        self.assertIn("read-only", result["error_message"])
        [result] = alter(self.broker, [(BROKER, "5", {})])
        self.assertEqual(result["error_code"], ErrorCode.INVALID_REQUEST)

    def test_internal(self) -> None:
        """Internal stream queues cannot be reconfigured: POLICY_VIOLATION."""
        self.broker.store.vhost("/").create_topic("__internal", 1)
        [result] = alter(self.broker, [(TOPIC, "__internal", {"retention.ms": "1"})])
        self.assertEqual(result["error_code"], ErrorCode.POLICY_VIOLATION)
        result = incremental(self.broker, TOPIC, "__internal", [("retention.ms", SET, "1")])
        self.assertEqual(result["error_code"], ErrorCode.POLICY_VIOLATION)
        self.assertEqual(by_name(describe(self.broker, TOPIC, "__internal"))["retention.ms"]
                         ["value"], "604800000")

    def test_broker_logger(self) -> None:
        """Legacy AlterConfigs on any other resource type is INVALID_REQUEST."""
        [result] = alter(self.broker, [(8, "0", {"kafka": "DEBUG"})])
        self.assertEqual(result["error_code"], ErrorCode.INVALID_REQUEST)


class CompactionLagCombinationTests(SynchronousTestCase):
    """min.compaction.lag.ms above max.compaction.lag.ms is INVALID_CONFIG, checked with the topic's other values."""

    MESSAGE = "conflict topic config setting min.compaction.lag.ms (2000) > max.compaction.lag.ms (1000)"

    def setUp(self) -> None:
        """A topic whose max.compaction.lag.ms is 1000."""
        self.broker = make_broker(self)
        create_one(self.broker, "t", 1, 1, configs={"max.compaction.lag.ms": "1000"})
        self.topic = self.broker.store.vhost("/").topic("t")

    def test_create_topics(self) -> None:
        """CreateTopics (also validate_only) refuses the pair and creates nothing."""
        for validate_only in (True, False):
            result = create_one(self.broker, "u", 1, 1, validate_only=validate_only, configs={
                "min.compaction.lag.ms": "2000", "max.compaction.lag.ms": "1000"})
            self.assertEqual((result["error_code"], result["error_message"]),
                             (ErrorCode.INVALID_CONFIG, self.MESSAGE))
        self.assertIsNone(self.broker.store.vhost("/").topic("u"))

    def test_incremental(self) -> None:
        """SET of min above the topic's max is refused (validate_only too); deleting max with it is fine."""
        for validate_only in (True, False):
            result = incremental(self.broker, TOPIC, "t", [("min.compaction.lag.ms", SET, "2000")],
                                 validate_only=validate_only)
            self.assertEqual((result["error_code"], result["error_message"]),
                             (ErrorCode.INVALID_CONFIG, self.MESSAGE))
        self.assertEqual(self.topic.configs, {"max.compaction.lag.ms": "1000"})
        result = incremental(self.broker, TOPIC, "t", [("min.compaction.lag.ms", SET, "2000"),
                                                      ("max.compaction.lag.ms", DELETE, None)])
        self.assertEqual(result["error_code"], ErrorCode.NONE)
        self.assertEqual(self.topic.settings.min_compaction_lag_ms, 2000)

    def test_alter(self) -> None:
        """AlterConfigs checks the overrides it leaves (others revert to their defaults)."""
        [result] = alter(self.broker, [(TOPIC, "t", {"min.compaction.lag.ms": "2000",
                                                     "max.compaction.lag.ms": "1000"})], validate_only=True)
        self.assertEqual((result["error_code"], result["error_message"]), (ErrorCode.INVALID_CONFIG, self.MESSAGE))
        [result] = alter(self.broker, [(TOPIC, "t", {"min.compaction.lag.ms": "2000"})])
        self.assertEqual(result["error_code"], ErrorCode.NONE)
        self.assertEqual(self.topic.configs, {"min.compaction.lag.ms": "2000"})


class IncrementalAlterConfigsTests(SynchronousTestCase):
    """IncrementalAlterConfigs changes single topic configs."""

    def setUp(self) -> None:
        """Set up what each test here uses."""
        self.broker = make_broker(self, store={"segment_bytes": 1000})
        create_one(self.broker, "t", 1, 1, configs={"retention.ms": "60000"})
        self.topic = self.broker.store.vhost("/").topic("t")

    def test_set_and_delete(self) -> None:
        """SET adds or replaces an override, DELETE removes one; others stay."""
        result = incremental(self.broker, TOPIC, "t", [
            ("retention.bytes", SET, "2000000"), ("retention.ms", DELETE, None),
            ("message.timestamp.type", SET, "LogAppendTime")], version=0)
        self.assertEqual(result["error_code"], ErrorCode.NONE)
        self.assertEqual(self.topic.configs, {"retention.bytes": "2000000",
                                              "message.timestamp.type": "LogAppendTime"})
        self.assertEqual(self.topic.settings.message_timestamp_type, "LogAppendTime")

    def test_delete_unset(self) -> None:
        """DELETE of a config that is not overridden (even unknown) changes nothing."""
        result = incremental(self.broker, TOPIC, "t", [
            ("segment.ms", DELETE, None), ("no.such", DELETE, None)])
        self.assertEqual(result["error_code"], ErrorCode.NONE)
        self.assertEqual(self.topic.configs, {"retention.ms": "60000"})

    def test_append_list(self) -> None:
        """APPEND to cleanup.policy of a value it has keeps it as it is."""
        result = incremental(self.broker, TOPIC, "t", [("cleanup.policy", APPEND, "delete")])
        self.assertEqual(result["error_code"], ErrorCode.NONE)
        self.assertEqual(self.topic.configs["cleanup.policy"], "delete")

    def test_append_compact(self) -> None:
        """APPEND of compact makes the topic compact,delete, at once for its partitions."""
        result = incremental(self.broker, TOPIC, "t", [("cleanup.policy", APPEND, "compact")])
        self.assertEqual(result["error_code"], ErrorCode.NONE)
        self.assertEqual(self.topic.configs["cleanup.policy"], "delete,compact")
        settings = self.topic.partitions[0].settings
        self.assertEqual((settings.compact, settings.delete), (True, True))

    def test_subtract_all(self) -> None:
        """SUBTRACT leaving cleanup.policy empty is INVALID_CONFIG."""
        result = incremental(self.broker, TOPIC, "t", [("cleanup.policy", SUBTRACT, "delete")])
        self.assertEqual(result["error_code"], ErrorCode.INVALID_CONFIG)

    def test_append_not_list(self) -> None:
        """APPEND or SUBTRACT on a non-list config is INVALID_CONFIG, as in Kafka 4."""
        for operation, word in ((APPEND, "APPEND"), (SUBTRACT, "SUBTRACT")):
            result = incremental(self.broker, TOPIC, "t", [("retention.ms", operation, "1")])
            self.assertEqual(result["error_code"], ErrorCode.INVALID_CONFIG)
            self.assertEqual(result["error_message"],
                             f"Can't {word} to key retention.ms because its type is not LIST.")

    def test_unknown_operation(self) -> None:
        """An unknown operation is INVALID_REQUEST."""
        result = incremental(self.broker, TOPIC, "t", [("retention.ms", 9, "1")])
        self.assertEqual(result["error_code"], ErrorCode.INVALID_REQUEST)

    def test_invalid_leaves_all(self) -> None:
        """One bad config fails the resource and nothing of it is applied."""
        result = incremental(self.broker, TOPIC, "t", [
            ("retention.bytes", SET, "1"), ("segment.bytes", SET, "12")])
        self.assertEqual(result["error_code"], ErrorCode.INVALID_CONFIG)
        self.assertIn("segment.bytes", result["error_message"])
        self.assertEqual(self.topic.configs, {"retention.ms": "60000"})

    def test_null_set(self) -> None:
        """SET with a null value is INVALID_REQUEST."""
        result = incremental(self.broker, TOPIC, "t", [("retention.ms", SET, None)])
        self.assertEqual(result["error_code"], ErrorCode.INVALID_REQUEST)

    def test_duplicate_key(self) -> None:
        """A config named twice is INVALID_REQUEST."""
        result = incremental(self.broker, TOPIC, "t", [
            ("retention.ms", SET, "1"), ("retention.ms", DELETE, None)])
        self.assertEqual(result["error_code"], ErrorCode.INVALID_REQUEST)

    def test_broker(self) -> None:
        """Any change to a broker config is INVALID_REQUEST."""
        result = incremental(self.broker, BROKER, "", [("log.retention.ms", SET, "1")])
        self.assertEqual(result["error_code"], ErrorCode.INVALID_REQUEST)

    def test_validate_only(self) -> None:
        """validate_only changes nothing."""
        result = incremental(self.broker, TOPIC, "t", [("retention.ms", SET, "5")],
                             validate_only=True)
        self.assertEqual(result["error_code"], ErrorCode.NONE)
        self.assertEqual(self.topic.configs, {"retention.ms": "60000"})

    def test_retention_takes_effect(self) -> None:
        """Lowering retention.bytes deletes the oldest segments at once."""
        partition = self.topic.partitions[0]
        for i in range(10):
            partition.append(build_batch([(None, b"x" * 400, [], 1000 + i)]))
        segments = len(partition.segments())
        self.assertGreater(segments, 3)
        result = incremental(self.broker, TOPIC, "t", [("retention.bytes", SET, "1500")])
        self.assertEqual(result["error_code"], ErrorCode.NONE)
        self.assertLess(len(partition.segments()), segments)
        self.assertGreater(partition.log_start_offset, 0)

    def test_persisted(self) -> None:
        """Changes survive a restart of the store."""
        incremental(self.broker, TOPIC, "t", [("retention.bytes", SET, "2000000")])
        topic = reopen_store(self, self.broker).vhost("/").topic("t")
        assert topic is not None
        self.assertEqual(topic.configs,
                         {"retention.ms": "60000", "retention.bytes": "2000000"})
