# -*- test-case-name: tests.apis.test_list_offsets -*-
"""OffsetForLeaderEpoch (api key 23), versions 2-4: the end offset of an epoch.

Every partition has had a single leader epoch, 0, since it was created, so
epoch 0 ends at the high watermark, a later epoch (or the undefined -1) is
unknown (-1, -1), as Kafka answers for an epoch it has not seen, and an older
one ends where epoch 0 starts.  Clients that got leader epoch 0 from
Metadata use this to validate their positions after a reconnect.
"""

from __future__ import annotations


from twisted_kafka.apis.support.topics import (
    LEADER_EPOCH, RequestedTopic, check_leader_epoch, topic_need)
from twisted_kafka.errors import ErrorCode, KafkaError
from twisted_kafka.protocol.messages import Fields
from twisted_kafka.server.authorizer import AclOperation
from twisted_kafka.server.context import RequestContext
from twisted_kafka.server.registry import ResponderRegistry
from twisted_kafka.store.interfaces import IPartitionLog

API_KEY = 23
MIN_VERSION = 2
MAX_VERSION = 4
#: Kafka's UNDEFINED_EPOCH, also its UNDEFINED_EPOCH_OFFSET.
UNDEFINED_EPOCH = -1


def epoch_end(partition: IPartitionLog, epoch: int) -> tuple[int, int]:
    """Return (epoch, end offset) for C{epoch}, as Kafka's LeaderEpochFileCache.

    Epoch 0, the latest, ends at the log end; the undefined epoch -1 and any
    epoch we have not had yet have no end (-1, -1); an epoch older than the
    first ends where epoch 0 starts, the log start offset.
    """
    if epoch == LEADER_EPOCH:
        return LEADER_EPOCH, partition.high_watermark
    if epoch == UNDEFINED_EPOCH or epoch > LEADER_EPOCH:
        return UNDEFINED_EPOCH, UNDEFINED_EPOCH
    return epoch, partition.log_start_offset


def respond(request: Fields, context: RequestContext) -> Fields:
    """Answer an OffsetForLeaderEpoch request."""
    topics_out = []
    for t in request["topics"]:
        partitions_out: list[Fields] = []
        topics_out.append({"topic": t["topic"], "partitions": partitions_out})
        topic = RequestedTopic(context, t["topic"])
        for p in t["partitions"]:
            out = {"error_code": ErrorCode.NONE, "partition": p["partition"],
                   "leader_epoch": -1, "end_offset": -1}
            partitions_out.append(out)
            try:
                partition = topic.partition(p["partition"])
                check_leader_epoch(p.get("current_leader_epoch", -1))
            except KafkaError as e:
                out["error_code"] = e.code
                continue
            out["leader_epoch"], out["end_offset"] = epoch_end(partition, p["leader_epoch"])
    return {"throttle_time_ms": 0, "topics": topics_out}


def register(registry: ResponderRegistry) -> None:
    """Serve OffsetForLeaderEpoch."""
    registry.register(API_KEY, "OffsetForLeaderEpoch", MIN_VERSION, MAX_VERSION, respond,
                      (topic_need(AclOperation.DESCRIBE, name="topic"),))
