# -*- test-case-name: tests.apis.test_offset_apis -*-
"""Committed offsets: OffsetCommit, OffsetFetch and OffsetDelete.

- OffsetCommit (api key 8), v2-9: stores offsets with their metadata string
  and leader epoch (v6+) in the vhost's offsets log; with fsync on, the
  response waits until the store's group commit has made them durable (an
  L{AfterSync} reply).  v2-4's retention time is honoured per offset;
  generation, member id and group instance id (v7+) are checked as Kafka
  checks them (see L{twisted_kafka.groups.committed}); v9 answers a
  generation for a group that does not exist with GROUP_ID_NOT_FOUND.
  v10 (topic ids, the new consumer protocol only) is not served.
- OffsetFetch (9), v1-9: one group (v1-7; v2+ may ask for every topic with a
  null list) or several (v8+).  A partition without a committed offset
  answers offset -1, leader epoch -1 and empty metadata.  There are no
  transactions, so nothing is ever pending: C{require_stable} (v7+) never
  yields UNSTABLE_OFFSET_COMMIT.  v9's member id and epoch belong to the new
  consumer protocol and are ignored for classic groups, as Kafka does.
- OffsetDelete (47), v0: deletes offsets of an empty group, or of topics a
  consumer group does not subscribe to (GROUP_SUBSCRIBED_TO_TOPIC otherwise).

Authorization as Kafka's: OffsetCommit needs Group/Read and Topic/Read,
OffsetFetch Group/Describe and Topic/Describe (a fetch of every topic leaves
out the topics not allowed), OffsetDelete Group/Delete and Topic/Read; a
refused topic's partitions answer TOPIC_AUTHORIZATION_FAILED and are not
touched.
"""

from __future__ import annotations

from typing import Sequence

from twisted_kafka.apis.group_apis import group_refused, vhost_groups
from twisted_kafka.apis.support.topics import topic_need
from twisted_kafka.protocol.messages import Fields
from twisted_kafka.server.authorizer import AclOperation, Need, ResourceType
from twisted_kafka.errors import ErrorCode, KafkaError
from twisted_kafka.groups.committed import OffsetToCommit
from twisted_kafka.groups.group import CommittedOffset
from twisted_kafka.server.context import RequestContext
from twisted_kafka.server.registry import ResponderRegistry
from twisted_kafka.server.reply import AfterSync
from twisted_kafka.groups.coordinator import VhostGroups

OFFSET_COMMIT, OFFSET_FETCH, OFFSET_DELETE = 8, 9, 47


# -- OffsetCommit --------------------------------------------------------------

def respond_commit(request: Fields, context: RequestContext) -> Fields | AfterSync:
    """Answer an OffsetCommit request (after fsync when the store syncs)."""
    version = context.api_version
    topics = request["topics"]
    entries = [OffsetToCommit(t["name"], p["partition_index"], p["committed_offset"],
                              p.get("committed_leader_epoch", -1), p.get("committed_metadata"))
               for t in topics for p in t["partitions"]]
    access = context.access
    refused = {t["name"] for t in topics if access.refused(ResourceType.TOPIC, t["name"])}
    allowed = [e for e in entries if e.topic not in refused] if refused else entries
    try:
        groups = vhost_groups(context, request["group_id"])
    except KafkaError as e:
        errors = [e.code] * len(entries)
        written = False
    else:
        outcome = groups.offsets.commit(
            request["group_id"],
            request["generation_id_or_member_epoch"],
            request["member_id"],
            request.get("group_instance_id") if version >= 7 else None,
            allowed,
            retention_time_ms=request.get("retention_time_ms", -1) if version <= 4 else -1,
            group_not_found=(ErrorCode.GROUP_ID_NOT_FOUND if version >= 9
                             else ErrorCode.ILLEGAL_GENERATION),
        )
        errors, written = outcome.errors, outcome.written
        if refused:
            committed = iter(errors)
            errors = [ErrorCode.TOPIC_AUTHORIZATION_FAILED if e.topic in refused
                      else next(committed) for e in entries]
    codes = iter(errors)
    response = {"throttle_time_ms": 0, "topics": [
        {"name": t["name"], "partitions": [
            {"partition_index": p["partition_index"], "error_code": next(codes)}
            for p in t["partitions"]]}
        for t in topics]}
    if written and context.settings.durable_acks:
        return AfterSync(response)
    return response


# -- OffsetFetch ---------------------------------------------------------------

def _partition(index: int, committed: CommittedOffset | None,
               error: ErrorCode = ErrorCode.NONE) -> Fields:
    if committed is None:
        return {"partition_index": index, "committed_offset": -1,
                "committed_leader_epoch": -1, "metadata": "", "error_code": error}
    return {"partition_index": index, "committed_offset": committed.offset,
            "committed_leader_epoch": committed.leader_epoch,
            "metadata": committed.metadata, "error_code": error}


