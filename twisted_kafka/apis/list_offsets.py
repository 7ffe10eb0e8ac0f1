# -*- test-case-name: tests.apis.test_list_offsets -*-
"""ListOffsets (api key 2), versions 1-10: offsets by position or by time.

Special timestamps: -2 earliest (the log start offset), -1 latest (the high
watermark; with no transactions also for read_committed), -3 the record with
the largest timestamp (v7+), -4 earliest local (v8+; everything is local, so
the log start offset) and -5 earliest pending tiered-storage upload (v9+;
nothing is tiered, so no offset: -1).  A real timestamp finds the first record
whose timestamp is at or after it: the store's time index names the batch,
and the records of that one batch are read to find the exact record.
"""

from __future__ import annotations

from typing import Any

from twisted_kafka.apis.support.topics import (
    LEADER_EPOCH, RequestedTopic, check_leader_epoch, topic_need)
from twisted_kafka.errors import ErrorCode, KafkaError
from twisted_kafka.server.authorizer import AclOperation
from twisted_kafka.server.context import RequestContext
from twisted_kafka.server.registry import ResponderRegistry

API_KEY = 2
MIN_VERSION = 1
MAX_VERSION = 10

LATEST = -1
EARLIEST = -2
MAX_TIMESTAMP = -3
EARLIEST_LOCAL = -4
EARLIEST_PENDING_UPLOAD = -5
_MIN_VERSION_FOR = {MAX_TIMESTAMP: 7, EARLIEST_LOCAL: 8, EARLIEST_PENDING_UPLOAD: 9}


def _records_of_batch(partition: Any, offset: int, max_decompressed: int) -> list:
    """Return the records of the stored batch containing C{offset}."""
    from twisted_kafka.records.batch import parse_header
    from twisted_kafka.records.record import iter_records

    data = partition.read(offset, 1)
    header = parse_header(data, 0)
    end = 12 + header.batch_length
    return list(iter_records(data[:end], header, max_decompressed))


def offset_for_time(partition: Any, timestamp: int, max_decompressed: int) -> tuple[int, int]:
    """Return (offset, timestamp) of the first record at or after C{timestamp}."""
    found = partition.offset_for_timestamp(timestamp)
    if found is None:
        return -1, -1
    for record in _records_of_batch(partition, found[0], max_decompressed):
        if record.timestamp >= timestamp:
            return record.offset, record.timestamp
    return found[0], found[1]


def max_timestamp_offset(partition: Any, max_decompressed: int) -> tuple[int, int]:
    """Return (offset, timestamp) of the record with the largest timestamp."""
    found = partition.max_timestamp()
    if found is None:
        return -1, -1
    best = None
    for record in _records_of_batch(partition, found[0], max_decompressed):
        if best is None or record.timestamp > best[1]:
            best = (record.offset, record.timestamp)
    return best if best is not None else found


def lookup(partition: Any, timestamp: int, version: int,
           max_decompressed: int) -> tuple[int, int]:
    """Return (offset, timestamp) for one ListOffsets query."""
    needed = _MIN_VERSION_FOR.get(timestamp)
    if needed is not None and version < needed:
        raise KafkaError(ErrorCode.UNSUPPORTED_VERSION,
                         f"timestamp {timestamp} needs ListOffsets v{needed}")
    if timestamp == LATEST:
        return partition.high_watermark, -1
    if timestamp in (EARLIEST, EARLIEST_LOCAL):
        return partition.log_start_offset, -1
    if timestamp == EARLIEST_PENDING_UPLOAD:
        return -1, -1
    if timestamp == MAX_TIMESTAMP:
        return max_timestamp_offset(partition, max_decompressed)
    if timestamp < 0:
        raise KafkaError(ErrorCode.INVALID_REQUEST, f"invalid timestamp {timestamp}")
    return offset_for_time(partition, timestamp, max_decompressed)


def respond(request: dict, context: RequestContext) -> dict:
    """Answer a ListOffsets request."""
    version = context.api_version
    max_decompressed = context.broker.config.kafka.max_decompressed_bytes
    topics_out = []
    for t in request["topics"]:
        partitions_out: list[dict] = []
        topics_out.append({"name": t["name"], "partitions": partitions_out})
        topic = RequestedTopic(context, t["name"])
        for p in t["partitions"]:
            out = {
                "partition_index": p["partition_index"],
                "error_code": ErrorCode.NONE,
                "old_style_offsets": [],
                "timestamp": -1,
                "offset": -1,
                "leader_epoch": -1,
            }
            partitions_out.append(out)
            try:
                partition = topic.partition(p["partition_index"])
                check_leader_epoch(p.get("current_leader_epoch", -1))
                offset, timestamp = lookup(partition, p["timestamp"], version, max_decompressed)
            except KafkaError as e:
                out["error_code"] = e.code
                continue
            out["offset"] = offset
            out["timestamp"] = timestamp
            out["leader_epoch"] = LEADER_EPOCH if offset >= 0 else -1
    return {"throttle_time_ms": 0, "topics": topics_out}


def register(registry: ResponderRegistry) -> None:
    """Serve ListOffsets."""
    registry.register(API_KEY, "ListOffsets", MIN_VERSION, MAX_VERSION, respond,
                      (topic_need(AclOperation.DESCRIBE),))
