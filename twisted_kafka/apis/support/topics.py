# -*- test-case-name: tests.apis.test_support_topics -*-
"""Finding the stream queue a request names: topic by name or id, then partition.

"Find the topic, then the partition, else answer the partition with an
error" is what every partition-addressed responder does (Produce, Fetch,
ListOffsets, OffsetForLeaderEpoch, DeleteRecords); L{RequestedTopic} is that
rule in one place, authorization included: a topic the request may not use
answers TOPIC_AUTHORIZATION_FAILED, before its existence is revealed, as
Kafka answers.
"""

from __future__ import annotations

from typing import Callable, Iterable

from twisted_kafka.errors import ErrorCode, KafkaError
from twisted_kafka.protocol.messages import Fields
from twisted_kafka.server.authorizer import (
    CLUSTER_NAME, AclOperation, Need, RequestAccess, ResourceType)
from twisted_kafka.server.context import RequestContext
from twisted_kafka.store.batch_header import PARTITION_LEADER_EPOCH
from twisted_kafka.store.interfaces import IPartitionLog, ITopic, IVhost
from twisted_kafka.protocol.primitives import ZERO_UUID

#: The topic id of a topic named by name only.
NULL_TOPIC_ID = ZERO_UUID
#: The only leader epoch of every partition on this single node (the store
#: stamps it into every appended batch).
LEADER_EPOCH = PARTITION_LEADER_EPOCH


def topic_refused(name: str) -> KafkaError:
    """Return the error of a topic the request is not authorized for."""
    return KafkaError(ErrorCode.TOPIC_AUTHORIZATION_FAILED,
                      f"not authorized to access topic {name!r}")


def may_create_topic(access: RequestAccess, name: str) -> bool:
    """Return whether the request may create topic C{name} (auto-creation included).

    As Kafka: Cluster/Create, or Create on the topic.
    """
    return (access.allows(AclOperation.CREATE, ResourceType.CLUSTER, CLUSTER_NAME)
            or access.allows(AclOperation.CREATE, ResourceType.TOPIC, name))


def topic_need(operation: AclOperation, topics: str = "topics",
               name: str = "name") -> Need:
    """Return the need of C{operation} on every topic the request names.

    @param topics: the request field listing the topics.
    @param name: the field of each listed topic holding its name (topics
        named only by id are checked once found, see L{RequestedTopic}).
    """

    def names(request: Fields) -> Iterable[str]:
        return [t[name] for t in request.get(topics) or () if t.get(name)]

    return Need(ResourceType.TOPIC, operation, names)


def find_topic(vhost: IVhost, name: str | None, topic_id: bytes | None = None) -> ITopic:
    """Return the topic named C{name} (or with id C{topic_id} when name is None).

    @raise KafkaError: UNKNOWN_TOPIC_OR_PARTITION or UNKNOWN_TOPIC_ID.
    """
    if name is None or (topic_id and topic_id != NULL_TOPIC_ID and not name):
        topic = vhost.topic_by_id(topic_id) if topic_id else None
        if topic is None:
            raise KafkaError(ErrorCode.UNKNOWN_TOPIC_ID, "unknown topic id")
        return topic
    found = vhost.topic(name)
    if found is None:
        raise KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, f"unknown topic {name!r}")
    return found


def find_partition(topic: ITopic, index: int) -> IPartitionLog:
    """Return partition C{index} of C{topic}.

    @raise KafkaError: UNKNOWN_TOPIC_OR_PARTITION when there is no such partition.
    """
    partitions = topic.partitions
    if 0 <= index < len(partitions):
        return partitions[index]
    raise KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
                     f"topic {topic.name!r} has no partition {index}")


class RequestedTopic:
    """One topic a request names: found and allowed, or the error its partitions get.

    @ivar topic: the topic, or C{None} when L{error} is set.
    @ivar error: why the topic's partitions cannot be served, or C{None}.
    """

    __slots__ = ("topic", "error")

    def __init__(self, context: RequestContext, name: str | None,
                 topic_id: bytes | None = None) -> None:
        """Find the topic C{name} (or C{topic_id} when C{name} is None) in the context's vhost.

        Authorization comes first for a name (an unauthorized client learns
        nothing about the topic); a topic named by id is checked once found.
        """
        self.topic: ITopic | None = None
        self.error: KafkaError | None = None
        access = context.access
        try:
            if name and access.refused(ResourceType.TOPIC, name):
                raise topic_refused(name)
            topic = find_topic(context.vhost, name, topic_id)
            if not name and access.refused(ResourceType.TOPIC, topic.name):
                raise topic_refused(topic.name)
        except KafkaError as e:
            self.error = e
            return
        self.topic = topic

    def partition(self, index: int) -> IPartitionLog:
        """Return partition C{index} of the topic.

        @raise KafkaError: the topic's error, or UNKNOWN_TOPIC_OR_PARTITION
            when it has no such partition.
        """
        if self.topic is None:
            assert self.error is not None
            raise self.error
        return find_partition(self.topic, index)


def check_leader_epoch(current_leader_epoch: int) -> None:
    """Check the client's idea of the leader epoch against ours (always 0).

    @raise KafkaError: UNKNOWN_LEADER_EPOCH for a newer epoch than ours,
        FENCED_LEADER_EPOCH for an older one; -1 means "not given".
    """
    if current_leader_epoch == -1 or current_leader_epoch == LEADER_EPOCH:
        return
    if current_leader_epoch > LEADER_EPOCH:
        raise KafkaError(ErrorCode.UNKNOWN_LEADER_EPOCH)
    raise KafkaError(ErrorCode.FENCED_LEADER_EPOCH)