def _fetch_group(groups: VhostGroups, group_id: str, topics: Sequence[Fields] | None,
                 context: RequestContext) -> list[Fields]:
    """Return the response topics of one group's fetch (Topic/Describe checked)."""
    access = context.access
    if topics is None:
        return [_fetched(name, partitions)
                for name, partitions in groups.offsets.fetch(group_id, None)
                if not access.refused(ResourceType.TOPIC, name)]
    refused = {t["name"] for t in topics if access.refused(ResourceType.TOPIC, t["name"])}
    wanted = [(t["name"], t["partition_indexes"]) for t in topics if t["name"] not in refused]
    answered = iter(groups.offsets.fetch(group_id, wanted))
    return [_failed_topics([t], ErrorCode.TOPIC_AUTHORIZATION_FAILED)[0]
            if t["name"] in refused else _fetched(*next(answered)) for t in topics]


def _fetched(name: str, partitions: list[tuple[int, CommittedOffset | None]]) -> Fields:
    return {"name": name, "partitions": [_partition(i, c) for i, c in partitions]}


def _failed_topics(topics: Sequence[Fields] | None, error: ErrorCode) -> list[Fields]:
    return [{"name": t["name"], "partitions": [_partition(i, None, error)
                                               for i in t["partition_indexes"]]}
            for t in topics or ()]


def respond_fetch(request: Fields, context: RequestContext) -> Fields:
    """Answer an OffsetFetch request."""
    version = context.api_version
    try:
        groups = vhost_groups(context, request["group_id"] if version < 8 else None)
        error = ErrorCode.NONE
    except KafkaError as e:
        groups, error = None, e.code
    if version >= 8:
        out = []
        for g in request["groups"]:
            if groups is None or group_refused(context, g["group_id"]):
                out.append({"group_id": g["group_id"], "topics": [], "error_code":
                            error if groups is None else ErrorCode.GROUP_AUTHORIZATION_FAILED})
            else:
                out.append({"group_id": g["group_id"], "error_code": ErrorCode.NONE,
                            "topics": _fetch_group(groups, g["group_id"], g["topics"], context)})
        return {"throttle_time_ms": 0, "groups": out}
    topics = request["topics"]
    if groups is None:
        # v1 has no request-level error code: report it on every partition.
        return {"throttle_time_ms": 0, "error_code": error,
                "topics": _failed_topics(topics, error) if version < 2 else []}
    return {"throttle_time_ms": 0, "error_code": ErrorCode.NONE,
            "topics": _fetch_group(groups, request["group_id"], topics, context)}


# -- OffsetDelete --------------------------------------------------------------

def respond_delete(request: Fields, context: RequestContext) -> Fields | AfterSync:
    """Answer an OffsetDelete request."""
    group_id = request["group_id"]
    topics = request["topics"]
    if not group_id:
        return {"error_code": ErrorCode.INVALID_GROUP_ID, "throttle_time_ms": 0, "topics": []}
    try:
        groups = vhost_groups(context, group_id)
    except KafkaError as e:
        return {"error_code": e.code, "throttle_time_ms": 0, "topics": []}
    refused = {t["name"] for t in topics if context.access.refused(ResourceType.TOPIC, t["name"])}
    error, deleted, written = groups.offsets.delete(
        group_id, [(t["name"], [p["partition_index"] for p in t["partitions"]])
                   for t in topics if t["name"] not in refused])
    if error != ErrorCode.NONE:
        return {"error_code": error, "throttle_time_ms": 0, "topics": []}
    answers = iter(deleted)
    results = [[ErrorCode.TOPIC_AUTHORIZATION_FAILED] * len(t["partitions"])
               if t["name"] in refused else next(answers) for t in topics]
    response = {"error_code": ErrorCode.NONE, "throttle_time_ms": 0, "topics": [
        {"name": t["name"], "partitions": [
            {"partition_index": p["partition_index"], "error_code": code}
            for p, code in zip(t["partitions"], codes)]}
        for t, codes in zip(topics, results)]}
    if written and context.settings.durable_acks:
        return AfterSync(response)
    return response


def register(registry: ResponderRegistry) -> None:
    """Serve the committed-offset APIs."""
    registry.register(OFFSET_COMMIT, "OffsetCommit", 2, 9, respond_commit,
                      (Need(ResourceType.GROUP, AclOperation.READ, _group_id),
                       topic_need(AclOperation.READ)))
    registry.register(OFFSET_FETCH, "OffsetFetch", 1, 9, respond_fetch,
                      (Need(ResourceType.GROUP, AclOperation.DESCRIBE, _fetched_groups),
                       Need(ResourceType.TOPIC, AclOperation.DESCRIBE)))
    registry.register(OFFSET_DELETE, "OffsetDelete", 0, 0, respond_delete,
                      (Need(ResourceType.GROUP, AclOperation.DELETE, _group_id),
                       topic_need(AclOperation.READ)))


def _group_id(request: Fields) -> tuple[str, ...]:
    return (request["group_id"],)


def _fetched_groups(request: Fields) -> list[str]:
    if "groups" in request:
        return [g["group_id"] for g in request["groups"]]
    return [request["group_id"]]
