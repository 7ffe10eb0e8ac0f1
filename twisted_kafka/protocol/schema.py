# -*- test-case-name: tests.protocol.test_schema -*-
"""Declarative schemas of every Kafka message this broker reads or writes.

A hand-maintained Python transcription of Kafka 4.3's JSON message
definitions (C{clients/src/main/resources/common/message/*.json}), for the
APIs the broker serves and the consumer-protocol data messages embedded in
group requests.  Nothing here is loaded from JSON at run time;
L{twisted_kafka.protocol.compiler} turns these declarations into encode
and decode functions.

How to read an entry::

    Message("ProduceRequest", api_key=0, versions="0-13", flexible="9+", fields=[
        Field("transactional_id", STRING, "3+", nullable="3+", default=None),
        Array("topic_data", "0+", fields=[...]),
    ])

- Version ranges are written as in the JSON: C{"3+"}, C{"0-12"}, C{"5"}
  or C{"none"}.  The third argument of every field is the versions it exists
  in; C{nullable=} is the JSON's C{nullableVersions}; C{tag=} and
  C{tagged=} are C{tag} and C{taggedVersions}; a message's C{flexible} is
  its C{flexibleVersions}.
- C{Field} is a primitive; C{Array(..., of=INT32)} an array of primitives;
  C{Array(..., fields=[...])} an array of structs; C{Struct} a nested
  struct.  Common structs of the JSON are plain lists of fields reused by
  name (C{_LEADER_ID_AND_EPOCH}...).
- C{default=} is the JSON C{default}.  Without one a field defaults to 0,
  C{""}, C{b""}, C{False}, C{[]}, the zero uuid, or C{None} when the
  field is nullable in some version.

Field names are the JSON names in snake_case: an C{_} goes before every
capital letter that follows a lower-case letter or a digit, and before the
last capital of a run of capitals that is followed by a lower-case letter;
then everything is lower-cased (C{ThrottleTimeMs} -> C{throttle_time_ms},
C{IsrNodes} -> C{isr_nodes}, C{TopicID} -> C{topic_id},
C{ResultsByTopicV3AndBelow} -> C{results_by_topic_v3_and_below}).
L{snake_case} implements the rule.

Departures from the JSON: Produce request and response keep versions 0-2
(the JSON's baseline is 3) because the broker advertises Produce from v0
for librdkafka and must be able to answer them.
"""

from __future__ import annotations

import re
from typing import Iterable, Optional, Sequence

from twisted_kafka.protocol.primitives import ZERO_UUID

# Primitive type names, as in the JSON.
INT8 = "int8"
INT16 = "int16"
UINT16 = "uint16"
INT32 = "int32"
UINT32 = "uint32"
INT64 = "int64"
FLOAT64 = "float64"
BOOL = "bool"
UUID = "uuid"
STRING = "string"
BYTES = "bytes"
RECORDS = "records"

PRIMITIVES = frozenset(
    (INT8, INT16, UINT16, INT32, UINT32, INT64, FLOAT64, BOOL, UUID, STRING, BYTES, RECORDS)
)


_TYPE_DEFAULTS: dict[str, object] = {
    INT8: 0, INT16: 0, UINT16: 0, INT32: 0, UINT32: 0, INT64: 0, FLOAT64: 0.0,
    BOOL: False, UUID: ZERO_UUID, STRING: "", BYTES: b"", RECORDS: None,
}

_UNSET = object()
_SNAKE = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def snake_case(name: str) -> str:
    """The field name rule described in the module docstring."""
    return _SNAKE.sub("_", name).lower()


class VersionRange:
    """An inclusive range of versions parsed from C{"N+"}, C{"N-M"}, C{"N"} or C{"none"}."""

    __slots__ = ("low", "high", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        if text == "none":
            self.low, self.high = 0, -1
        elif text.endswith("+"):
            self.low, self.high = int(text[:-1]), 0x7FFF
        elif "-" in text:
            low, high = text.split("-")
            self.low, self.high = int(low), int(high)
        else:
            self.low = self.high = int(text)

    def __contains__(self, version: int) -> bool:
        return self.low <= version <= self.high

    def __repr__(self) -> str:
        return f"VersionRange({self.text!r})"


class Field:
    """A field of a primitive type (see the module docstring)."""

    __slots__ = ("name", "type", "versions", "nullable", "tag", "tagged", "_default")

    def __init__(
        self,
        name: str,
        type: str,
        versions: str,
        *,
        nullable: str = "none",
        default: object = _UNSET,
        tag: Optional[int] = None,
        tagged: str = "none",
    ) -> None:
        if type not in PRIMITIVES:
            raise ValueError(f"{name}: unknown primitive type {type!r}")
        self.name = name
        self.type = type
        self.versions = VersionRange(versions)
        self.nullable = VersionRange(nullable)
        self.tag = tag
        self.tagged = VersionRange(tagged)
        self._default = default

    @property
    def default(self) -> object:
        """The value of this field when it is absent or not in the version."""
        if self._default is not _UNSET:
            return self._default
        if self.nullable.high >= self.nullable.low:
            return None
        return _TYPE_DEFAULTS[self.type]

    def is_tagged(self, version: int) -> bool:
        """True if this field is a tagged field in C{version}."""
        return self.tag is not None and version in self.tagged

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, {self.versions.text!r})"


class Struct(Field):
    """A nested struct: C{fields} are its members."""

    __slots__ = ("fields",)

    def __init__(
        self,
        name: str,
        versions: str,
        *,
        fields: Sequence[Field],
        nullable: str = "none",
        default: object = _UNSET,
        tag: Optional[int] = None,
        tagged: str = "none",
    ) -> None:
        self.name = name
        self.type = "struct"
        self.versions = VersionRange(versions)
        self.nullable = VersionRange(nullable)
        self.tag = tag
        self.tagged = VersionRange(tagged)
        self._default = default
        self.fields: tuple[Field, ...] = tuple(fields)

    @property
    def default(self) -> object:
        """C{None} if declared so, else a dict of every member's default."""
        if self._default is not _UNSET:
            return self._default
        return {f.name: f.default for f in self.fields}


class Array(Field):
    """An array of primitives (C{of=}) or of structs (C{fields=})."""

    __slots__ = ("of", "fields")

    def __init__(
        self,
        name: str,
        versions: str,
        *,
        of: Optional[str] = None,
        fields: Optional[Sequence[Field]] = None,
        nullable: str = "none",
        default: object = _UNSET,
        tag: Optional[int] = None,
        tagged: str = "none",
    ) -> None:
        if (of is None) == (fields is None):
            raise ValueError(f"{name}: an Array needs exactly one of of= and fields=")
        if of is not None and of not in PRIMITIVES:
            raise ValueError(f"{name}: unknown primitive type {of!r}")
        self.name = name
        self.type = "array"
        self.versions = VersionRange(versions)
        self.nullable = VersionRange(nullable)
        self.tag = tag
        self.tagged = VersionRange(tagged)
        self._default = default
        self.of = of
        self.fields: Optional[tuple[Field, ...]] = None if fields is None else tuple(fields)

    @property
    def default(self) -> object:
        """C{None} if declared so, else an empty list."""
        if self._default is not _UNSET:
            return self._default
        return []


