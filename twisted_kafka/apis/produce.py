# -*- test-case-name: tests.apis.test_produce -*-
"""Produce (api key 0): append record batches to stream queues.

Served v3-v13 and advertised from v0: librdkafka decides that the broker
supports compression from the advertised minimum (KAFKA-18659), so v0-2 are
advertised but every partition of such a request is answered with
UNSUPPORTED_VERSION (the legacy message format is not stored), never dropped.

Each partition is independent: a failed partition stores nothing and gets its
error code (and, from v8, an error message) while the others proceed.
Per partition, in order: the topic is resolved (auto-created when allowed;
internal stream queues, named C{__...}, refuse appends from clients),
the records are checked by L{twisted_kafka.records.batch.validate_produce_records}
(one RecordBatch v2, header, CRC-32C, the records walked: their count,
lengths, offsets and timestamps, and with C{record_validation = full} every
record's fields; zstd against the request version, v7+; keys on a compacted
topic; on a CreateTime topic, every timestamp within the partition's
C{message.timestamp.before.max.ms}/C{after.max.ms} of the store's clock,
INVALID_TIMESTAMP naming each record otherwise), then the batch and its
validated header go to the store's append, which owns acceptance: the
topic's C{max.message.bytes}, recompression to its C{compression.type},
the LogAppendTime stamp, idempotent producers' sequence checks, all or
nothing.

acks=0 gets no response (and a request with an error closes the connection,
as Kafka does, so the producer notices); acks=1 is answered after the append;
acks=-1 after the store's group-committed fsync covers the data.
"""

from __future__ import annotations


from twisted_kafka.errors import ErrorCode, KafkaError
from twisted_kafka.protocol.messages import Fields
from twisted_kafka.records import batch as record_batch
from twisted_kafka.records.record_walk import RecordError, RecordErrors
from twisted_kafka.apis.support.topics import (
    NULL_TOPIC_ID, may_create_topic, topic_need, topic_refused)
from twisted_kafka.server.authorizer import AclOperation, ResourceType
from twisted_kafka.server.context import RequestContext
from twisted_kafka.server.registry import ResponderRegistry
from twisted_kafka.server.reply import AfterSync, CloseAfter, Reply
from twisted_kafka.store.topic_names import is_internal
from twisted_kafka.store.interfaces import ITopic

API_KEY = 0
MIN_VERSION = 0
MAX_VERSION = 13
FIRST_SERVED_VERSION = 3


def _partition_error(index: int, code: ErrorCode, message: str | None,
                     record_errors: list[Fields] | None = None) -> Fields:
    return {
        "index": index,
        "error_code": code,
        "base_offset": -1,
        "log_append_time_ms": -1,
        "log_start_offset": -1,
        "record_errors": record_errors or [],
        "error_message": message,
    }


def _failed_partition(index: int, error: KafkaError) -> Fields:
    """The response entry of a partition that failed with C{error}.

    A fault in one record names its batch index in C{record_errors} (v8+);
    keyless records sent to a compacted topic, and records whose timestamps
    are out of the topic's bounds, are each named there.
    """
    record_errors = None
    if isinstance(error, RecordError):
        record_errors = [{"batch_index": error.batch_index,
                          "batch_index_error_message": error.message}]
    elif isinstance(error, RecordErrors):
        record_errors = [{"batch_index": index, "batch_index_error_message": message}
                         for index, message in error.record_errors]
    return _partition_error(index, error.code, error.message, record_errors)


def _all_failed(request: Fields, code: ErrorCode, message: str) -> list[Fields]:
    return [
        {
            "name": topic.get("name"),
            "topic_id": topic.get("topic_id", NULL_TOPIC_ID),
            "partition_responses": [
                _partition_error(p["index"], code, message) for p in topic["partition_data"]
            ],
        }
        for topic in request["topic_data"]
    ]


class _TopicLookup:
    """Resolves the topics of one request, by name or (v13+) by id."""

    def __init__(self, context: RequestContext) -> None:
        self.context = context
        self.by_id = context.api_version >= 13

    def resolve(self, topic_data: Fields) -> ITopic:
        vhost = self.context.vhost
        if self.by_id:
            topic = vhost.topic_by_id(topic_data.get("topic_id", NULL_TOPIC_ID))
            if topic is None:
                raise KafkaError(ErrorCode.UNKNOWN_TOPIC_ID, "unknown topic id")
            if self.context.access.refused(ResourceType.TOPIC, topic.name):
                raise topic_refused(topic.name)
            if is_internal(topic.name):
                raise KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION,
                                 f"cannot append to internal topic {topic.name!r}")
            return topic
        name = topic_data["name"]
        if self.context.access.refused(ResourceType.TOPIC, name):
            raise topic_refused(name)
        if is_internal(name):
            raise KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION,
                             f"cannot append to internal topic {name!r}")
        topic = vhost.topic(name)
        if topic is None:
            if not may_create_topic(self.context.access, name):
                raise topic_refused(name)
            topic = self.context.broker.auto_create_topic(vhost, name)
        return topic


