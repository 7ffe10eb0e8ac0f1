# -*- test-case-name: tests.testing.test_helpers -*-
"""What tests against a broker keep needing: topics, reading them back, waiting.

Every helper takes the bootstrap address (C{"127.0.0.1:9092"}, or
C{broker.bootstrap}) and blocks; from a trial test against an
L{InProcessBroker}, call them in a thread (C{deferToThread}).

  - L{create_topic}, L{delete_topics}, L{unique_topic_name};
  - L{produce}: append records to a partition, acknowledged by the broker;
  - L{wait_for_topic}: until the topic exists with a leader for every partition;
  - L{read_topic}: every record of a topic, up to its end when called;
  - L{wait_for_committed_offset}: until a group has committed an offset.

A wait that runs out raises L{TimeoutError} saying what it saw last.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Iterable, Mapping, NamedTuple, Sequence

from twisted_kafka.records.batch import (
    BATCH_LENGTH_OFFSET, LOG_OVERHEAD, split_batches)
from twisted_kafka.records.record import Header, build_batch, iter_records
from twisted_kafka.testing.client import (
    CREATE_TOPICS,
    DELETE_TOPICS,
    FETCH,
    LIST_OFFSETS,
    OFFSET_FETCH,
    PRODUCE,
    BlockingClient,
    KafkaRequestError,
    check,
)

_UNKNOWN_TOPIC = 3
_TOPIC_ALREADY_EXISTS = 36
_MAX_DECOMPRESSED = 1 << 30
_NAME_JUNK = re.compile(r"[^a-zA-Z0-9._-]+")


class TopicRecord(NamedTuple):
    """One record of a topic, as L{read_topic} returns it."""

    topic: str
    partition: int
    offset: int
    timestamp: int
    key: bytes | None
    value: bytes | None
    headers: list[Header]


def unique_topic_name(prefix: str = "test") -> str:
    """Return a topic name no other test uses: C{prefix} (cleaned) and 8 hex digits."""
    cleaned = _NAME_JUNK.sub("-", prefix).strip("-.")[:200] or "test"
    return f"{cleaned}-{uuid.uuid4().hex[:8]}"


def create_topic(bootstrap: str, name: str, partitions: int = 1,
                 config: Mapping[str, str] | None = None, *, exist_ok: bool = False,
                 timeout: float = 10.0) -> None:
    """Create topic C{name} and wait until it can be used.

    @param config: topic configs (C{{"retention.ms": "1000"}}).
    @param exist_ok: do not fail when it exists already.
    @raise KafkaRequestError: the broker refused (e.g. TOPIC_ALREADY_EXISTS).
    """
    with BlockingClient(bootstrap, timeout) as client:
        response = client.request(CREATE_TOPICS, {
            "topics": [{"name": name, "num_partitions": partitions, "replication_factor": -1,
                        "assignments": [],
                        "configs": [{"name": k, "value": str(v)}
                                    for k, v in (config or {}).items()]}],
            "timeout_ms": int(timeout * 1000), "validate_only": False})
        result = response["topics"][0]
        if not (exist_ok and result["error_code"] == _TOPIC_ALREADY_EXISTS):
            check(result["error_code"], f"CreateTopics {name} ({result['error_message']})")
    wait_for_topic(bootstrap, name, timeout=timeout)


def delete_topics(bootstrap: str, names: Iterable[str], timeout: float = 10.0) -> None:
    """Delete the topics C{names}; those that do not exist are not an error."""
    names = list(names)
    if not names:
        return
    with BlockingClient(bootstrap, timeout) as client:
        response = client.request(
            DELETE_TOPICS, {"topic_names": names, "timeout_ms": int(timeout * 1000)})
    for result in response["responses"]:
        if result["error_code"] != _UNKNOWN_TOPIC:
            check(result["error_code"], f"DeleteTopics {result['name']}")


#: What L{produce} takes per record: a value, or a C{(key, value)} pair.
ProducedRecord = bytes | None | tuple[bytes | None, bytes | None]


def produce(bootstrap: str, topic: str, records: Sequence[ProducedRecord], partition: int = 0,
            headers: Sequence[Header] = (), timeout: float = 10.0) -> int:
    """Append C{records} to C{topic}-C{partition} as one batch, with C{acks=all}.

    The topic must exist (see L{create_topic}); every record gets the same
    C{headers} and the current time.

    @return: the offset of the first record.
    @raise KafkaRequestError: the broker refused the batch.
    """
    now = int(time.time() * 1000)
    fields = []
    for record in records:
        key, value = record if isinstance(record, tuple) else (None, record)
        fields.append((key, value, list(headers), now))
    if not fields:
        raise ValueError("produce needs at least one record")
    batch = build_batch(fields)
    with BlockingClient(bootstrap, timeout) as client:
        leader = _partition_leaders(client, topic).get(partition)
        if leader is None:
            raise KafkaRequestError(_UNKNOWN_TOPIC, f"Produce {topic}-{partition}")
        response = client.request(PRODUCE, {
            "transactional_id": None, "acks": -1, "timeout_ms": int(timeout * 1000),
            "topic_data": [{"name": topic, "partition_data": [
                {"index": partition, "records": batch}]}]}, node=leader)
    answer = response["responses"][0]["partition_responses"][0]
    check(answer["error_code"], f"Produce {topic}-{partition} ({answer['error_message']})")
    return int(answer["base_offset"])


def wait_for_topic(bootstrap: str, name: str, timeout: float = 10.0,
                   partitions: int | None = None) -> int:
    """Wait until topic C{name} exists with a leader for each partition; return their count.

    It is never auto-created by asking.

    @param partitions: also wait until it has at least this many partitions.
    """
    seen = "no answer"
    deadline = time.monotonic() + timeout
    with BlockingClient(bootstrap, timeout) as client:
        while True:
            try:
                topic = client.metadata([name])["topics"][0]
                found = topic["partitions"]
                if topic["error_code"]:
                    seen = str(KafkaRequestError(topic["error_code"], "Metadata"))
                elif any(p["error_code"] or p["leader_id"] < 0 for p in found):
                    seen = "a partition without a leader"
                elif partitions is not None and len(found) < partitions:
                    seen = f"{len(found)} partitions"
                else:
                    return len(found)
            except OSError as e:
                seen = str(e)
            if time.monotonic() > deadline:
                raise TimeoutError(f"topic {name} not ready after {timeout} s: {seen}")
            time.sleep(0.02)


def _partition_leaders(client: BlockingClient, topic: str) -> dict[int, int]:
    metadata = client.metadata([topic])["topics"][0]
    check(metadata["error_code"], f"Metadata {topic}")
    return {p["partition_index"]: p["leader_id"] for p in metadata["partitions"]}


def _offsets(client: BlockingClient, topic: str, leaders: dict[int, int],
             timestamp: int) -> dict[int, int]:
    """Return each partition's earliest (-2) or latest (-1) offset."""
    offsets = {}
    for partition, leader in leaders.items():
        response = client.request(LIST_OFFSETS, {
            "replica_id": -1, "isolation_level": 0,
            "topics": [{"name": topic, "partitions": [{
                "partition_index": partition, "current_leader_epoch": -1,
                "timestamp": timestamp}]}]}, node=leader)
        answer = response["topics"][0]["partitions"][0]
        check(answer["error_code"], f"ListOffsets {topic}-{partition}")
        offsets[partition] = answer["offset"]
    return offsets