class Message:
    """A top-level message: a request, a response, or a data message."""

    __slots__ = ("name", "api_key", "versions", "flexible", "fields")

    def __init__(
        self,
        name: str,
        *,
        versions: str,
        flexible: str,
        fields: Iterable[Field],
        api_key: Optional[int] = None,
    ) -> None:
        self.name = name
        self.api_key = api_key
        self.versions = VersionRange(versions)
        self.flexible = VersionRange(flexible)
        self.fields: tuple[Field, ...] = tuple(fields)

    @property
    def valid_versions(self) -> tuple[int, int]:
        """C{(lowest, highest)} version of this message."""
        return self.versions.low, self.versions.high

    def is_flexible(self, version: int) -> bool:
        """True if C{version} uses the flexible (compact, tagged) encoding."""
        return version in self.flexible

    def __repr__(self) -> str:
        return f"Message({self.name!r}, versions={self.versions.text!r})"


#: Alter(Incremental)ConfigsResponse: the result for one resource.
_ALTER_CONFIGS_RESOURCE_RESPONSE = [
    Field("error_code", INT16, "0+"),
    Field("error_message", STRING, "0+", nullable="0+"),
    Field("resource_type", INT8, "0+"),
    Field("resource_name", STRING, "0+"),
]

API_VERSIONS_REQUEST = Message(
    "ApiVersionsRequest", api_key=18, versions="0-4", flexible="3+", fields=[
    Field("client_software_name", STRING, "3+"),
    Field("client_software_version", STRING, "3+"),
])

API_VERSIONS_RESPONSE = Message(
    "ApiVersionsResponse", api_key=18, versions="0-4", flexible="3+", fields=[
    Field("error_code", INT16, "0+"),
    Array("api_keys", "0+", fields=[
        Field("api_key", INT16, "0+"),
        Field("min_version", INT16, "0+"),
        Field("max_version", INT16, "0+"),
    ]),
    Field("throttle_time_ms", INT32, "1+"),
    Array("supported_features", "3+", tag=0, tagged="3+", fields=[
        Field("name", STRING, "3+"),
        Field("min_version", INT16, "3+"),
        Field("max_version", INT16, "3+"),
    ]),
    Field("finalized_features_epoch", INT64, "3+", default=-1, tag=1, tagged="3+"),
    Array("finalized_features", "3+", tag=2, tagged="3+", fields=[
        Field("name", STRING, "3+"),
        Field("max_version_level", INT16, "3+"),
        Field("min_version_level", INT16, "3+"),
    ]),
    Field("zk_migration_ready", BOOL, "3+", tag=3, tagged="3+"),
])

# librdkafka's flexible "all topics" request is malformed: see
# messages._tolerate_librdkafka_null_topics.
METADATA_REQUEST = Message(
    "MetadataRequest", api_key=3, versions="0-13", flexible="9+", fields=[
    Array("topics", "0+", nullable="1+", fields=[
        Field("topic_id", UUID, "10+"),
        Field("name", STRING, "0+", nullable="10+"),
    ]),
    Field("allow_auto_topic_creation", BOOL, "4+", default=True),
    Field("include_cluster_authorized_operations", BOOL, "8-10"),
    Field("include_topic_authorized_operations", BOOL, "8+"),
])

METADATA_RESPONSE = Message(
    "MetadataResponse", api_key=3, versions="0-13", flexible="9+", fields=[
    Field("throttle_time_ms", INT32, "3+"),
    Array("brokers", "0+", fields=[
        Field("node_id", INT32, "0+"),
        Field("host", STRING, "0+"),
        Field("port", INT32, "0+"),
        Field("rack", STRING, "1+", nullable="1+", default=None),
    ]),
    Field("cluster_id", STRING, "2+", nullable="2+", default=None),
    Field("controller_id", INT32, "1+", default=-1),
    Array("topics", "0+", fields=[
        Field("error_code", INT16, "0+"),
        Field("name", STRING, "0+", nullable="12+"),
        Field("topic_id", UUID, "10+"),
        Field("is_internal", BOOL, "1+"),
        Array("partitions", "0+", fields=[
            Field("error_code", INT16, "0+"),
            Field("partition_index", INT32, "0+"),
            Field("leader_id", INT32, "0+"),
            Field("leader_epoch", INT32, "7+", default=-1),
            Array("replica_nodes", "0+", of=INT32),
            Array("isr_nodes", "0+", of=INT32),
            Array("offline_replicas", "5+", of=INT32),
        ]),
        Field("topic_authorized_operations", INT32, "8+", default=-2147483648),
    ]),
    Field("cluster_authorized_operations", INT32, "8-10", default=-2147483648),
    Field("error_code", INT16, "13+"),
])

# Produce v0-2 (removed from Kafka 4.0, kept here): v3's layout without
# transactional_id; librdkafka needs them advertised (KAFKA-18659).
PRODUCE_REQUEST = Message(
    "ProduceRequest", api_key=0, versions="0-13", flexible="9+", fields=[
    Field("transactional_id", STRING, "3+", nullable="3+", default=None),
    Field("acks", INT16, "0+"),
    Field("timeout_ms", INT32, "0+"),
    Array("topic_data", "0+", fields=[
        Field("name", STRING, "0-12"),
        Field("topic_id", UUID, "13+"),
        Array("partition_data", "0+", fields=[
            Field("index", INT32, "0+"),
            Field("records", RECORDS, "0+", nullable="0+"),
        ]),
    ]),
])

PRODUCE_RESPONSE = Message(
    "ProduceResponse", api_key=0, versions="0-13", flexible="9+", fields=[
    Array("responses", "0+", fields=[
        Field("name", STRING, "0-12"),
        Field("topic_id", UUID, "13+"),
        Array("partition_responses", "0+", fields=[
            Field("index", INT32, "0+"),
            Field("error_code", INT16, "0+"),
            Field("base_offset", INT64, "0+"),
            Field("log_append_time_ms", INT64, "2+", default=-1),
            Field("log_start_offset", INT64, "5+", default=-1),
            Array("record_errors", "8+", fields=[
                Field("batch_index", INT32, "8+"),
                Field("batch_index_error_message", STRING, "8+", nullable="8+", default=None),
            ]),
            Field("error_message", STRING, "8+", nullable="8+", default=None),
            Struct("current_leader", "10+", tag=0, tagged="10+", fields=[
                Field("leader_id", INT32, "10+", default=-1),
                Field("leader_epoch", INT32, "10+", default=-1),
            ]),
        ]),
    ]),
    Field("throttle_time_ms", INT32, "1+"),
    Array("node_endpoints", "10+", tag=0, tagged="10+", fields=[
        Field("node_id", INT32, "10+"),
        Field("host", STRING, "10+"),
        Field("port", INT32, "10+"),
        Field("rack", STRING, "10+", nullable="10+", default=None),
    ]),
])

