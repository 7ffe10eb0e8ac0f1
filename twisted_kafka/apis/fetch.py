# -*- test-case-name: tests.apis.test_fetch -*-
"""Fetch (api key 1), versions 4-17: read stored batches back, with long-poll.

Each partition's answer is whole stored batches starting with the batch that
contains the fetch offset (clients skip the records before it).  Partitions
are filled in request order within C{max_bytes}, each within its
C{partition_max_bytes}; the first partition that has data returns at least one
whole batch even when it is larger than both limits, so a consumer can always
make progress.  No more than the limits is ever read from disk.

When fewer than C{min_bytes} are available the connection holds the request
(a L{LongPoll}): every append to a requested partition re-checks, reading
again only the partitions whose log moved, and the response goes out at
C{max_wait_ms} at the latest (that final answer reads every partition).  Errors answer at once, and
so does a response that waiting cannot grow: a partition whose records stop
before its high watermark (the read reached the end of an older segment, as
Kafka's DelayedFetch answers at once for a fetch offset on an older segment,
or the limits held the rest back).

Fetch sessions (KIP-227) are declined the way Kafka declines them when its
session cache is full.  As in Kafka, session epoch 0 or -1 makes a full
fetch whatever the session id (Kafka would close that session); it is
answered with session id 0, which tells clients no session was created and
to keep sending full fetches.  Any other epoch is an incremental fetch of a
session we do not have: FETCH_SESSION_ID_NOT_FOUND, after which clients fall
back to full fetches.
There are no transactions, so both isolation levels read up to the high
watermark (the last stable offset equals it).
"""

from __future__ import annotations

import struct

from twisted_kafka.apis.support.topics import (
    LEADER_EPOCH, NULL_TOPIC_ID, RequestedTopic, check_leader_epoch, topic_need)
from twisted_kafka.errors import ErrorCode, KafkaError
from twisted_kafka.protocol.file_records import FileRecords
from twisted_kafka.protocol.messages import Fields
from twisted_kafka.records.batch import HEADER_SIZE, LAST_OFFSET_DELTA_OFFSET, LOG_OVERHEAD
from twisted_kafka.server.authorizer import AclOperation
from twisted_kafka.server.context import RequestContext
from twisted_kafka.server.registry import ResponderRegistry
from twisted_kafka.server.reply import LongPoll, Reply
from twisted_kafka.store.interfaces import IPartitionLog

API_KEY = 1
MIN_VERSION = 4
MAX_VERSION = 17
READ_COMMITTED = 1
#: Session epochs of a full fetch: INITIAL_EPOCH (open) and FINAL_EPOCH (sessionless).
FULL_FETCH_EPOCHS = (0, -1)

_BASE_AND_LENGTH = struct.Struct(">qi")
_INT32 = struct.Struct(">i")


def next_offset_after(records: bytes | FileRecords) -> int:
    """Return the offset following the last whole batch in C{records} (-1 if none)."""
    if isinstance(records, FileRecords):
        # only when below min_bytes or a wake-up's limits moved: rare
        records = records.read()
    pos = 0
    size = len(records)
    after = -1
    while pos + HEADER_SIZE <= size:
        base, length = _BASE_AND_LENGTH.unpack_from(records, pos)
        after = base + _INT32.unpack_from(records, pos + LAST_OFFSET_DELTA_OFFSET)[0] + 1
        pos += LOG_OVERHEAD + length
    return after


class _Wanted:
    """One requested partition: where it is and what the client asked for.

    C{read_at} is what the last read of it depended on (high watermark, log
    start offset, whether it was the first with data), C{limit} its byte
    limit and C{data} what it returned: a long poll's wake-up reads a
    partition again only if one of those moved (a new limit matters only if
    it would cut the data, or the data was cut before the high watermark).
    """

    __slots__ = ("out", "partition", "offset", "max_bytes", "read_at", "limit", "data")

    def __init__(self, out: Fields, partition: IPartitionLog, offset: int, max_bytes: int) -> None:
        self.out = out
        self.partition = partition
        self.offset = offset
        self.max_bytes = max_bytes
        self.read_at: tuple[int, int, bool] | None = None
        self.limit = 0
        self.data: bytes | FileRecords = b""

    def unchanged(self, read_at: tuple[int, int, bool], limit: int) -> bool:
        """Return whether reading with C{read_at} and C{limit} would return C{data} again."""
        if read_at != self.read_at:
            return False
        if limit == self.limit:
            return True
        data = self.data
        return limit >= len(data) and next_offset_after(data) == read_at[0]


def _partition_out(index: int, code: ErrorCode, read_committed: bool) -> Fields:
    return {
        "partition_index": index,
        "error_code": code,
        "high_watermark": -1,
        "last_stable_offset": -1,
        "log_start_offset": -1,
        "aborted_transactions": [] if read_committed else None,
        "preferred_read_replica": -1,
        "records": b"",
    }


