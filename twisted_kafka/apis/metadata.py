# -*- test-case-name: tests.apis.test_metadata -*-
"""Metadata (api key 3), versions 0-13: the broker, the topics and their partitions.

This is a single-node cluster: one broker (our node id, the address the client
connected to unless C{advertised_host}/C{advertised_port} say otherwise), which
is the controller and the leader of every partition, with leader epoch 0.

Which topics: v0 treats an empty list as "all topics"; from v1 a null list
means all and an empty list none.  From v10 a topic may be named by id (an
unknown id gives UNKNOWN_TOPIC_ID).  A named topic that does not exist is
auto-created when the request allows it (always before v4) and the broker's
C{auto_create_topics} is on; the topic is usable when the response is sent.
Invalid names get INVALID_TOPIC_EXCEPTION (also when nothing would be
created, as Kafka validates them), unknown ones UNKNOWN_TOPIC_OR_PARTITION.
Internal stream queues (names starting with C{__}) are listed only when asked
for by name.
"""

from __future__ import annotations


from twisted_kafka.apis.support.authorized_operations import NOT_REQUESTED, authorized_operations
from twisted_kafka.errors import ErrorCode, KafkaError
from twisted_kafka.apis.support.topics import NULL_TOPIC_ID, may_create_topic, topic_need
from twisted_kafka.protocol.messages import Fields
from twisted_kafka.server.authorizer import (
    ALLOW_ALL, CLUSTER_NAME, AclOperation, RequestAccess, ResourceType)
from twisted_kafka.server.context import RequestContext
from twisted_kafka.store.topic_names import is_internal, validate_topic_name
from twisted_kafka.server.registry import ResponderRegistry
from twisted_kafka.store.interfaces import ITopic

API_KEY = 3
MIN_VERSION = 0
MAX_VERSION = 13


def broker_entry(context: RequestContext) -> Fields:
    """Return this broker as a Metadata/DescribeCluster broker entry."""
    return {
        "node_id": context.broker.node_id,
        "broker_id": context.broker.node_id,
        "host": context.advertised_host,
        "port": context.advertised_port,
        "rack": None,
    }


def topic_entry(topic: ITopic, node_id: int, include_operations: bool,
                access: RequestAccess = ALLOW_ALL) -> Fields:
    """Return the Metadata entry for an existing topic.

    @param access: what the request may do, for the authorized operations.
    """
    replicas = [node_id]
    return {
        "error_code": ErrorCode.NONE,
        "name": topic.name,
        "topic_id": topic.topic_id,
        "is_internal": is_internal(topic.name),
        "partitions": [
            {
                "error_code": ErrorCode.NONE,
                "partition_index": p.index,
                "leader_id": node_id,
                "leader_epoch": 0,
                "replica_nodes": replicas,
                "isr_nodes": replicas,
                "offline_replicas": [],
            }
            for p in topic.partitions
        ],
        "topic_authorized_operations": (
            authorized_operations(access, ResourceType.TOPIC, topic.name)
            if include_operations else NOT_REQUESTED),
    }


def error_entry(code: ErrorCode, name: str | None, topic_id: bytes = NULL_TOPIC_ID) -> Fields:
    """Return a Metadata topic entry carrying only an error."""
    return {
        "error_code": code,
        "name": name,
        "topic_id": topic_id,
        "is_internal": False,
        "partitions": [],
        "topic_authorized_operations": NOT_REQUESTED,
    }


def respond(request: Fields, context: RequestContext) -> Fields:
    """Answer a Metadata request."""
    version = context.api_version
    broker = context.broker
    vhost = context.vhost
    node_id = broker.node_id
    include_ops = bool(request.get("include_topic_authorized_operations"))
    requested = request.get("topics")
    if version == 0 and not requested:
        requested = None
    allow_auto_create = version < 4 or request.get("allow_auto_topic_creation", True)
    auto_create_on = context.settings.auto_create_topics

    access = context.access
    topics: list[Fields] = []
    if requested is None:
        # As Kafka: all topics means all the client may describe.
        for listed in vhost.topics():
            if (not is_internal(listed.name)
                    and not access.refused(ResourceType.TOPIC, listed.name)):
                topics.append(topic_entry(listed, node_id, include_ops, access))
    else:
        for wanted in requested:
            name = wanted.get("name")
            topic_id = wanted.get("topic_id") or NULL_TOPIC_ID
            if name is None:
                topic = vhost.topic_by_id(topic_id) if topic_id != NULL_TOPIC_ID else None
                if topic is None:
                    topics.append(error_entry(ErrorCode.UNKNOWN_TOPIC_ID, None, topic_id))
                elif access.refused(ResourceType.TOPIC, topic.name):
                    topics.append(error_entry(ErrorCode.TOPIC_AUTHORIZATION_FAILED, None,
                                              topic_id))
                else:
                    topics.append(topic_entry(topic, node_id, include_ops, access))
                continue
            if access.refused(ResourceType.TOPIC, name):
                topics.append(error_entry(ErrorCode.TOPIC_AUTHORIZATION_FAILED, name))
                continue
            topic = vhost.topic(name)
            if topic is None:
                try:
                    if not (allow_auto_create and auto_create_on):
                        # As Kafka: a missing topic it will not create is
                        # unknown, unless its name is not a legal one.
                        validate_topic_name(name)
                        raise KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
                    if not may_create_topic(access, name):
                        raise KafkaError(ErrorCode.TOPIC_AUTHORIZATION_FAILED)
                    topic = broker.auto_create_topic(vhost, name)
                except KafkaError as e:
                    topics.append(error_entry(e.code, name))
                    continue
            topics.append(topic_entry(topic, node_id, include_ops, access))

    return {
        "throttle_time_ms": 0,
        "brokers": [broker_entry(context)],
        "cluster_id": broker.store.cluster_id,
        "controller_id": node_id,
        "topics": topics,
        "cluster_authorized_operations": (
            authorized_operations(access, ResourceType.CLUSTER, CLUSTER_NAME)
            if request.get("include_cluster_authorized_operations")
            else NOT_REQUESTED
        ),
        "error_code": ErrorCode.NONE,
    }


def register(registry: ResponderRegistry) -> None:
    """Serve Metadata."""
    registry.register(API_KEY, "Metadata", MIN_VERSION, MAX_VERSION, respond,
                      (topic_need(AclOperation.DESCRIBE),))