FETCH_REQUEST = Message(
    "FetchRequest", api_key=1, versions="4-18", flexible="12+", fields=[
    Field("cluster_id", STRING, "12+", nullable="12+", default=None, tag=0, tagged="12+"),
    Field("replica_id", INT32, "0-14", default=-1),
    Struct("replica_state", "15+", tag=1, tagged="15+", fields=[
        Field("replica_id", INT32, "15+", default=-1),
        Field("replica_epoch", INT64, "15+", default=-1),
    ]),
    Field("max_wait_ms", INT32, "0+"),
    Field("min_bytes", INT32, "0+"),
    Field("max_bytes", INT32, "3+", default=2147483647),
    Field("isolation_level", INT8, "4+"),
    Field("session_id", INT32, "7+"),
    Field("session_epoch", INT32, "7+", default=-1),
    Array("topics", "0+", fields=[
        Field("topic", STRING, "0-12"),
        Field("topic_id", UUID, "13+"),
        Array("partitions", "0+", fields=[
            Field("partition", INT32, "0+"),
            Field("current_leader_epoch", INT32, "9+", default=-1),
            Field("fetch_offset", INT64, "0+"),
            Field("last_fetched_epoch", INT32, "12+", default=-1),
            Field("log_start_offset", INT64, "5+", default=-1),
            Field("partition_max_bytes", INT32, "0+"),
            Field("replica_directory_id", UUID, "17+", tag=0, tagged="17+"),
            Field("high_watermark", INT64, "18+", default=9223372036854775807, tag=1, tagged="18+"),
        ]),
    ]),
    Array("forgotten_topics_data", "7+", fields=[
        Field("topic", STRING, "7-12"),
        Field("topic_id", UUID, "13+"),
        Array("partitions", "7+", of=INT32),
    ]),
    Field("rack_id", STRING, "11+", default=""),
])

FETCH_RESPONSE = Message(
    "FetchResponse", api_key=1, versions="4-18", flexible="12+", fields=[
    Field("throttle_time_ms", INT32, "1+"),
    Field("error_code", INT16, "7+"),
    Field("session_id", INT32, "7+"),
    Array("responses", "0+", fields=[
        Field("topic", STRING, "0-12"),
        Field("topic_id", UUID, "13+"),
        Array("partitions", "0+", fields=[
            Field("partition_index", INT32, "0+"),
            Field("error_code", INT16, "0+"),
            Field("high_watermark", INT64, "0+"),
            Field("last_stable_offset", INT64, "4+", default=-1),
            Field("log_start_offset", INT64, "5+", default=-1),
            Struct("diverging_epoch", "12+", tag=0, tagged="12+", fields=[
                Field("epoch", INT32, "12+", default=-1),
                Field("end_offset", INT64, "12+", default=-1),
            ]),
            Struct("current_leader", "12+", tag=1, tagged="12+", fields=[
                Field("leader_id", INT32, "12+", default=-1),
                Field("leader_epoch", INT32, "12+", default=-1),
            ]),
            Struct("snapshot_id", "12+", tag=2, tagged="12+", fields=[
                Field("end_offset", INT64, "0+", default=-1),
                Field("epoch", INT32, "0+", default=-1),
            ]),
            Array("aborted_transactions", "4+", nullable="4+", fields=[
                Field("producer_id", INT64, "4+"),
                Field("first_offset", INT64, "4+"),
            ]),
            Field("preferred_read_replica", INT32, "11+", default=-1),
            Field("records", RECORDS, "0+", nullable="0+"),
        ]),
    ]),
    Array("node_endpoints", "16+", tag=0, tagged="16+", fields=[
        Field("node_id", INT32, "16+"),
        Field("host", STRING, "16+"),
        Field("port", INT32, "16+"),
        Field("rack", STRING, "16+", nullable="16+", default=None),
    ]),
])

LIST_OFFSETS_REQUEST = Message(
    "ListOffsetsRequest", api_key=2, versions="1-11", flexible="6+", fields=[
    Field("replica_id", INT32, "0+"),
    Field("isolation_level", INT8, "2+"),
    Array("topics", "0+", fields=[
        Field("name", STRING, "0+"),
        Array("partitions", "0+", fields=[
            Field("partition_index", INT32, "0+"),
            Field("current_leader_epoch", INT32, "4+", default=-1),
            Field("timestamp", INT64, "0+"),
            Field("max_num_offsets", INT32, "0", default=1),
        ]),
    ]),
    Field("timeout_ms", INT32, "10+"),
])

LIST_OFFSETS_RESPONSE = Message(
    "ListOffsetsResponse", api_key=2, versions="1-11", flexible="6+", fields=[
    Field("throttle_time_ms", INT32, "2+"),
    Array("topics", "0+", fields=[
        Field("name", STRING, "0+"),
        Array("partitions", "0+", fields=[
            Field("partition_index", INT32, "0+"),
            Field("error_code", INT16, "0+"),
            Array("old_style_offsets", "0", of=INT64),
            Field("timestamp", INT64, "1+", default=-1),
            Field("offset", INT64, "1+", default=-1),
            Field("leader_epoch", INT32, "4+", default=-1),
        ]),
    ]),
])

OFFSET_FOR_LEADER_EPOCH_REQUEST = Message(
    "OffsetForLeaderEpochRequest", api_key=23, versions="2-4", flexible="4+", fields=[
    Field("replica_id", INT32, "3+", default=-2),
    Array("topics", "0+", fields=[
        Field("topic", STRING, "0+"),
        Array("partitions", "0+", fields=[
            Field("partition", INT32, "0+"),
            Field("current_leader_epoch", INT32, "2+", default=-1),
            Field("leader_epoch", INT32, "0+"),
        ]),
    ]),
])

OFFSET_FOR_LEADER_EPOCH_RESPONSE = Message(
    "OffsetForLeaderEpochResponse", api_key=23, versions="2-4", flexible="4+", fields=[
    Field("throttle_time_ms", INT32, "2+"),
    Array("topics", "0+", fields=[
        Field("topic", STRING, "0+"),
        Array("partitions", "0+", fields=[
            Field("error_code", INT16, "0+"),
            Field("partition", INT32, "0+"),
            Field("leader_epoch", INT32, "1+", default=-1),
            Field("end_offset", INT64, "0+", default=-1),
        ]),
    ]),
])

