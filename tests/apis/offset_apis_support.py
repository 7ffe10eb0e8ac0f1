# -*- test-case-name: tests.observability -*-
"""Committing offsets for a group through the OffsetCommit responder, for tests that need lag."""

from __future__ import annotations

from tests.apis.support import call
from twisted_kafka.broker import Broker

OFFSET_COMMIT = 8


def commit_offsets(broker: Broker, group_id: str, offsets: dict[tuple[str, int], int]) -> None:
    """Commit C{offsets} ({(topic, partition): offset}) for C{group_id} as a simple consumer does."""
    topics: dict[str, list[dict]] = {}
    for (topic, partition), offset in offsets.items():
        topics.setdefault(topic, []).append({
            "partition_index": partition, "committed_offset": offset,
            "committed_leader_epoch": -1, "committed_metadata": ""})
    response = call(broker, OFFSET_COMMIT, 8, {
        "group_id": group_id, "generation_id_or_member_epoch": -1, "member_id": "",
        "group_instance_id": None, "retention_time_ms": -1,
        "topics": [{"name": name, "partitions": parts} for name, parts in topics.items()]})
    body = response if isinstance(response, dict) else response.response
    codes = [p["error_code"] for t in body["topics"] for p in t["partitions"]]
    assert codes == [0] * len(codes), codes