def append_partition(topic: ITopic, index: int, records: bytes | bytearray | memoryview | None,
                     version: int, full_validation: bool, max_decompressed: int,
                     max_ratio: int) -> Fields:
    """Validate and append one partition's records; return its response entry.

    A CreateTime batch whose header's maxTimestamp is not its records'
    largest timestamp is stored with the right one, as Kafka stores it.
    """
    if index < 0 or index >= len(topic.partitions):
        raise KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
                         f"partition {index} of topic {topic.name!r} does not exist")
    if not records:
        raise KafkaError(ErrorCode.INVALID_RECORD, "produce request without records")
    partition = topic.partitions[index]
    [(_, _, header)] = record_batch.validate_produce_records(
        records, full=full_validation, max_decompressed=max_decompressed,
        max_ratio=max_ratio, produce_version=version,
        require_keys=f"{topic.name}-{index}" if partition.requires_keys else None,
        timestamp_bounds=partition.timestamp_bounds())
    if header.max_timestamp != record_batch.stated_max_timestamp(records):
        records = record_batch.with_max_timestamp(records, header.max_timestamp)
        header = record_batch.parse_header(records)
    appended = partition.append(records, header)
    return {
        "index": index,
        "error_code": ErrorCode.NONE,
        "base_offset": appended.base_offset,
        "log_append_time_ms": appended.log_append_time_ms,
        "log_start_offset": partition.log_start_offset,
        "record_errors": [],
        "error_message": None,
    }


def respond(request: Fields, context: RequestContext) -> Reply:
    """Answer a Produce request."""
    version = context.api_version
    acks = request["acks"]
    broker = context.broker
    if version < FIRST_SERVED_VERSION:
        responses = _all_failed(request, ErrorCode.UNSUPPORTED_VERSION,
                                f"produce v{version} (message format v0/v1) is not supported; "
                                "use v3 or later")
    elif request.get("transactional_id") is not None:
        responses = _all_failed(request, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
                                "transactions are not supported by this broker")
    elif acks not in (0, 1, -1):
        responses = _all_failed(request, ErrorCode.INVALID_REQUIRED_ACKS,
                                f"acks must be 0, 1 or -1, not {acks}")
    else:
        settings = context.settings
        full = settings.full_record_validation
        max_decompressed = settings.max_decompressed_bytes
        max_ratio = settings.max_compression_ratio
        lookup = _TopicLookup(context)
        responses = []
        for topic_data in request["topic_data"]:
            partitions_out: list[Fields] = []
            responses.append({
                "name": topic_data.get("name"),
                "topic_id": topic_data.get("topic_id", NULL_TOPIC_ID),
                "partition_responses": partitions_out,
            })
            try:
                topic = lookup.resolve(topic_data)
            except KafkaError as e:
                for p in topic_data["partition_data"]:
                    partitions_out.append(_partition_error(p["index"], e.code, e.message))
                continue
            min_in_sync = int(topic.config("min.insync.replicas")) if acks == -1 else 1
            for p in topic_data["partition_data"]:
                try:
                    if min_in_sync > 1 and 0 <= p["index"] < len(topic.partitions):
                        # a single node's ISR is itself: acks=all cannot meet min.insync.replicas > 1
                        raise KafkaError(
                            ErrorCode.NOT_ENOUGH_REPLICAS,
                            f"The size of the current ISR Set(0) is insufficient to satisfy the "
                            f"min.isr requirement of {min_in_sync} for partition {topic.name}-{p['index']}")
                    partitions_out.append(append_partition(
                        topic, p["index"], p["records"], version, full, max_decompressed,
                        max_ratio))
                except KafkaError as e:
                    partitions_out.append(_failed_partition(p["index"], e))
    response = {"responses": responses, "throttle_time_ms": 0}
    if acks == 0:
        for entry in responses:
            for p in entry["partition_responses"]:
                if p["error_code"]:
                    return CloseAfter(None, f"acks=0 produce failed: "
                                            f"{ErrorCode(p['error_code']).name} {p['error_message'] or ''}")
        return None
    if acks == -1 and context.settings.durable_acks:
        return AfterSync(response)
    return response


def register(registry: ResponderRegistry) -> None:
    """Serve Produce."""
    registry.register(API_KEY, "Produce", MIN_VERSION, MAX_VERSION, respond,
                      (topic_need(AclOperation.WRITE, "topic_data"),))
