# -*- test-case-name: tests.apis.test_admin_configs -*-
"""DescribeConfigs (32) v1-4, AlterConfigs (33) v0-2, IncrementalAlterConfigs (44) v0-1.

Resources: topics (type 2) and this broker (type 4).  Other resource types
get INVALID_REQUEST.  A topic resource must name an existing topic of the
connection's vhost (INVALID_TOPIC_EXCEPTION for an illegal name,
UNKNOWN_TOPIC_OR_PARTITION for a missing one); a broker resource is named by
our node id, or by the empty string for the cluster-wide defaults (none:
every broker config comes from the configuration file).

DescribeConfigs lists the topic configs of L{twisted_kafka.store.topic_configs}
(value, source, read-only, synonyms when C{include_synonyms}, type and
documentation when C{include_documentation}) or the broker configs of
L{twisted_kafka.apis.support.broker_configs}; a non-empty C{configuration_keys}
filters them (unknown keys are left out; null or empty means all, as in
Kafka).

AlterConfigs replaces a topic's overrides with the ones given (unmentioned
ones revert to the default); IncrementalAlterConfigs SETs, DELETEs, and
APPENDs to or SUBTRACTs from list configs (other configs: INVALID_CONFIG, as
Kafka's controller answers).  Values are checked as Kafka's C{LogConfig}
does: an unknown name or bad value is INVALID_CONFIG naming the key.
A resource named twice, a config named twice or a null value (but for
DELETE) is INVALID_REQUEST.  Changes are persisted in the topic's metadata
file and take effect at once (retention runs right away); C{validate_only}
checks and changes nothing.  Internal stream queues (C{__...}) are managed
by the broker: changing their configs is POLICY_VIOLATION.  Broker configs
are read-only: changing one is INVALID_REQUEST ("Cannot update these configs
dynamically"), Kafka's answer for static broker configs.
"""

from __future__ import annotations

from typing import Callable, Iterable

from twisted_kafka.store import topic_configs
from twisted_kafka.apis.support.assignments import check_not_internal, duplicates
from twisted_kafka.apis.support.broker_configs import broker_config_values
from twisted_kafka.apis.support.config_values import ConfigValue, topic_config_values
from twisted_kafka.errors import ErrorCode, KafkaError
from twisted_kafka.apis.support.topics import topic_refused
from twisted_kafka.protocol.messages import Fields
from twisted_kafka.server.authorizer import CLUSTER_NAME, AclOperation, Need, ResourceType
from twisted_kafka.server.context import RequestContext
from twisted_kafka.server.registry import ResponderRegistry
from twisted_kafka.store.topic_names import validate_topic_name
from twisted_kafka.store.interfaces import ITopic, IVhost

DESCRIBE_CONFIGS = 32
ALTER_CONFIGS = 33
INCREMENTAL_ALTER_CONFIGS = 44

#: Kafka's ConfigResource types.
TOPIC = 2
BROKER = 4
_RESOURCE_TYPES = {TOPIC: "TOPIC", BROKER: "BROKER", 8: "BROKER_LOGGER",
                   16: "CLIENT_METRICS", 32: "GROUP"}

#: IncrementalAlterConfigs operations.
SET, DELETE, APPEND, SUBTRACT = 0, 1, 2, 3
_OPERATIONS = {SET: "SET", DELETE: "DELETE", APPEND: "APPEND", SUBTRACT: "SUBTRACT"}


def unsupported_resource(resource_type: int) -> KafkaError:
    """Return the error for a resource type other than topic and broker."""
    name = _RESOURCE_TYPES.get(resource_type)
    if name is None:
        return KafkaError(ErrorCode.INVALID_REQUEST, f"Unknown resource type {resource_type}")
    return KafkaError(ErrorCode.INVALID_REQUEST,
                      f"Resource type {name} is not supported by this broker")


def check_broker_name(name: str, node_id: int) -> None:
    """Check a broker resource name: our node id, or empty for cluster defaults.

    @raise KafkaError: INVALID_REQUEST, worded as Kafka does.
    """
    if name == "":
        return
    try:
        broker_id = int(name)
    except ValueError:
        raise KafkaError(ErrorCode.INVALID_REQUEST,
                         f"Broker id must be an integer, but it is: {name}") from None
    if broker_id != node_id:
        raise KafkaError(ErrorCode.INVALID_REQUEST,
                         f"Unexpected broker id, expected {node_id} or empty string, "
                         f"but received {name}")


