# -*- test-case-name: tests.apis.test_list_offsets -*-
"""OffsetForLeaderEpoch (api key 23), versions 2-4: the end offset of an epoch.

Every partition has had a single leader epoch, 0, since it was created, so
epoch 0 (or any older one a client may send) ends at the high watermark and
a later epoch is unknown (-1, -1), as Kafka answers for an epoch it has not
seen.  Clients that got leader epoch 0 from Metadata use this to validate
their positions after a reconnect.
"""

from __future__ import annotations

from twisted_kafka.apis.partitions import LEADER_EPOCH, check_leader_epoch, find_partition, find_topic
from twisted_kafka.errors import ErrorCode, KafkaError
from twisted_kafka.server.context import RequestContext
from twisted_kafka.server.registry import ResponderRegistry

API_KEY = 23
MIN_VERSION = 2
MAX_VERSION = 4


def respond(request: dict, context: RequestContext) -> dict:
    """Answer an OffsetForLeaderEpoch request."""
    topics_out = []
    for t in request["topics"]:
        partitions_out: list[dict] = []
        topics_out.append({"topic": t["topic"], "partitions": partitions_out})
        for p in t["partitions"]:
            out = {"error_code": ErrorCode.NONE, "partition": p["partition"],
                   "leader_epoch": -1, "end_offset": -1}
            partitions_out.append(out)
            try:
                partition = find_partition(find_topic(context.vhost, t["topic"]), p["partition"])
                check_leader_epoch(p.get("current_leader_epoch", -1))
            except KafkaError as e:
                out["error_code"] = e.code
                continue
            if p["leader_epoch"] <= LEADER_EPOCH:
                out["leader_epoch"] = LEADER_EPOCH
                out["end_offset"] = partition.high_watermark
    return {"throttle_time_ms": 0, "topics": topics_out}


def register(registry: ResponderRegistry) -> None:
    """Serve OffsetForLeaderEpoch."""
    registry.register(API_KEY, "OffsetForLeaderEpoch", MIN_VERSION, MAX_VERSION, respond)