INIT_PRODUCER_ID_REQUEST = Message(
    "InitProducerIdRequest", api_key=22, versions="0-6", flexible="2+", fields=[
    Field("transactional_id", STRING, "0+", nullable="0+"),
    Field("transaction_timeout_ms", INT32, "0+"),
    Field("producer_id", INT64, "3+", default=-1),
    Field("producer_epoch", INT16, "3+", default=-1),
    Field("enable2_pc", BOOL, "6+"),
    Field("keep_prepared_txn", BOOL, "6+"),
])

INIT_PRODUCER_ID_RESPONSE = Message(
    "InitProducerIdResponse", api_key=22, versions="0-6", flexible="2+", fields=[
    Field("throttle_time_ms", INT32, "0+"),
    Field("error_code", INT16, "0+"),
    Field("producer_id", INT64, "0+", default=-1),
    Field("producer_epoch", INT16, "0+"),
    Field("ongoing_txn_producer_id", INT64, "6+", default=-1),
    Field("ongoing_txn_producer_epoch", INT16, "6+", default=-1),
])

FIND_COORDINATOR_REQUEST = Message(
    "FindCoordinatorRequest", api_key=10, versions="0-6", flexible="3+", fields=[
    Field("key", STRING, "0-3"),
    Field("key_type", INT8, "1+"),
    Array("coordinator_keys", "4+", of=STRING),
])

FIND_COORDINATOR_RESPONSE = Message(
    "FindCoordinatorResponse", api_key=10, versions="0-6", flexible="3+", fields=[
    Field("throttle_time_ms", INT32, "1+"),
    Field("error_code", INT16, "0-3"),
    Field("error_message", STRING, "1-3", nullable="1-3"),
    Field("node_id", INT32, "0-3"),
    Field("host", STRING, "0-3"),
    Field("port", INT32, "0-3"),
    Array("coordinators", "4+", fields=[
        Field("key", STRING, "4+"),
        Field("node_id", INT32, "4+"),
        Field("host", STRING, "4+"),
        Field("port", INT32, "4+"),
        Field("error_code", INT16, "4+"),
        Field("error_message", STRING, "4+", nullable="4+"),
    ]),
])

JOIN_GROUP_REQUEST = Message(
    "JoinGroupRequest", api_key=11, versions="0-9", flexible="6+", fields=[
    Field("group_id", STRING, "0+"),
    Field("session_timeout_ms", INT32, "0+"),
    Field("rebalance_timeout_ms", INT32, "1+", default=-1),
    Field("member_id", STRING, "0+"),
    Field("group_instance_id", STRING, "5+", nullable="5+", default=None),
    Field("protocol_type", STRING, "0+"),
    Array("protocols", "0+", fields=[
        Field("name", STRING, "0+"),
        Field("metadata", BYTES, "0+"),
    ]),
    Field("reason", STRING, "8+", nullable="8+", default=None),
])

JOIN_GROUP_RESPONSE = Message(
    "JoinGroupResponse", api_key=11, versions="0-9", flexible="6+", fields=[
    Field("throttle_time_ms", INT32, "2+"),
    Field("error_code", INT16, "0+"),
    Field("generation_id", INT32, "0+", default=-1),
    Field("protocol_type", STRING, "7+", nullable="7+", default=None),
    Field("protocol_name", STRING, "0+", nullable="7+"),
    Field("leader", STRING, "0+"),
    Field("skip_assignment", BOOL, "9+"),
    Field("member_id", STRING, "0+"),
    Array("members", "0+", fields=[
        Field("member_id", STRING, "0+"),
        Field("group_instance_id", STRING, "5+", nullable="5+", default=None),
        Field("metadata", BYTES, "0+"),
    ]),
])

SYNC_GROUP_REQUEST = Message(
    "SyncGroupRequest", api_key=14, versions="0-5", flexible="4+", fields=[
    Field("group_id", STRING, "0+"),
    Field("generation_id", INT32, "0+"),
    Field("member_id", STRING, "0+"),
    Field("group_instance_id", STRING, "3+", nullable="3+", default=None),
    Field("protocol_type", STRING, "5+", nullable="5+", default=None),
    Field("protocol_name", STRING, "5+", nullable="5+", default=None),
    Array("assignments", "0+", fields=[
        Field("member_id", STRING, "0+"),
        Field("assignment", BYTES, "0+"),
    ]),
])

SYNC_GROUP_RESPONSE = Message(
    "SyncGroupResponse", api_key=14, versions="0-5", flexible="4+", fields=[
    Field("throttle_time_ms", INT32, "1+"),
    Field("error_code", INT16, "0+"),
    Field("protocol_type", STRING, "5+", nullable="5+", default=None),
    Field("protocol_name", STRING, "5+", nullable="5+", default=None),
    Field("assignment", BYTES, "0+"),
])

HEARTBEAT_REQUEST = Message(
    "HeartbeatRequest", api_key=12, versions="0-4", flexible="4+", fields=[
    Field("group_id", STRING, "0+"),
    Field("generation_id", INT32, "0+"),
    Field("member_id", STRING, "0+"),
    Field("group_instance_id", STRING, "3+", nullable="3+", default=None),
])

HEARTBEAT_RESPONSE = Message(
    "HeartbeatResponse", api_key=12, versions="0-4", flexible="4+", fields=[
    Field("throttle_time_ms", INT32, "1+"),
    Field("error_code", INT16, "0+"),
])

LEAVE_GROUP_REQUEST = Message(
    "LeaveGroupRequest", api_key=13, versions="0-5", flexible="4+", fields=[
    Field("group_id", STRING, "0+"),
    Field("member_id", STRING, "0-2"),
    Array("members", "3+", fields=[
        Field("member_id", STRING, "3+"),
        Field("group_instance_id", STRING, "3+", nullable="3+", default=None),
        Field("reason", STRING, "5+", nullable="5+", default=None),
    ]),
])

LEAVE_GROUP_RESPONSE = Message(
    "LeaveGroupResponse", api_key=13, versions="0-5", flexible="4+", fields=[
    Field("throttle_time_ms", INT32, "1+"),
    Field("error_code", INT16, "0+"),
    Array("members", "3+", fields=[
        Field("member_id", STRING, "3+"),
        Field("group_instance_id", STRING, "3+", nullable="3+"),
        Field("error_code", INT16, "3+"),
    ]),
])

OFFSET_COMMIT_REQUEST = Message(
    "OffsetCommitRequest", api_key=8, versions="2-10", flexible="8+", fields=[
    Field("group_id", STRING, "0+"),
    Field("generation_id_or_member_epoch", INT32, "1+", default=-1),
    Field("member_id", STRING, "1+"),
    Field("group_instance_id", STRING, "7+", nullable="7+", default=None),
    Field("retention_time_ms", INT64, "2-4", default=-1),
    Array("topics", "0+", fields=[
        Field("name", STRING, "0-9"),
        Field("topic_id", UUID, "10+"),
        Array("partitions", "0+", fields=[
            Field("partition_index", INT32, "0+"),
            Field("committed_offset", INT64, "0+"),
            Field("committed_leader_epoch", INT32, "6+", default=-1),
            Field("commit_timestamp", INT64, "1", default=-1),
            Field("committed_metadata", STRING, "0+", nullable="0+"),
        ]),
    ]),
])

