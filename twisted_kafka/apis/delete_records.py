# -*- test-case-name: tests.apis.test_admin_records -*-
"""DeleteRecords (api key 21), versions 0-2: move partitions' log start offset forward.

Each partition is independent.  The offset -1 means the high watermark
(delete everything); an offset at or below the current log start offset
changes nothing; an offset above the high watermark, or below -1, gets
OFFSET_OUT_OF_RANGE, as in Kafka.  The answer's C{low_watermark} is the log
start offset afterwards (-1 with an error).  Records before it are no longer
readable at once; the store removes the segments wholly before it.
Internal stream queues (C{__...}) get INVALID_TOPIC_EXCEPTION, as Kafka
answers for its internal topics.  C{timeout_ms} changes nothing: there are
no followers to wait for.
"""

from __future__ import annotations

from twisted_kafka.apis.support.topics import RequestedTopic, topic_need
from twisted_kafka.errors import ErrorCode, KafkaError
from twisted_kafka.protocol.messages import Fields
from twisted_kafka.server.authorizer import AclOperation
from twisted_kafka.server.context import RequestContext
from twisted_kafka.server.registry import ResponderRegistry
from twisted_kafka.store.topic_names import is_internal

API_KEY = 21
MIN_VERSION = 0
MAX_VERSION = 2


def respond(request: Fields, context: RequestContext) -> Fields:
    """Answer a DeleteRecords request."""
    topics_out = []
    for wanted in request["topics"]:
        partitions_out: list[Fields] = []
        topics_out.append({"name": wanted["name"], "partitions": partitions_out})
        topic = RequestedTopic(context, wanted["name"])
        if topic.topic is not None and is_internal(topic.topic.name):
            topic.topic, topic.error = None, KafkaError(
                ErrorCode.INVALID_TOPIC_EXCEPTION,
                f"Cannot delete records of internal topic {wanted['name']}")
        for p in wanted["partitions"]:
            index = p["partition_index"]
            try:
                low_watermark = topic.partition(index).delete_records(p["offset"])
            except KafkaError as e:
                partitions_out.append(
                    {"partition_index": index, "low_watermark": -1, "error_code": e.code})
                continue
            partitions_out.append({"partition_index": index, "low_watermark": low_watermark,
                                   "error_code": ErrorCode.NONE})
    return {"throttle_time_ms": 0, "topics": topics_out}


def register(registry: ResponderRegistry) -> None:
    """Serve DeleteRecords."""
    registry.register(API_KEY, "DeleteRecords", MIN_VERSION, MAX_VERSION, respond,
                      (topic_need(AclOperation.DELETE),))
