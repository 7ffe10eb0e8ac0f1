# -*- test-case-name: tests.apis.test_admin_topics -*-
"""CreateTopics (api key 19), versions 2-7: create topics with configs.

Per topic, in Kafka's order: a name given twice in the request is
INVALID_REQUEST for that name; an illegal name INVALID_TOPIC_EXCEPTION; an
existing topic TOPIC_ALREADY_EXISTS; a bad config INVALID_CONFIG naming the
key (a null value is refused too).  Names starting with C{__} are reserved for the broker's
internal stream queues (POLICY_VIOLATION): they could not be deleted.  Then
the layout: C{num_partitions} -1 means C{[kafka] num_partitions}, 0 or below
-1 is INVALID_PARTITIONS; the
replication factor must be 1 or -1 (0 or below -1, or anything above 1 on
this single-node broker, is INVALID_REPLICATION_FACTOR).  Manual assignments
need both counts at -1 (INVALID_REQUEST), partitions numbered 0..n-1 and
exactly this broker as each partition's one replica
(INVALID_REPLICA_ASSIGNMENT).  More than 10000 partitions in one request is
POLICY_VIOLATION for every topic of it, as in Kafka.  A topic whose
partitions would not fit the broker's open-file budget is POLICY_VIOLATION
too, with a message giving the count and the limit
(L{twisted_kafka.store.descriptors}; Kafka has no such check and no code
for it, and a policy violation is what clients show and do not retry).

C{validate_only} checks all that and creates nothing.  A created topic is
usable when the response is sent, so C{timeout_ms} never expires.  From v5
each result carries the partition count, the replication factor and every
topic config with its value and source; from v7 the topic id.
"""

from __future__ import annotations


from twisted_kafka.store import topic_configs
from twisted_kafka.apis.support.assignments import (
    MAX_PARTITIONS_PER_REQUEST, REPLICATION_FACTOR, check_replicas, check_replication_factor,
    duplicates, too_many_partitions,
)
from twisted_kafka.apis.support.config_values import topic_config_values
from twisted_kafka.apis.support.topics import NULL_TOPIC_ID, topic_refused
from twisted_kafka.protocol.messages import Fields
from twisted_kafka.server.authorizer import (
    CLUSTER_NAME, AclOperation, Need, ResourceType, cluster)
from twisted_kafka.errors import ErrorCode, KafkaError
from twisted_kafka.server.context import RequestContext
from twisted_kafka.server.registry import ResponderRegistry
from twisted_kafka.store.topic_names import is_internal
from twisted_kafka.store.interfaces import ITopic, IVhost

API_KEY = 19
MIN_VERSION = 2
MAX_VERSION = 7


def _error(name: str, code: ErrorCode, message: str | None) -> Fields:
    return {
        "name": name,
        "topic_id": NULL_TOPIC_ID,
        "error_code": code,
        "error_message": message,
        "topic_config_error_code": ErrorCode.NONE,
        "num_partitions": -1,
        "replication_factor": -1,
        "configs": [],
    }


def requested_configs(wanted: Fields) -> dict[str, str]:
    """Return the checked, normalised config overrides of one requested topic.

    @raise KafkaError: INVALID_REQUEST for a config given twice,
        INVALID_CONFIG for a null, unknown or bad one.
    """
    configs = wanted["configs"]
    if duplicates(c["name"] for c in configs):
        raise KafkaError(ErrorCode.INVALID_REQUEST, "Error due to duplicate config keys")
    nulls = [c["name"] for c in configs if c["value"] is None]
    if nulls:
        raise KafkaError(ErrorCode.INVALID_CONFIG,
                         f"Null value not supported for topic configs: {','.join(nulls)}")
    return topic_configs.validate({c["name"]: c["value"] for c in configs})


