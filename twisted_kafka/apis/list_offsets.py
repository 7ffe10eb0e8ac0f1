# -*- test-case-name: tests.apis.test_list_offsets -*-
"""ListOffsets (api key 2), versions 1-10: offsets by position or by time.

Special timestamps: -2 earliest (the log start offset), -1 latest (the high
watermark; with no transactions also for read_committed), -3 the record with
the largest timestamp (v7+), -4 earliest local (v8+; everything is local, so
the log start offset) and -5 earliest pending tiered-storage upload (v9+;
nothing is tiered, so no offset: -1).  A real timestamp finds the first record
whose timestamp is at or after it: the store's time index names the batch,
and the records of that one batch are read, decompressing as they go, up to
the exact record.  Decompression is bounded per request by
C{[kafka] max_decompressed_bytes} across all its partitions; past it a
partition is answered at its batch (see L{offset_for_time}).
"""

from __future__ import annotations

from typing import Iterator

from twisted_kafka.apis.support.topics import (
    LEADER_EPOCH, RequestedTopic, check_leader_epoch, topic_need)
from twisted_kafka.errors import ErrorCode, KafkaError
from twisted_kafka.protocol.messages import Fields
from twisted_kafka.records.batch import LOG_OVERHEAD, parse_header
from twisted_kafka.records.record import BudgetSpent, DecompressionBudget, record_times
from twisted_kafka.server.authorizer import AclOperation
from twisted_kafka.server.context import RequestContext
from twisted_kafka.server.registry import ResponderRegistry
from twisted_kafka.store.interfaces import IPartitionLog

API_KEY = 2
MIN_VERSION = 1
MAX_VERSION = 10

LATEST = -1
EARLIEST = -2
MAX_TIMESTAMP = -3
EARLIEST_LOCAL = -4
EARLIEST_PENDING_UPLOAD = -5
_MIN_VERSION_FOR = {MAX_TIMESTAMP: 7, EARLIEST_LOCAL: 8, EARLIEST_PENDING_UPLOAD: 9}


def _record_times(partition: IPartitionLog, offset: int, budget: DecompressionBudget
                  ) -> Iterator[tuple[int, int]]:
    """C{(offset, timestamp)} of each record of the stored batch holding C{offset}, lazily."""
    data = partition.read(offset, 1)
    header = parse_header(data, 0)
    return record_times(data[: LOG_OVERHEAD + header.batch_length], header, budget)


def offset_for_time(partition: IPartitionLog, timestamp: int, budget: DecompressionBudget
                    ) -> tuple[int, int]:
    """Return (offset, timestamp) of the first record at or after C{timestamp}.

    The time index names the first batch whose maxTimestamp reaches
    C{timestamp}; its records are read up to the first that does.  If the
    request's decompression budget runs out first, the batch's own base
    offset and maxTimestamp answer (a consumer starting there reads the
    record wanted, after a few earlier ones).
    """
    found = partition.offset_for_timestamp(timestamp)
    if found is None:
        return -1, -1
    try:
        for offset, record_timestamp in _record_times(partition, found[0], budget):
            if record_timestamp >= timestamp:
                return offset, record_timestamp
    except BudgetSpent:
        pass
    return found[0], found[1]


def max_timestamp_offset(partition: IPartitionLog, budget: DecompressionBudget) -> tuple[int, int]:
    """Return (offset, timestamp) of the first record with the largest timestamp.

    The store knows the batch and the timestamp (every stored batch's
    maxTimestamp is its records' largest); its records are read up to the
    first that carries it, as Kafka does.  Past the request's decompression
    budget, the batch's base offset answers.
    """
    found = partition.max_timestamp()
    if found is None:
        return -1, -1
    try:
        for offset, record_timestamp in _record_times(partition, found[0], budget):
            if record_timestamp == found[1]:
                return offset, record_timestamp
    except BudgetSpent:
        pass
    return found[0], found[1]


def lookup(partition: IPartitionLog, timestamp: int, version: int,
           budget: DecompressionBudget) -> tuple[int, int]:
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
        return max_timestamp_offset(partition, budget)
    if timestamp < 0:
        raise KafkaError(ErrorCode.INVALID_REQUEST, f"invalid timestamp {timestamp}")
    return offset_for_time(partition, timestamp, budget)


def respond(request: Fields, context: RequestContext) -> Fields:
    """Answer a ListOffsets request."""
    version = context.api_version
    # One budget for the whole request, however many partitions it names.
    budget = DecompressionBudget(context.settings.max_decompressed_bytes)
    topics_out = []
    for t in request["topics"]:
        partitions_out: list[Fields] = []
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
                offset, timestamp = lookup(partition, p["timestamp"], version, budget)
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