def _whole_batches(records: bytes | None) -> bytes:
    """Return C{records} without a partial batch at its end (a fetch may cut one)."""
    if not records:
        return b""
    pos = 0
    while pos + LOG_OVERHEAD <= len(records):
        length = int.from_bytes(records[pos + BATCH_LENGTH_OFFSET:pos + LOG_OVERHEAD], "big")
        if pos + LOG_OVERHEAD + length > len(records):
            break
        pos += LOG_OVERHEAD + length
    return bytes(records[:pos])


def read_topic(bootstrap: str, topic: str, timeout: float = 10.0) -> list[TopicRecord]:
    """Return every record of C{topic}, partition by partition, in offset order.

    Reads from each partition's start up to its end at the time of the call
    (records produced meanwhile may be missing); skips control records.
    """
    deadline = time.monotonic() + timeout
    found: list[TopicRecord] = []
    with BlockingClient(bootstrap, timeout) as client:
        leaders = _partition_leaders(client, topic)
        starts = _offsets(client, topic, leaders, -2)
        ends = _offsets(client, topic, leaders, -1)
        for partition in sorted(leaders):
            offset, end = starts[partition], ends[partition]
            while offset < end:
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"{topic}-{partition} read up to {offset} of {end} in {timeout} s")
                data = _fetch(client, topic, partition, offset, leaders[partition])
                records, offset = records_in(data, topic, partition, offset, end)
                found.extend(records)
    return found


