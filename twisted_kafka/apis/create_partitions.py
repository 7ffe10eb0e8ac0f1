# -*- test-case-name: tests.apis.test_admin_topics -*-
"""CreatePartitions (api key 37), versions 0-3: grow a topic's partition count.

C{count} is the new total; it must be larger than the current one
(INVALID_PARTITIONS otherwise, with Kafka's messages).  Manual assignments,
when given, need one entry per new partition, each naming only this broker
(INVALID_REPLICA_ASSIGNMENT otherwise).  Adding more than 10000 partitions at
once is POLICY_VIOLATION, Kafka's cap per request, and so is growing an
internal stream queue (C{__...}), or adding partitions that would not fit
the broker's open-file budget (L{twisted_kafka.store.descriptors}).
C{validate_only} checks everything
and changes nothing.  A topic named twice gets INVALID_REQUEST, an unknown one
UNKNOWN_TOPIC_OR_PARTITION.  New partitions are empty stream queues, usable as
soon as the response is sent.
"""

from __future__ import annotations


from twisted_kafka.apis.support.assignments import (
    MAX_PARTITIONS_PER_REQUEST, check_not_internal, check_replicas, duplicates,
    too_many_partitions,
)
from twisted_kafka.errors import ErrorCode, KafkaError
from twisted_kafka.apis.support.topics import topic_need, topic_refused
from twisted_kafka.protocol.messages import Fields
from twisted_kafka.server.authorizer import AclOperation, ResourceType
from twisted_kafka.server.context import RequestContext
from twisted_kafka.server.registry import ResponderRegistry
from twisted_kafka.store.interfaces import IVhost

API_KEY = 37
MIN_VERSION = 0
MAX_VERSION = 3


def add_partitions(vhost: IVhost, wanted: Fields, node_id: int, validate_only: bool) -> None:
    """Grow the topic C{wanted} names to C{wanted["count"]} partitions.

    @raise KafkaError: UNKNOWN_TOPIC_OR_PARTITION, INVALID_PARTITIONS,
        INVALID_REPLICA_ASSIGNMENT, POLICY_VIOLATION or KAFKA_STORAGE_ERROR.
    """
    name = wanted["name"]
    count = wanted["count"]
    topic = vhost.topic(name)
    if topic is None:
        raise KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, f"Topic '{name}' does not exist.")
    check_not_internal(name, "get more partitions")
    current = len(topic.partitions)
    if count == current:
        raise KafkaError(ErrorCode.INVALID_PARTITIONS,
                         f"Topic already has {current} partition(s).")
    if count < current:
        raise KafkaError(ErrorCode.INVALID_PARTITIONS,
                         f"The topic {name} currently has {current} partition(s); "
                         f"{count} would not be an increase.")
    additional = count - current
    if additional > MAX_PARTITIONS_PER_REQUEST:
        raise too_many_partitions()
    assignments = wanted["assignments"]
    if assignments is not None:
        if len(assignments) != additional:
            raise KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT,
                             f"Attempted to add {additional} additional partition(s), but "
                             f"only {len(assignments)} assignment(s) were specified.")
        for assignment in assignments:
            check_replicas(assignment["broker_ids"], node_id)
    topic.add_partitions(count, validate_only)


def respond(request: Fields, context: RequestContext) -> Fields:
    """Answer a CreatePartitions request."""
    twice = duplicates(t["name"] for t in request["topics"])
    results = []
    for name in sorted(twice):
        results.append({"name": name, "error_code": ErrorCode.INVALID_REQUEST,
                        "error_message": "Duplicate topic name."})
    for wanted in request["topics"]:
        if wanted["name"] in twice:
            continue
        try:
            if context.access.refused(ResourceType.TOPIC, wanted["name"]):
                raise topic_refused(wanted["name"])
            add_partitions(context.vhost, wanted, context.broker.node_id,
                           request["validate_only"])
        except KafkaError as e:
            results.append({"name": wanted["name"], "error_code": e.code,
                            "error_message": e.message})
            continue
        results.append({"name": wanted["name"], "error_code": ErrorCode.NONE,
                        "error_message": None})
    return {"throttle_time_ms": 0, "results": results}


def register(registry: ResponderRegistry) -> None:
    """Serve CreatePartitions."""
    registry.register(API_KEY, "CreatePartitions", MIN_VERSION, MAX_VERSION, respond,
                      (topic_need(AclOperation.ALTER),))