class FetchAssembly:
    """The response to one Fetch request, (re)filled from the store on demand."""

    def __init__(self, request: Fields, context: RequestContext) -> None:
        self.max_bytes = request.get("max_bytes", 0x7FFFFFFF)
        self.read_committed = request.get("isolation_level", 0) == READ_COMMITTED
        self.wanted: list[_Wanted] = []
        self.partitions: list[IPartitionLog] = []
        self.has_error = False
        #: Some partition has data this response leaves out (limits).
        self.held_back = False
        self.topics: list[Fields] = []
        by_id = context.api_version >= 13
        for t in request["topics"]:
            name = None if by_id else t.get("topic")
            topic_id = t.get("topic_id", NULL_TOPIC_ID)
            outs: list[Fields] = []
            self.topics.append({"topic": name or "", "topic_id": topic_id, "partitions": outs})
            topic = RequestedTopic(context, name, topic_id)
            for p in t["partitions"]:
                index = p["partition"]
                out = _partition_out(index, ErrorCode.NONE, self.read_committed)
                outs.append(out)
                try:
                    partition = topic.partition(index)
                    check_leader_epoch(p.get("current_leader_epoch", -1))
                except KafkaError as e:
                    out["error_code"] = e.code
                    self.has_error = True
                    continue
                self.wanted.append(_Wanted(out, partition, p["fetch_offset"],
                                           p["partition_max_bytes"]))
                self.partitions.append(partition)

    def fill(self, reuse: bool = False) -> int:
        """Read every wanted partition from the store; return the bytes gathered.

        @param reuse: keep the bytes of a partition whose last read would
            read the same again (a long poll's wake-up: only the partitions
            that changed are read).
        """
        total = 0
        budget = self.max_bytes
        self.held_back = False
        for w in self.wanted:
            out = w.out
            partition = w.partition
            hw = partition.high_watermark
            log_start = partition.log_start_offset
            out["high_watermark"] = hw
            out["last_stable_offset"] = hw
            out["log_start_offset"] = log_start
            out["records"] = b""
            limit = min(w.max_bytes, budget - total)
            if w.offset == hw:
                continue
            if total and limit <= 0:
                self.held_back = True
                continue
            read_at = (hw, log_start, not total)
            if reuse and w.unchanged(read_at, limit):
                data = w.data
            else:
                try:
                    # Only the first partition with data may exceed the limits;
                    # for the others the store reads nothing that would not fit.
                    data = partition.read_file_records(w.offset, max(limit, 1),
                                                       min_one=not total)
                except KafkaError as e:
                    out["error_code"] = e.code
                    self.has_error = True
                    continue
                w.read_at = read_at
                w.limit = limit
                w.data = data
            if not data:
                # Nothing fitted the limits (the offset is below the high
                # watermark, so there was a batch to return).
                self.held_back = True
                continue
            out["records"] = data
            total += len(data)
        return total

    def complete(self) -> bool:
        """Return whether waiting cannot add to the response.

        True when an error is to be reported, or when some partition's data
        stops before its high watermark or was left out by the limits: the
        rest is in a later segment or beyond the limits, so Kafka answers at
        once (its DelayedFetch completes for a fetch offset on an older
        segment).  Only called when below C{min_bytes}, so the records walked
        here are few.
        """
        if self.has_error or self.held_back:
            return True
        for w in self.wanted:
            out = w.out
            records = out["records"]
            if records and next_offset_after(records) < out["high_watermark"]:
                return True
        return False

    def response(self) -> Fields:
        """Return the response body as it stands."""
        return {
            "throttle_time_ms": 0,
            "error_code": ErrorCode.NONE,
            "session_id": 0,
            "responses": self.topics,
        }


def _session_error(code: ErrorCode) -> Fields:
    return {"throttle_time_ms": 0, "error_code": code, "session_id": 0, "responses": []}


def respond(request: Fields, context: RequestContext) -> Reply:
    """Answer a Fetch request, now or after a long poll."""
    if context.api_version >= 7:
        epoch = request.get("session_epoch", -1)
        if epoch not in FULL_FETCH_EPOCHS:
            # An incremental fetch: we keep no sessions, so none is found.
            return _session_error(ErrorCode.FETCH_SESSION_ID_NOT_FOUND)
    assembly = FetchAssembly(request, context)
    total = assembly.fill()
    min_bytes = request.get("min_bytes", 0)
    max_wait = request.get("max_wait_ms", 0)
    if (total >= min_bytes or max_wait <= 0 or not assembly.partitions
            or assembly.complete()):
        return assembly.response()

    def retry(final: bool) -> Fields | None:
        # A wake-up re-reads only what changed; the final answer reads all
        # (a partition deleted meanwhile answers its error).
        gathered = assembly.fill(reuse=not final)
        if final or gathered >= min_bytes or assembly.complete():
            return assembly.response()
        return None

    return LongPoll(assembly.partitions, max_wait, retry)


def register(registry: ResponderRegistry) -> None:
    """Serve Fetch."""
    registry.register(API_KEY, "Fetch", MIN_VERSION, MAX_VERSION, respond,
                      (topic_need(AclOperation.READ, name="topic"),))


__all__ = ["respond", "register", "FetchAssembly", "LEADER_EPOCH"]