OFFSET_COMMIT_RESPONSE = Message(
    "OffsetCommitResponse", api_key=8, versions="2-10", flexible="8+", fields=[
    Field("throttle_time_ms", INT32, "3+"),
    Array("topics", "0+", fields=[
        Field("name", STRING, "0-9"),
        Field("topic_id", UUID, "10+"),
        Array("partitions", "0+", fields=[
            Field("partition_index", INT32, "0+"),
            Field("error_code", INT16, "0+"),
        ]),
    ]),
])

OFFSET_FETCH_REQUEST = Message(
    "OffsetFetchRequest", api_key=9, versions="1-10", flexible="6+", fields=[
    Field("group_id", STRING, "0-7"),
    Array("topics", "0-7", nullable="2-7", fields=[
        Field("name", STRING, "0-7"),
        Array("partition_indexes", "0-7", of=INT32),
    ]),
    Array("groups", "8+", fields=[
        Field("group_id", STRING, "8+"),
        Field("member_id", STRING, "9+", nullable="9+", default=None),
        Field("member_epoch", INT32, "9+", default=-1),
        Array("topics", "8+", nullable="8+", fields=[
            Field("name", STRING, "8-9"),
            Field("topic_id", UUID, "10+"),
            Array("partition_indexes", "8+", of=INT32),
        ]),
    ]),
    Field("require_stable", BOOL, "7+"),
])

OFFSET_FETCH_RESPONSE = Message(
    "OffsetFetchResponse", api_key=9, versions="1-10", flexible="6+", fields=[
    Field("throttle_time_ms", INT32, "3+"),
    Array("topics", "0-7", fields=[
        Field("name", STRING, "0-7"),
        Array("partitions", "0-7", fields=[
            Field("partition_index", INT32, "0-7"),
            Field("committed_offset", INT64, "0-7"),
            Field("committed_leader_epoch", INT32, "5-7", default=-1),
            Field("metadata", STRING, "0-7", nullable="0-7"),
            Field("error_code", INT16, "0-7"),
        ]),
    ]),
    Field("error_code", INT16, "2-7"),
    Array("groups", "8+", fields=[
        Field("group_id", STRING, "8+"),
        Array("topics", "8+", fields=[
            Field("name", STRING, "8-9"),
            Field("topic_id", UUID, "10+"),
            Array("partitions", "8+", fields=[
                Field("partition_index", INT32, "8+"),
                Field("committed_offset", INT64, "8+"),
                Field("committed_leader_epoch", INT32, "8+", default=-1),
                Field("metadata", STRING, "8+", nullable="8+"),
                Field("error_code", INT16, "8+"),
            ]),
        ]),
        Field("error_code", INT16, "8+"),
    ]),
])

DESCRIBE_GROUPS_REQUEST = Message(
    "DescribeGroupsRequest", api_key=15, versions="0-6", flexible="5+", fields=[
    Array("groups", "0+", of=STRING),
    Field("include_authorized_operations", BOOL, "3+"),
])

DESCRIBE_GROUPS_RESPONSE = Message(
    "DescribeGroupsResponse", api_key=15, versions="0-6", flexible="5+", fields=[
    Field("throttle_time_ms", INT32, "1+"),
    Array("groups", "0+", fields=[
        Field("error_code", INT16, "0+"),
        Field("error_message", STRING, "6+", nullable="6+", default=None),
        Field("group_id", STRING, "0+"),
        Field("group_state", STRING, "0+"),
        Field("protocol_type", STRING, "0+"),
        Field("protocol_data", STRING, "0+"),
        Array("members", "0+", fields=[
            Field("member_id", STRING, "0+"),
            Field("group_instance_id", STRING, "4+", nullable="4+", default=None),
            Field("client_id", STRING, "0+"),
            Field("client_host", STRING, "0+"),
            Field("member_metadata", BYTES, "0+"),
            Field("member_assignment", BYTES, "0+"),
        ]),
        Field("authorized_operations", INT32, "3+", default=-2147483648),
    ]),
])

LIST_GROUPS_REQUEST = Message(
    "ListGroupsRequest", api_key=16, versions="0-5", flexible="3+", fields=[
    Array("states_filter", "4+", of=STRING),
    Array("types_filter", "5+", of=STRING),
])

LIST_GROUPS_RESPONSE = Message(
    "ListGroupsResponse", api_key=16, versions="0-5", flexible="3+", fields=[
    Field("throttle_time_ms", INT32, "1+"),
    Field("error_code", INT16, "0+"),
    Array("groups", "0+", fields=[
        Field("group_id", STRING, "0+"),
        Field("protocol_type", STRING, "0+"),
        Field("group_state", STRING, "4+"),
        Field("group_type", STRING, "5+"),
    ]),
])

DELETE_GROUPS_REQUEST = Message(
    "DeleteGroupsRequest", api_key=42, versions="0-2", flexible="2+", fields=[
    Array("groups_names", "0+", of=STRING),
])

DELETE_GROUPS_RESPONSE = Message(
    "DeleteGroupsResponse", api_key=42, versions="0-2", flexible="2+", fields=[
    Field("throttle_time_ms", INT32, "0+"),
    Array("results", "0+", fields=[
        Field("group_id", STRING, "0+"),
        Field("error_code", INT16, "0+"),
    ]),
])

OFFSET_DELETE_REQUEST = Message(
    "OffsetDeleteRequest", api_key=47, versions="0", flexible="none", fields=[
    Field("group_id", STRING, "0+"),
    Array("topics", "0+", fields=[
        Field("name", STRING, "0+"),
        Array("partitions", "0+", fields=[
            Field("partition_index", INT32, "0+"),
        ]),
    ]),
])

OFFSET_DELETE_RESPONSE = Message(
    "OffsetDeleteResponse", api_key=47, versions="0", flexible="none", fields=[
    Field("error_code", INT16, "0+"),
    Field("throttle_time_ms", INT32, "0+"),
    Array("topics", "0+", fields=[
        Field("name", STRING, "0+"),
        Array("partitions", "0+", fields=[
            Field("partition_index", INT32, "0+"),
            Field("error_code", INT16, "0+"),
        ]),
    ]),
])

