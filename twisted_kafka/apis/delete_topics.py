# -*- test-case-name: tests.apis.test_admin_topics -*-
"""DeleteTopics (api key 20), versions 1-6: remove topics and their stream queues.

v1-5 name topics in C{topic_names}; v6 in C{topics}, each by name or by id
(not both: INVALID_REQUEST).  A topic named twice in one request gets
INVALID_REQUEST for that name; an unknown name UNKNOWN_TOPIC_OR_PARTITION, an
unknown id UNKNOWN_TOPIC_ID.  Deletion is immediate (the store renames the
directories, then removes them), so C{timeout_ms} never expires.  Internal
stream queues (names starting with C{__}, such as the committed-offsets log)
cannot be deleted: POLICY_VIOLATION.
"""

from __future__ import annotations


from twisted_kafka.apis.support.assignments import check_not_internal, duplicates
from twisted_kafka.apis.support.topics import NULL_TOPIC_ID, topic_refused
from twisted_kafka.protocol.messages import Fields
from twisted_kafka.server.authorizer import ALLOW_ALL, AclOperation, Need, RequestAccess, ResourceType
from twisted_kafka.errors import ErrorCode, KafkaError
from twisted_kafka.server.context import RequestContext
from twisted_kafka.server.registry import ResponderRegistry
from twisted_kafka.store.interfaces import IVhost

API_KEY = 20
MIN_VERSION = 1
MAX_VERSION = 6


def _result(name: str | None, topic_id: bytes, code: ErrorCode = ErrorCode.NONE,
            message: str | None = None) -> Fields:
    return {"name": name, "topic_id": topic_id, "error_code": code, "error_message": message}


def _wanted(request: Fields, version: int) -> list[tuple[str | None, bytes]]:
    """Return the (name, id) pairs a request names, in order."""
    if version >= 6:
        return [(t["name"], t["topic_id"] or NULL_TOPIC_ID) for t in request["topics"]]
    return [(name, NULL_TOPIC_ID) for name in request["topic_names"]]


def delete_topic(vhost: IVhost, name: str | None, topic_id: bytes,
                 access: RequestAccess = ALLOW_ALL) -> Fields:
    """Delete the topic named C{name}, or with id C{topic_id}; return its result entry.

    @param access: what the request may do (Topic/Delete).
    @raise KafkaError: for a request naming no topic, both a name and an id,
        a topic the request may not delete, an unknown topic or an internal one.
    """
    if name is not None and topic_id != NULL_TOPIC_ID:
        raise KafkaError(ErrorCode.INVALID_REQUEST,
                         "You may not specify both topic name and topic id.")
    if name is None:
        if topic_id == NULL_TOPIC_ID:
            raise KafkaError(ErrorCode.INVALID_REQUEST,
                             "Neither topic name nor id were specified.")
        topic = vhost.topic_by_id(topic_id)
        if topic is None:
            raise KafkaError(ErrorCode.UNKNOWN_TOPIC_ID, "This topic id does not exist.")
        if access.refused(ResourceType.TOPIC, topic.name):
            raise topic_refused(topic.name)
    else:
        if access.refused(ResourceType.TOPIC, name):
            raise topic_refused(name)
        topic = vhost.topic(name)
        if topic is None:
            raise KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
                             f"Topic '{name}' does not exist.")
    check_not_internal(topic.name, "be deleted")
    vhost.delete_topic(topic.name)
    return _result(topic.name, topic.topic_id)


def respond(request: Fields, context: RequestContext) -> Fields:
    """Answer a DeleteTopics request."""
    version = context.api_version
    wanted = _wanted(request, version)
    twice = duplicates(name for name, _ in wanted if name is not None)
    twice_ids = duplicates(i for name, i in wanted if name is None and i != NULL_TOPIC_ID)
    responses = []
    reported: set[str | bytes] = set()
    for name, topic_id in wanted:
        if name in twice or topic_id in twice_ids:
            key = name if name in twice else topic_id
            if key not in reported:
                reported.add(key)
                what = "name" if name in twice else "id"
                responses.append(_result(name, topic_id, ErrorCode.INVALID_REQUEST,
                                         f"Duplicate topic {what}."))
            continue
        try:
            responses.append(delete_topic(context.vhost, name, topic_id, context.access))
        except KafkaError as e:
            responses.append(_result(name, topic_id, e.code, e.message))
    # Committed offsets of deleted topics go at once, as in Kafka.
    context.broker.groups.topic_deleted(context.vhost)
    return {"throttle_time_ms": 0, "responses": responses}


def register(registry: ResponderRegistry) -> None:
    """Serve DeleteTopics."""
    registry.register(API_KEY, "DeleteTopics", MIN_VERSION, MAX_VERSION, respond,
                      (Need(ResourceType.TOPIC, AclOperation.DELETE, _named),))


def _named(request: Fields) -> list[str]:
    if "topic_names" in request:
        return list(request["topic_names"])
    return [t["name"] for t in request["topics"] if t.get("name")]
