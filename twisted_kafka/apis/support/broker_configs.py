# -*- test-case-name: tests.apis.test_admin_configs -*-
"""The broker resource's configs, as DescribeConfigs reports them.

Each is derived from the loaded L{BrokerConfig} and named as Kafka names it
(C{num.partitions} is C{[kafka] num_partitions}, C{log.retention.ms} is
C{[store] retention_ms}, ...), so tools that read a Kafka broker's settings
find them.  Every one is read-only: the configuration file is the only way to
change them (AlterConfigs on the broker gets INVALID_REQUEST, as Kafka answers
for configs that cannot be updated dynamically).  A value differing from the
built-in default has source STATIC_BROKER_CONFIG, otherwise DEFAULT_CONFIG.
"""

from __future__ import annotations

from twisted_kafka.store import topic_configs
from twisted_kafka.apis.support.config_values import (
    DEFAULT_CONFIG, STATIC_BROKER_CONFIG, ConfigValue, Synonym, broker_source,
)
from twisted_kafka.config import BrokerConfig, KafkaConfig, MainConfig
from twisted_kafka.store.config import StoreConfig

_KAFKA_DEFAULTS = KafkaConfig()
_MAIN_DEFAULTS = MainConfig()
_STORE_DEFAULTS = StoreConfig()


def _value(name: str, value: object, default: object, type_name: str, doc: str) -> ConfigValue:
    """A read-only broker config whose source depends on whether it was set."""
    text = _text(value)
    source = STATIC_BROKER_CONFIG if value != default else DEFAULT_CONFIG
    synonyms = [Synonym(name, text, source)]
    if source == STATIC_BROKER_CONFIG:
        synonyms.append(Synonym(name, _text(default), DEFAULT_CONFIG))
    return ConfigValue(name=name, value=text, source=source, read_only=True,
                       type=type_name, doc=doc, synonyms=synonyms)


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fixed(name: str, value: str, type_name: str, doc: str) -> ConfigValue:
    """A read-only broker config this single-node broker cannot change."""
    return _value(name, value, value, type_name, doc)


def _listeners(config: BrokerConfig) -> str:
    kafka = config.kafka
    listeners = []
    if kafka.port > 0:
        listeners.append(f"PLAINTEXT://{kafka.bind}:{kafka.port}")
    if kafka.tls_port > 0:
        listeners.append(f"SSL://{kafka.bind}:{kafka.tls_port}")
    return ",".join(listeners)


def broker_config_values(config: BrokerConfig, node_id: int) -> list[ConfigValue]:
    """Describe the broker's configs, sorted by name."""
    kafka = config.kafka
    store = config.store
    values = [
        _fixed("broker.id", str(node_id), "INT",
               "This broker's id; a single-node cluster has only this one."),
        _fixed("node.id", str(node_id), "INT", "This node's id (same as broker.id)."),
        _fixed("process.roles", "broker,controller", "LIST",
               "This node is both the broker and the controller of its cluster."),
        _fixed("default.replication.factor", "1", "SHORT",
               "Replicas of a topic created with replication factor -1: always 1 here."),
        _fixed("offsets.topic.replication.factor", "1", "SHORT",
               "Replicas of the committed-offsets log: always 1 on a single node."),
        _fixed("delete.topic.enable", "true", "BOOLEAN",
               "DeleteTopics is always allowed."),
        _value("num.partitions", kafka.num_partitions, _KAFKA_DEFAULTS.num_partitions, "INT",
               "Partitions of an auto-created topic or of one created with -1 "
               "([kafka] num_partitions)."),
        _value("auto.create.topics.enable", kafka.auto_create_topics,
               _KAFKA_DEFAULTS.auto_create_topics, "BOOLEAN",
               "Create a topic the first time a client names it "
               "([kafka] auto_create_topics)."),
        _value("socket.request.max.bytes", kafka.max_request_size,
               _KAFKA_DEFAULTS.max_request_size, "INT",
               "The largest request accepted, in bytes ([kafka] max_request_size)."),
        _value("connections.max.idle.ms", kafka.idle_timeout * 1000,
               _KAFKA_DEFAULTS.idle_timeout * 1000, "LONG",
               "Idle connections are closed after this long; 0 never "
               "([kafka] idle_timeout, in seconds)."),
        _value("listeners", _listeners(config), _listeners(BrokerConfig()), "LIST",
               "The plain TCP and TLS listeners ([kafka] bind, port, tls_port); "
               "[kafka] listeners may add more."),
        _value("log.dirs", config.main.data_dir, _MAIN_DEFAULTS.data_dir, "STRING",
               "Where the stream queues live ([main] data_dir)."),
        _value("log.retention.check.interval.ms", store.retention_check_interval_ms,
               _STORE_DEFAULTS.retention_check_interval_ms, "LONG",
               "How often retention runs ([store] retention_check_interval_ms)."),
        _value("producer.id.expiration.ms", store.producer_id_expiration_ms,
               _STORE_DEFAULTS.producer_id_expiration_ms, "INT",
               "An idle idempotent producer's state is forgotten after this long "
               "([store] producer_id_expiration_ms)."),
    ]
    for entry in topic_configs.TOPIC_CONFIGS.values():
        if entry.synonym is None:
            continue
        value = entry.default(store)
        source = broker_source(entry.store_field, store)
        synonyms = [Synonym(entry.synonym, value, source)]
        if source == STATIC_BROKER_CONFIG:
            synonyms.append(Synonym(entry.synonym, entry.default(_STORE_DEFAULTS), DEFAULT_CONFIG))
        where = f" ([store] {entry.store_field})" if entry.store_field else ""
        values.append(ConfigValue(
            name=entry.synonym, value=value, source=source, read_only=True, type=entry.type,
            doc=f"Default of topic config {entry.name}{where}: {entry.doc}",
            synonyms=synonyms))
    return sorted(values, key=lambda v: v.name)