def find_topic(vhost: IVhost, name: str) -> ITopic:
    """Return the topic a topic resource names.

    @raise KafkaError: INVALID_TOPIC_EXCEPTION or UNKNOWN_TOPIC_OR_PARTITION.
    """
    validate_topic_name(name)
    topic = vhost.topic(name)
    if topic is None:
        raise KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
                         f"The topic '{name}' does not exist.")
    return topic


def check_access(resource: Fields, context: RequestContext) -> None:
    """Refuse a topic or broker resource the request may not use.

    Broker configs are authorized on the cluster, as in Kafka.

    @raise KafkaError: TOPIC_AUTHORIZATION_FAILED or CLUSTER_AUTHORIZATION_FAILED.
    """
    resource_type = resource["resource_type"]
    if resource_type == TOPIC:
        if context.access.refused(ResourceType.TOPIC, resource["resource_name"]):
            raise topic_refused(resource["resource_name"])
    elif resource_type == BROKER:
        if context.access.refused(ResourceType.CLUSTER, CLUSTER_NAME):
            raise KafkaError(ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
                             "not authorized to access the broker's configs")


def _needs(operation: AclOperation) -> tuple[Need, ...]:
    """Return the needs of a configs API: C{operation} on its topics and the cluster."""

    def topics(request: Fields) -> list[str]:
        return [r["resource_name"] for r in request["resources"] if r["resource_type"] == TOPIC]

    def cluster(request: Fields) -> list[str]:
        return [CLUSTER_NAME] if any(r["resource_type"] == BROKER
                                     for r in request["resources"]) else []

    return (Need(ResourceType.TOPIC, operation, topics),
            Need(ResourceType.CLUSTER, operation, cluster))


def _result(resource: Fields, error: KafkaError | None = None) -> Fields:
    return {
        "error_code": error.code if error else ErrorCode.NONE,
        "error_message": error.message if error else None,
        "resource_type": resource["resource_type"],
        "resource_name": resource["resource_name"],
    }


# -- DescribeConfigs -----------------------------------------------------------

def described_values(resource: Fields, context: RequestContext) -> list[ConfigValue]:
    """Return the configs of one DescribeConfigs resource, filtered by its keys."""
    broker = context.broker
    resource_type = resource["resource_type"]
    name = resource["resource_name"]
    check_access(resource, context)
    if resource_type == TOPIC:
        values = topic_config_values(find_topic(context.vhost, name).configs, context.settings.topic_defaults)
    elif resource_type == BROKER:
        check_broker_name(name, broker.node_id)
        values = broker_config_values(broker.config, broker.node_id) if name else []
    else:
        raise unsupported_resource(resource_type)
    keys = resource["configuration_keys"]
    if keys:
        wanted = set(keys)
        values = [v for v in values if v.name in wanted]
    return values


def describe(request: Fields, context: RequestContext) -> Fields:
    """Answer a DescribeConfigs request."""
    synonyms = bool(request.get("include_synonyms"))
    documentation = bool(request.get("include_documentation"))
    results = []
    for resource in request["resources"]:
        result = _result(resource)
        try:
            values = described_values(resource, context)
        except KafkaError as e:
            result = _result(resource, e)
            values = []
        result["configs"] = [v.described(synonyms, documentation) for v in values]
        results.append(result)
    return {"throttle_time_ms": 0, "results": results}


# -- AlterConfigs and IncrementalAlterConfigs ---------------------------------

def check_configs(configs: list[Fields], null_allowed: Callable[[Fields], bool]) -> None:
    """Refuse a config named twice, or a null value where C{null_allowed} says no.

    @raise KafkaError: INVALID_REQUEST.
    """
    if duplicates(c["name"] for c in configs):
        raise KafkaError(ErrorCode.INVALID_REQUEST, "Error due to duplicate config keys")
    nulls = [c["name"] for c in configs if c["value"] is None and not null_allowed(c)]
    if nulls:
        raise KafkaError(ErrorCode.INVALID_REQUEST,
                         f"Null value not supported for : {', '.join(nulls)}")


def refuse_broker_change(resource: Fields, node_id: int) -> None:
    """Check a broker resource of an alter request; any change is refused.

    @raise KafkaError: INVALID_REQUEST.
    """
    check_broker_name(resource["resource_name"], node_id)
    names = [c["name"] for c in resource["configs"]]
    if names:
        raise KafkaError(ErrorCode.INVALID_REQUEST,
                         f"Cannot update these configs dynamically: {', '.join(names)}: "
                         f"broker configs are read-only here, set them in the broker's "
                         f"configuration file")