CREATE_TOPICS_REQUEST = Message(
    "CreateTopicsRequest", api_key=19, versions="2-7", flexible="5+", fields=[
    Array("topics", "0+", fields=[
        Field("name", STRING, "0+"),
        Field("num_partitions", INT32, "0+"),
        Field("replication_factor", INT16, "0+"),
        Array("assignments", "0+", fields=[
            Field("partition_index", INT32, "0+"),
            Array("broker_ids", "0+", of=INT32),
        ]),
        Array("configs", "0+", fields=[
            Field("name", STRING, "0+"),
            Field("value", STRING, "0+", nullable="0+"),
        ]),
    ]),
    Field("timeout_ms", INT32, "0+", default=60000),
    Field("validate_only", BOOL, "1+"),
])

CREATE_TOPICS_RESPONSE = Message(
    "CreateTopicsResponse", api_key=19, versions="2-7", flexible="5+", fields=[
    Field("throttle_time_ms", INT32, "2+"),
    Array("topics", "0+", fields=[
        Field("name", STRING, "0+"),
        Field("topic_id", UUID, "7+"),
        Field("error_code", INT16, "0+"),
        Field("error_message", STRING, "1+", nullable="0+"),
        Field("topic_config_error_code", INT16, "5+", tag=0, tagged="5+"),
        Field("num_partitions", INT32, "5+", default=-1),
        Field("replication_factor", INT16, "5+", default=-1),
        Array("configs", "5+", nullable="5+", fields=[
            Field("name", STRING, "5+"),
            Field("value", STRING, "5+", nullable="5+"),
            Field("read_only", BOOL, "5+"),
            Field("config_source", INT8, "5+", default=-1),
            Field("is_sensitive", BOOL, "5+"),
        ]),
    ]),
])

DELETE_TOPICS_REQUEST = Message(
    "DeleteTopicsRequest", api_key=20, versions="1-6", flexible="4+", fields=[
    Array("topics", "6+", fields=[
        Field("name", STRING, "6+", nullable="6+", default=None),
        Field("topic_id", UUID, "6+"),
    ]),
    Array("topic_names", "0-5", of=STRING),
    Field("timeout_ms", INT32, "0+"),
])

DELETE_TOPICS_RESPONSE = Message(
    "DeleteTopicsResponse", api_key=20, versions="1-6", flexible="4+", fields=[
    Field("throttle_time_ms", INT32, "1+"),
    Array("responses", "0+", fields=[
        Field("name", STRING, "0+", nullable="6+"),
        Field("topic_id", UUID, "6+"),
        Field("error_code", INT16, "0+"),
        Field("error_message", STRING, "5+", nullable="5+", default=None),
    ]),
])

CREATE_PARTITIONS_REQUEST = Message(
    "CreatePartitionsRequest", api_key=37, versions="0-3", flexible="2+", fields=[
    Array("topics", "0+", fields=[
        Field("name", STRING, "0+"),
        Field("count", INT32, "0+"),
        Array("assignments", "0+", nullable="0+", fields=[
            Array("broker_ids", "0+", of=INT32),
        ]),
    ]),
    Field("timeout_ms", INT32, "0+"),
    Field("validate_only", BOOL, "0+"),
])

CREATE_PARTITIONS_RESPONSE = Message(
    "CreatePartitionsResponse", api_key=37, versions="0-3", flexible="2+", fields=[
    Field("throttle_time_ms", INT32, "0+"),
    Array("results", "0+", fields=[
        Field("name", STRING, "0+"),
        Field("error_code", INT16, "0+"),
        Field("error_message", STRING, "0+", nullable="0+", default=None),
    ]),
])

DESCRIBE_CONFIGS_REQUEST = Message(
    "DescribeConfigsRequest", api_key=32, versions="1-4", flexible="4+", fields=[
    Array("resources", "0+", fields=[
        Field("resource_type", INT8, "0+"),
        Field("resource_name", STRING, "0+"),
        Array("configuration_keys", "0+", of=STRING, nullable="0+"),
    ]),
    Field("include_synonyms", BOOL, "1+"),
    Field("include_documentation", BOOL, "3+"),
])

DESCRIBE_CONFIGS_RESPONSE = Message(
    "DescribeConfigsResponse", api_key=32, versions="1-4", flexible="4+", fields=[
    Field("throttle_time_ms", INT32, "0+"),
    Array("results", "0+", fields=[
        Field("error_code", INT16, "0+"),
        Field("error_message", STRING, "0+", nullable="0+"),
        Field("resource_type", INT8, "0+"),
        Field("resource_name", STRING, "0+"),
        Array("configs", "0+", fields=[
            Field("name", STRING, "0+"),
            Field("value", STRING, "0+", nullable="0+"),
            Field("read_only", BOOL, "0+"),
            Field("config_source", INT8, "1+", default=-1),
            Field("is_default", BOOL, "0"),
            Field("is_sensitive", BOOL, "0+"),
            Array("synonyms", "1+", fields=[
                Field("name", STRING, "1+"),
                Field("value", STRING, "1+", nullable="0+"),
                Field("source", INT8, "1+"),
            ]),
            Field("config_type", INT8, "3+"),
            Field("documentation", STRING, "3+", nullable="0+"),
        ]),
    ]),
])

ALTER_CONFIGS_REQUEST = Message(
    "AlterConfigsRequest", api_key=33, versions="0-2", flexible="2+", fields=[
    Array("resources", "0+", fields=[
        Field("resource_type", INT8, "0+"),
        Field("resource_name", STRING, "0+"),
        Array("configs", "0+", fields=[
            Field("name", STRING, "0+"),
            Field("value", STRING, "0+", nullable="0+"),
        ]),
    ]),
    Field("validate_only", BOOL, "0+"),
])

ALTER_CONFIGS_RESPONSE = Message(
    "AlterConfigsResponse", api_key=33, versions="0-2", flexible="2+", fields=[
    Field("throttle_time_ms", INT32, "0+"),
    Array("responses", "0+", fields=_ALTER_CONFIGS_RESOURCE_RESPONSE),
])

INCREMENTAL_ALTER_CONFIGS_REQUEST = Message(
    "IncrementalAlterConfigsRequest", api_key=44, versions="0-1", flexible="1+", fields=[
    Array("resources", "0+", fields=[
        Field("resource_type", INT8, "0+"),
        Field("resource_name", STRING, "0+"),
        Array("configs", "0+", fields=[
            Field("name", STRING, "0+"),
            Field("config_operation", INT8, "0+"),
            Field("value", STRING, "0+", nullable="0+"),
        ]),
    ]),
    Field("validate_only", BOOL, "0+"),
])

INCREMENTAL_ALTER_CONFIGS_RESPONSE = Message(
    "IncrementalAlterConfigsResponse", api_key=44, versions="0-1", flexible="1+", fields=[
    Field("throttle_time_ms", INT32, "0+"),
    Array("responses", "0+", fields=_ALTER_CONFIGS_RESOURCE_RESPONSE),
])

