# -*- test-case-name: tests.apis.test_fetch -*-
"""Finding the stream queue a request names: topic by name or id, then partition.

Shared by the consume-side responders (Fetch, ListOffsets,
OffsetForLeaderEpoch, DeleteRecords), which all answer a missing topic or
partition with an error code rather than creating it.
"""

from __future__ import annotations

from typing import Any

from twisted_kafka.errors import ErrorCode, KafkaError
from twisted_kafka.store.batch_header import PARTITION_LEADER_EPOCH

NULL_TOPIC_ID = b"\0" * 16
#: The only leader epoch of every partition on this single node (the store
#: stamps it into every appended batch).
LEADER_EPOCH = PARTITION_LEADER_EPOCH


def find_topic(vhost: Any, name: str | None, topic_id: bytes | None = None) -> Any:
    """Return the topic named C{name} (or with id C{topic_id} when name is None).

    @raise KafkaError: UNKNOWN_TOPIC_OR_PARTITION or UNKNOWN_TOPIC_ID.
    """
    if name is None or (topic_id and topic_id != NULL_TOPIC_ID and not name):
        topic = vhost.topic_by_id(topic_id) if topic_id else None
        if topic is None:
            raise KafkaError(ErrorCode.UNKNOWN_TOPIC_ID, "unknown topic id")
        return topic
    topic = vhost.topic(name)
    if topic is None:
        raise KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, f"unknown topic {name!r}")
    return topic


def find_partition(topic: Any, index: int) -> Any:
    """Return partition C{index} of C{topic}.

    @raise KafkaError: UNKNOWN_TOPIC_OR_PARTITION when there is no such partition.
    """
    if 0 <= index < len(topic.partitions):
        return topic.partitions[index]
    raise KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
                     f"topic {topic.name!r} has no partition {index}")


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