def records_in(data: bytes, topic: str, partition: int, offset: int,
               end: int) -> tuple[list[TopicRecord], int]:
    """Return the records of C{data} from C{offset} to before C{end}, and the next offset.

    C{data} is whole batches (a Fetch answer's); control batches (a
    transaction's markers) are skipped, as consumers do.
    """
    found = []
    for start, stop, header in split_batches(data):
        if not header.is_control:
            for record in iter_records(data[start:stop], header, _MAX_DECOMPRESSED):
                if offset <= record.offset < end:
                    found.append(TopicRecord(topic, partition, *record))
        offset = max(offset, header.next_offset)
    return found, offset


def _fetch(client: BlockingClient, topic: str, partition: int, offset: int,
           leader: int) -> bytes:
    """Return the whole batches one fetch at C{offset} answers."""
    response = client.request(FETCH, {
        "replica_id": -1, "max_wait_ms": 500, "min_bytes": 1, "max_bytes": 16 << 20,
        "isolation_level": 0, "session_id": 0, "session_epoch": -1,
        "topics": [{"topic": topic, "partitions": [{
            "partition": partition, "current_leader_epoch": -1, "fetch_offset": offset,
            "log_start_offset": -1, "partition_max_bytes": 8 << 20}]}],
        "forgotten_topics_data": [], "rack_id": ""}, node=leader)
    check(response["error_code"], f"Fetch {topic}-{partition}")
    answer = response["responses"][0]["partitions"][0]
    check(answer["error_code"], f"Fetch {topic}-{partition} at {offset}")
    return _whole_batches(answer["records"])


def wait_for_committed_offset(bootstrap: str, group: str, topic: str, partition: int = 0,
                              at_least: int = 0, timeout: float = 10.0) -> int:
    """Wait until C{group} has committed an offset of at least C{at_least}; return it.

    The offset committed is the next one the group will read: a consumer
    that has processed offsets 0-9 commits 10.
    """
    seen = "no offset committed"
    deadline = time.monotonic() + timeout
    with BlockingClient(bootstrap, timeout) as client:
        while True:
            try:
                node = client.coordinator(group)
                response = client.request(OFFSET_FETCH, {
                    "group_id": group,
                    "topics": [{"name": topic, "partition_indexes": [partition]}]}, node=node)
                check(response["error_code"], f"OffsetFetch {group}")
                answer = response["topics"][0]["partitions"][0]
                check(answer["error_code"], f"OffsetFetch {group} {topic}-{partition}")
                committed = int(answer["committed_offset"])
                if committed >= 0:
                    seen = f"offset {committed} committed"
                    if committed >= at_least:
                        return committed
            except (OSError, KafkaRequestError) as e:
                seen = str(e)
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"group {group} on {topic}-{partition}: no offset >= {at_least} "
                    f"after {timeout} s ({seen})")
            time.sleep(0.02)