DESCRIBE_CLUSTER_REQUEST = Message(
    "DescribeClusterRequest", api_key=60, versions="0-2", flexible="0+", fields=[
    Field("include_cluster_authorized_operations", BOOL, "0+"),
    Field("endpoint_type", INT8, "1+", default=1),
    Field("include_fenced_brokers", BOOL, "2+"),
])

DESCRIBE_CLUSTER_RESPONSE = Message(
    "DescribeClusterResponse", api_key=60, versions="0-2", flexible="0+", fields=[
    Field("throttle_time_ms", INT32, "0+"),
    Field("error_code", INT16, "0+"),
    Field("error_message", STRING, "0+", nullable="0+", default=None),
    Field("endpoint_type", INT8, "1+", default=1),
    Field("cluster_id", STRING, "0+"),
    Field("controller_id", INT32, "0+", default=-1),
    Array("brokers", "0+", fields=[
        Field("broker_id", INT32, "0+"),
        Field("host", STRING, "0+"),
        Field("port", INT32, "0+"),
        Field("rack", STRING, "0+", nullable="0+", default=None),
        Field("is_fenced", BOOL, "2+"),
    ]),
    Field("cluster_authorized_operations", INT32, "0+", default=-2147483648),
])

DELETE_RECORDS_REQUEST = Message(
    "DeleteRecordsRequest", api_key=21, versions="0-2", flexible="2+", fields=[
    Array("topics", "0+", fields=[
        Field("name", STRING, "0+"),
        Array("partitions", "0+", fields=[
            Field("partition_index", INT32, "0+"),
            Field("offset", INT64, "0+"),
        ]),
    ]),
    Field("timeout_ms", INT32, "0+"),
])

DELETE_RECORDS_RESPONSE = Message(
    "DeleteRecordsResponse", api_key=21, versions="0-2", flexible="2+", fields=[
    Field("throttle_time_ms", INT32, "0+"),
    Array("topics", "0+", fields=[
        Field("name", STRING, "0+"),
        Array("partitions", "0+", fields=[
            Field("partition_index", INT32, "0+"),
            Field("low_watermark", INT64, "0+"),
            Field("error_code", INT16, "0+"),
        ]),
    ]),
])

SASL_HANDSHAKE_REQUEST = Message(
    "SaslHandshakeRequest", api_key=17, versions="0-1", flexible="none", fields=[
    Field("mechanism", STRING, "0+"),
])

SASL_HANDSHAKE_RESPONSE = Message(
    "SaslHandshakeResponse", api_key=17, versions="0-1", flexible="none", fields=[
    Field("error_code", INT16, "0+"),
    Array("mechanisms", "0+", of=STRING),
])

SASL_AUTHENTICATE_REQUEST = Message(
    "SaslAuthenticateRequest", api_key=36, versions="0-2", flexible="2+", fields=[
    Field("auth_bytes", BYTES, "0+"),
])

SASL_AUTHENTICATE_RESPONSE = Message(
    "SaslAuthenticateResponse", api_key=36, versions="0-2", flexible="2+", fields=[
    Field("error_code", INT16, "0+"),
    Field("error_message", STRING, "0+", nullable="0+", default=None),
    Field("auth_bytes", BYTES, "0+"),
    Field("session_lifetime_ms", INT64, "1+"),
])

DESCRIBE_USER_SCRAM_CREDENTIALS_REQUEST = Message(
    "DescribeUserScramCredentialsRequest", api_key=50, versions="0", flexible="0+", fields=[
    Array("users", "0+", nullable="0+", default=None, fields=[
        Field("name", STRING, "0+"),
    ]),
])

DESCRIBE_USER_SCRAM_CREDENTIALS_RESPONSE = Message(
    "DescribeUserScramCredentialsResponse", api_key=50, versions="0", flexible="0+", fields=[
    Field("throttle_time_ms", INT32, "0+"),
    Field("error_code", INT16, "0+"),
    Field("error_message", STRING, "0+", nullable="0+", default=None),
    Array("results", "0+", fields=[
        Field("user", STRING, "0+"),
        Field("error_code", INT16, "0+"),
        Field("error_message", STRING, "0+", nullable="0+", default=None),
        Array("credential_infos", "0+", fields=[
            Field("mechanism", INT8, "0+"),
            Field("iterations", INT32, "0+"),
        ]),
    ]),
])

ALTER_USER_SCRAM_CREDENTIALS_REQUEST = Message(
    "AlterUserScramCredentialsRequest", api_key=51, versions="0", flexible="0+", fields=[
    Array("deletions", "0+", fields=[
        Field("name", STRING, "0+"),
        Field("mechanism", INT8, "0+"),
    ]),
    Array("upsertions", "0+", fields=[
        Field("name", STRING, "0+"),
        Field("mechanism", INT8, "0+"),
        Field("iterations", INT32, "0+"),
        Field("salt", BYTES, "0+"),
        Field("salted_password", BYTES, "0+"),
    ]),
])

ALTER_USER_SCRAM_CREDENTIALS_RESPONSE = Message(
    "AlterUserScramCredentialsResponse", api_key=51, versions="0", flexible="0+", fields=[
    Field("throttle_time_ms", INT32, "0+"),
    Array("results", "0+", fields=[
        Field("user", STRING, "0+"),
        Field("error_code", INT16, "0+"),
        Field("error_message", STRING, "0+", nullable="0+", default=None),
    ]),
])

_ACL_FILTER = [
    Field("resource_type_filter", INT8, "0+"),
    Field("resource_name_filter", STRING, "0+", nullable="0+", default=None),
    Field("pattern_type_filter", INT8, "1+", default=3),
    Field("principal_filter", STRING, "0+", nullable="0+", default=None),
    Field("host_filter", STRING, "0+", nullable="0+", default=None),
    Field("operation", INT8, "0+"),
    Field("permission_type", INT8, "0+"),
]

DESCRIBE_ACLS_REQUEST = Message(
    "DescribeAclsRequest", api_key=29, versions="1-3", flexible="2+", fields=_ACL_FILTER)

DESCRIBE_ACLS_RESPONSE = Message(
    "DescribeAclsResponse", api_key=29, versions="1-3", flexible="2+", fields=[
    Field("throttle_time_ms", INT32, "0+"),
    Field("error_code", INT16, "0+"),
    Field("error_message", STRING, "0+", nullable="0+", default=None),
    Array("resources", "0+", fields=[
        Field("resource_type", INT8, "0+"),
        Field("resource_name", STRING, "0+"),
        Field("pattern_type", INT8, "1+", default=3),
        Array("acls", "0+", fields=[
            Field("principal", STRING, "0+"),
            Field("host", STRING, "0+"),
            Field("operation", INT8, "0+"),
            Field("permission_type", INT8, "0+"),
        ]),
    ]),
])

