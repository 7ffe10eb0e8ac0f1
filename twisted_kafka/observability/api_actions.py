# -*- test-case-name: tests.observability.test_json_api -*-
"""What the JSON API changes: topics and committed offsets, through the Kafka APIs' own code.

Creating a topic goes through CreateTopics's L{create_topic}, deleting one
through DeleteTopics's L{delete_topic} (then the group coordinator drops the
topic's committed offsets, as after DeleteTopics), and resetting a group's
offsets through the committed-offsets store OffsetCommit uses, as a
non-member commit (generation -1), which Kafka's consumer-groups tool
also relies on: it is refused while the group has members.  Every refusal
is a L{KafkaError} with Kafka's code and message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from twisted_kafka.apis.create_topics import create_topic as create_requested_topic
from twisted_kafka.apis.delete_topics import delete_topic as delete_named_topic
from twisted_kafka.apis.support.topics import NULL_TOPIC_ID
from twisted_kafka.errors import ErrorCode, KafkaError
from twisted_kafka.groups.committed import OffsetToCommit

if TYPE_CHECKING:
    from twisted.internet.defer import Deferred

    from twisted_kafka.observability.view import BrokerView
    from twisted_kafka.store.interfaces import IVhost

#: Where L{reset_offsets} may move a partition's committed offset.
RESET_TARGETS = ("earliest", "latest", "offset", "timestamp")


def create_topic(view: BrokerView, vhost: IVhost, name: str, partitions: int,
                 configs: dict[str, str]) -> None:
    """Create topic C{name} as CreateTopics would (-1 partitions: the broker default)."""
    wanted = {"name": name, "num_partitions": partitions, "replication_factor": -1,
              "assignments": [], "configs": [{"name": k, "value": v} for k, v in configs.items()]}
    broker = view.broker
    create_requested_topic(vhost, wanted, broker.node_id, broker.settings.default_partitions, False)


def delete_topic(view: BrokerView, vhost: IVhost, name: str) -> None:
    """Delete topic C{name} as DeleteTopics would, and drop its committed offsets."""
    delete_named_topic(vhost, name, NULL_TOPIC_ID)
    view.broker.groups.topic_deleted(vhost)


def reset_offsets(view: BrokerView, vhost: IVhost, group_id: str, topic_name: str,
                  partitions: list[int] | None, to: str, value: int | None) -> Deferred[None]:
    """Commit new offsets for C{group_id} in C{topic_name}; fires once they are durable.

    @param partitions: the partitions to reset (C{None}: all of them).
    @param to: C{earliest}, C{latest}, C{offset} (C{value}, clamped to the
        log) or C{timestamp} (the first offset at or after C{value} ms).
    @raise KafkaError: UNKNOWN_TOPIC_OR_PARTITION, INVALID_REQUEST for a bad
        target, NON_EMPTY_GROUP while the group has members, or the commit's error.
    """
    if to not in RESET_TARGETS or (to in ("offset", "timestamp") and value is None):
        raise KafkaError(ErrorCode.INVALID_REQUEST,
                         f"reset to must be one of {', '.join(RESET_TARGETS)} (offset and "
                         "timestamp with a value)")
    topic = vhost.topic(topic_name)
    if topic is None:
        raise KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, f"Topic '{topic_name}' does not exist.")
    wanted = list(range(len(topic.partitions))) if partitions is None else partitions
    entries = []
    for index in wanted:
        if not 0 <= index < len(topic.partitions):
            raise KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
                             f"Topic '{topic_name}' has no partition {index}.")
        log = topic.partitions[index]
        if to == "earliest":
            offset = log.log_start_offset
        elif to == "latest":
            offset = log.high_watermark
        elif to == "offset":
            assert value is not None
            offset = min(max(value, log.log_start_offset), log.high_watermark)
        else:
            assert value is not None
            found = log.offset_for_timestamp(value)
            offset = log.high_watermark if found is None else found[0]
        entries.append(OffsetToCommit(topic_name, index, offset))
    groups = view.broker.groups.for_vhost(vhost)
    group = groups.groups.get(group_id)
    if group is not None and group.members:
        raise KafkaError(ErrorCode.NON_EMPTY_GROUP,
                         f"Assignments can only be reset if the group '{group_id}' is inactive, "
                         f"but the current state is {group.state.value}.")
    outcome = groups.offsets.commit(group_id, -1, "", None, entries)
    for error in outcome.errors:
        if error != ErrorCode.NONE:
            raise KafkaError(error, f"commit refused: {error.name}")
    return view.broker.store.sync()