def partition_count(wanted: Fields, node_id: int, default_partitions: int) -> int:
    """Return how many partitions the requested topic gets.

    The count itself is checked by the store.

    @raise KafkaError: INVALID_REQUEST, INVALID_REPLICA_ASSIGNMENT or
        INVALID_REPLICATION_FACTOR.
    """
    assignments = wanted["assignments"]
    if assignments:
        if wanted["replication_factor"] != -1:
            raise KafkaError(ErrorCode.INVALID_REQUEST,
                             "A manual partition assignment was specified, but replication "
                             "factor was not set to -1.")
        if wanted["num_partitions"] != -1:
            raise KafkaError(ErrorCode.INVALID_REQUEST,
                             "A manual partition assignment was specified, but numPartitions "
                             "was not set to -1.")
        seen: set[int] = set()
        for assignment in assignments:
            index = assignment["partition_index"]
            if index in seen:
                raise KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT,
                                 f"Found multiple manual partition assignments for "
                                 f"partition {index}")
            check_replicas(assignment["broker_ids"], node_id)
            seen.add(index)
        if seen != set(range(len(seen))):
            raise KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT,
                             "partitions should be a consecutive 0-based integer sequence")
        return len(seen)
    check_replication_factor(wanted["replication_factor"])
    count: int = wanted["num_partitions"]
    return default_partitions if count == -1 else count


def create_topic(vhost: IVhost, wanted: Fields, node_id: int, default_partitions: int,
                 validate_only: bool) -> ITopic:
    """Create (or with C{validate_only} only check) one requested topic.

    The store validates the name, the configs and the partition count
    (L{twisted_kafka.store.vhost.VhostStore.create_topic}); this adds the
    request's own rules in Kafka's order.

    @return: the new topic (with C{validate_only}: a topic object with no
        partitions whose C{num_partitions} says how many it would have).
    @raise KafkaError: the topic's error.
    """
    name = wanted["name"]
    vhost.check_new_name(name)
    if is_internal(name):
        raise KafkaError(ErrorCode.POLICY_VIOLATION,
                         f"Topic names starting with '__' are reserved for the broker's "
                         f"internal stream queues: {name}")
    configs = requested_configs(wanted)
    count = partition_count(wanted, node_id, default_partitions)
    return vhost.create_topic(name, count, configs, validate_only=validate_only)


def _requested_partitions(topics: list[Fields], default_partitions: int) -> int:
    """Return the partitions a request asks for in all, as Kafka counts them."""
    total = 0
    for wanted in topics:
        if wanted["assignments"]:
            total += len(wanted["assignments"])
        elif wanted["num_partitions"] == -1:
            total += default_partitions
        elif wanted["num_partitions"] > 0:
            total += wanted["num_partitions"]
    return total


def respond(request: Fields, context: RequestContext) -> Fields:
    """Answer a CreateTopics request."""
    broker = context.broker
    default_partitions = context.settings.default_partitions
    topics = request["topics"]
    if _requested_partitions(topics, default_partitions) > MAX_PARTITIONS_PER_REQUEST:
        return {"throttle_time_ms": 0, "topics": [
            _error(t["name"], ErrorCode.POLICY_VIOLATION, too_many_partitions().message)
            for t in topics]}
    twice = duplicates(t["name"] for t in topics)
    results = [_error(name, ErrorCode.INVALID_REQUEST, "Duplicate topic name.")
               for name in sorted(twice)]
    for wanted in topics:
        if wanted["name"] in twice:
            continue
        try:
            if (context.access.refused(ResourceType.CLUSTER, CLUSTER_NAME)
                    and context.access.refused(ResourceType.TOPIC, wanted["name"])):
                raise topic_refused(wanted["name"])
            topic = create_topic(context.vhost, wanted, broker.node_id, default_partitions,
                                 request["validate_only"])
        except KafkaError as e:
            results.append(_error(wanted["name"], e.code, e.message))
            continue
        results.append({
            "name": topic.name,
            "topic_id": NULL_TOPIC_ID if request["validate_only"] else topic.topic_id,
            "error_code": ErrorCode.NONE,
            "error_message": None,
            "topic_config_error_code": ErrorCode.NONE,
            "num_partitions": topic.num_partitions,
            "replication_factor": REPLICATION_FACTOR,
            "configs": [v.created() for v in
                        topic_config_values(topic.configs, context.settings.topic_defaults)],
        })
    return {"throttle_time_ms": 0, "topics": results}


def register(registry: ResponderRegistry) -> None:
    """Serve CreateTopics."""
    # Kafka: Create on the cluster, or else on each topic.
    registry.register(API_KEY, "CreateTopics", MIN_VERSION, MAX_VERSION, respond,
                      (Need(ResourceType.CLUSTER, AclOperation.CREATE, cluster),
                       Need(ResourceType.TOPIC, AclOperation.CREATE)))