CREATE_ACLS_REQUEST = Message(
    "CreateAclsRequest", api_key=30, versions="1-3", flexible="2+", fields=[
    Array("creations", "0+", fields=[
        Field("resource_type", INT8, "0+"),
        Field("resource_name", STRING, "0+"),
        Field("resource_pattern_type", INT8, "1+", default=3),
        Field("principal", STRING, "0+"),
        Field("host", STRING, "0+"),
        Field("operation", INT8, "0+"),
        Field("permission_type", INT8, "0+"),
    ]),
])

CREATE_ACLS_RESPONSE = Message(
    "CreateAclsResponse", api_key=30, versions="1-3", flexible="2+", fields=[
    Field("throttle_time_ms", INT32, "0+"),
    Array("results", "0+", fields=[
        Field("error_code", INT16, "0+"),
        Field("error_message", STRING, "0+", nullable="0+", default=None),
    ]),
])

DELETE_ACLS_REQUEST = Message(
    "DeleteAclsRequest", api_key=31, versions="1-3", flexible="2+", fields=[
    Array("filters", "0+", fields=_ACL_FILTER),
])

DELETE_ACLS_RESPONSE = Message(
    "DeleteAclsResponse", api_key=31, versions="1-3", flexible="2+", fields=[
    Field("throttle_time_ms", INT32, "0+"),
    Array("filter_results", "0+", fields=[
        Field("error_code", INT16, "0+"),
        Field("error_message", STRING, "0+", nullable="0+", default=None),
        Array("matching_acls", "0+", fields=[
            Field("error_code", INT16, "0+"),
            Field("error_message", STRING, "0+", nullable="0+", default=None),
            Field("resource_type", INT8, "0+"),
            Field("resource_name", STRING, "0+"),
            Field("pattern_type", INT8, "1+", default=3),
            Field("principal", STRING, "0+"),
            Field("host", STRING, "0+"),
            Field("operation", INT8, "0+"),
            Field("permission_type", INT8, "0+"),
        ]),
    ]),
])

CONSUMER_PROTOCOL_SUBSCRIPTION = Message(
    "ConsumerProtocolSubscription", versions="0-3", flexible="none", fields=[
    Array("topics", "0+", of=STRING),
    Field("user_data", BYTES, "0+", nullable="0+", default=None),
    Array("owned_partitions", "1+", fields=[
        Field("topic", STRING, "1+"),
        Array("partitions", "1+", of=INT32),
    ]),
    Field("generation_id", INT32, "2+", default=-1),
    Field("rack_id", STRING, "3+", nullable="3+", default=None),
])

CONSUMER_PROTOCOL_ASSIGNMENT = Message(
    "ConsumerProtocolAssignment", versions="0-3", flexible="none", fields=[
    Array("assigned_partitions", "0+", fields=[
        Field("topic", STRING, "0+"),
        Array("partitions", "0+", of=INT32),
    ]),
    Field("user_data", BYTES, "0+", nullable="0+", default=None),
])

def _by_api_key(*messages: Message) -> dict[int, Message]:
    """Index request or response schemas by their API key."""
    table: dict[int, Message] = {}
    for message in messages:
        assert message.api_key is not None, message
        table[message.api_key] = message
    return table


#: Every request schema, by API key.
REQUESTS: dict[int, Message] = _by_api_key(
    API_VERSIONS_REQUEST, METADATA_REQUEST, PRODUCE_REQUEST, FETCH_REQUEST,
    LIST_OFFSETS_REQUEST, OFFSET_FOR_LEADER_EPOCH_REQUEST, INIT_PRODUCER_ID_REQUEST,
    FIND_COORDINATOR_REQUEST, JOIN_GROUP_REQUEST, SYNC_GROUP_REQUEST, HEARTBEAT_REQUEST,
    LEAVE_GROUP_REQUEST, OFFSET_COMMIT_REQUEST, OFFSET_FETCH_REQUEST,
    DESCRIBE_GROUPS_REQUEST, LIST_GROUPS_REQUEST, DELETE_GROUPS_REQUEST,
    OFFSET_DELETE_REQUEST, CREATE_TOPICS_REQUEST, DELETE_TOPICS_REQUEST,
    CREATE_PARTITIONS_REQUEST, DESCRIBE_CONFIGS_REQUEST, ALTER_CONFIGS_REQUEST,
    INCREMENTAL_ALTER_CONFIGS_REQUEST, DESCRIBE_CLUSTER_REQUEST, DELETE_RECORDS_REQUEST,
    SASL_HANDSHAKE_REQUEST, SASL_AUTHENTICATE_REQUEST,
    DESCRIBE_USER_SCRAM_CREDENTIALS_REQUEST, ALTER_USER_SCRAM_CREDENTIALS_REQUEST,
    DESCRIBE_ACLS_REQUEST, CREATE_ACLS_REQUEST, DELETE_ACLS_REQUEST,
)

#: Every response schema, by API key.
RESPONSES: dict[int, Message] = _by_api_key(
    API_VERSIONS_RESPONSE, METADATA_RESPONSE, PRODUCE_RESPONSE, FETCH_RESPONSE,
    LIST_OFFSETS_RESPONSE, OFFSET_FOR_LEADER_EPOCH_RESPONSE, INIT_PRODUCER_ID_RESPONSE,
    FIND_COORDINATOR_RESPONSE, JOIN_GROUP_RESPONSE, SYNC_GROUP_RESPONSE,
    HEARTBEAT_RESPONSE, LEAVE_GROUP_RESPONSE, OFFSET_COMMIT_RESPONSE,
    OFFSET_FETCH_RESPONSE, DESCRIBE_GROUPS_RESPONSE, LIST_GROUPS_RESPONSE,
    DELETE_GROUPS_RESPONSE, OFFSET_DELETE_RESPONSE, CREATE_TOPICS_RESPONSE,
    DELETE_TOPICS_RESPONSE, CREATE_PARTITIONS_RESPONSE, DESCRIBE_CONFIGS_RESPONSE,
    ALTER_CONFIGS_RESPONSE, INCREMENTAL_ALTER_CONFIGS_RESPONSE, DESCRIBE_CLUSTER_RESPONSE,
    DELETE_RECORDS_RESPONSE,
    SASL_HANDSHAKE_RESPONSE, SASL_AUTHENTICATE_RESPONSE,
    DESCRIBE_USER_SCRAM_CREDENTIALS_RESPONSE, ALTER_USER_SCRAM_CREDENTIALS_RESPONSE,
    DESCRIBE_ACLS_RESPONSE, CREATE_ACLS_RESPONSE, DELETE_ACLS_RESPONSE,
)

#: Data messages embedded in other messages' bytes fields, by name.
DATA: dict[str, Message] = {
    m.name: m for m in (CONSUMER_PROTOCOL_SUBSCRIPTION, CONSUMER_PROTOCOL_ASSIGNMENT)
}