def replaced_configs(topic: ITopic, configs: list[Fields]) -> dict[str, str | None]:
    """Return the changes that make C{configs} a topic's only overrides (AlterConfigs).

    @raise KafkaError: INVALID_CONFIG naming a bad key.
    """
    new: dict[str, str | None] = dict(topic_configs.validate({c["name"]: c["value"] for c in configs}))
    for name in topic.configs:
        new.setdefault(name, None)
    return new


def _list_operation(topic: ITopic, name: str, operation: int, value: str) -> str:
    """Return the value of list config C{name} after APPEND or SUBTRACT of C{value}."""
    entry = topic_configs.TOPIC_CONFIGS.get(name)
    if entry is None:
        raise KafkaError(ErrorCode.INVALID_CONFIG, f"Unknown topic config name: {name}")
    if entry.type != "LIST":
        raise KafkaError(ErrorCode.INVALID_CONFIG,
                         f"Can't {_OPERATIONS[operation]} to key {name} because its type "
                         f"is not LIST.")
    parts = [p for p in topic.config(name).split(",") if p]
    for item in value.split(","):
        if operation == APPEND and item not in parts:
            parts.append(item)
        elif operation == SUBTRACT and item in parts:
            parts.remove(item)
    return topic_configs.normalise(name, ",".join(parts))


def incremental_changes(topic: ITopic, configs: list[Fields]) -> dict[str, str | None]:
    """Return the override changes an IncrementalAlterConfigs resource asks for.

    @raise KafkaError: INVALID_CONFIG naming a bad key, INVALID_REQUEST for
        an unknown operation.
    """
    changes: dict[str, str | None] = {}
    for config in configs:
        name = config["name"]
        operation = config["config_operation"]
        if operation == SET:
            changes[name] = topic_configs.normalise(name, config["value"])
        elif operation == DELETE:
            if name in topic.configs:
                changes[name] = None
        elif operation in (APPEND, SUBTRACT):
            changes[name] = _list_operation(topic, name, operation, config["value"])
        else:
            raise KafkaError(ErrorCode.INVALID_REQUEST, f"Unknown operation type {operation}")
    return changes


def _alter(request: Fields, context: RequestContext,
           changes_for: Callable[[ITopic, list[Fields]], dict[str, str | None]],
           null_allowed: Callable[[Fields], bool]) -> Fields:
    """Answer an AlterConfigs-style request with C{changes_for} computing topic changes."""
    resources = request["resources"]
    twice = duplicates(_keys(resources))
    responses = []
    for resource in resources:
        try:
            if (resource["resource_type"], resource["resource_name"]) in twice:
                raise KafkaError(ErrorCode.INVALID_REQUEST,
                                 "Each resource must appear at most once.")
            check_access(resource, context)
            check_configs(resource["configs"], null_allowed)
            if resource["resource_type"] == BROKER:
                refuse_broker_change(resource, context.broker.node_id)
            elif resource["resource_type"] == TOPIC:
                topic = find_topic(context.vhost, resource["resource_name"])
                check_not_internal(topic.name, "be reconfigured")
                changes = changes_for(topic, resource["configs"])
                would_be = {**topic.configs, **changes}
                topic_configs.check_combination(
                    {name: value for name, value in would_be.items() if value is not None},
                    context.settings.topic_defaults)
                if not request["validate_only"] and changes:
                    topic.set_configs(changes)
            else:
                raise unsupported_resource(resource["resource_type"])
        except KafkaError as e:
            responses.append(_result(resource, e))
            continue
        responses.append(_result(resource))
    return {"throttle_time_ms": 0, "responses": responses}


def _keys(resources: Iterable[Fields]) -> Iterable[tuple[int, str]]:
    return ((r["resource_type"], r["resource_name"]) for r in resources)


def alter(request: Fields, context: RequestContext) -> Fields:
    """Answer an AlterConfigs request."""
    return _alter(request, context, replaced_configs, lambda config: False)


def incremental_alter(request: Fields, context: RequestContext) -> Fields:
    """Answer an IncrementalAlterConfigs request."""
    return _alter(request, context, incremental_changes,
                  lambda config: config["config_operation"] == DELETE)


def register(registry: ResponderRegistry) -> None:
    """Serve DescribeConfigs, AlterConfigs and IncrementalAlterConfigs."""
    registry.register(DESCRIBE_CONFIGS, "DescribeConfigs", 1, 4, describe,
                      _needs(AclOperation.DESCRIBE_CONFIGS))
    registry.register(ALTER_CONFIGS, "AlterConfigs", 0, 2, alter,
                      _needs(AclOperation.ALTER_CONFIGS))
    registry.register(INCREMENTAL_ALTER_CONFIGS, "IncrementalAlterConfigs", 0, 1,
                      incremental_alter, _needs(AclOperation.ALTER_CONFIGS))
