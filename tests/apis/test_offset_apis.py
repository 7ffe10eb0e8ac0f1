# -*- test-case-name: tests.apis.test_offset_apis -*-
"""Tests for L{twisted_kafka.apis.offset_apis}: OffsetCommit, OffsetFetch, OffsetDelete through the codec."""

from __future__ import annotations

import dataclasses
from typing import Any

from twisted.trial.unittest import SynchronousTestCase

from tests.apis.support import call, make_broker, roundtrip
from twisted_kafka.broker import Broker
from twisted_kafka.errors import ErrorCode
from twisted_kafka.server.reply import AfterSync
from twisted_kafka.store.service import StreamStore

COMMIT, FETCH, DELETE = 8, 9, 47


def commit_request(group_id: str = "g", offsets: dict | None = None, generation: int = -1,
                   member_id: str = "", **extra: Any) -> dict:
    """An OffsetCommit request for C{offsets} ({(topic, partition): offset})."""
    topics: dict[str, list] = {}
    for (topic, partition), offset in (offsets or {("t", 0): 10}).items():
        topics.setdefault(topic, []).append({
            "partition_index": partition, "committed_offset": offset,
            "committed_leader_epoch": 4, "committed_metadata": f"m{offset}"})
    request = {"group_id": group_id, "generation_id_or_member_epoch": generation,
               "member_id": member_id, "group_instance_id": None, "retention_time_ms": -1,
               "topics": [{"name": name, "partitions": parts} for name, parts in topics.items()]}
    request.update(extra)
    return request


def errors_of(response: dict) -> dict:
    """{(topic, partition): error} of an OffsetCommit response."""
    return {(t["name"], p["partition_index"]): p["error_code"]
            for t in response["topics"] for p in t["partitions"]}


class OffsetApiCase(SynchronousTestCase):
    """A broker with topic C{t} (2 partitions)."""

    def setUp(self) -> None:
        """Build the broker and the topic."""
        self.broker = make_broker(self)
        self.broker.store.vhost("/").create_topic("t", 2)

    def call(self, api_key: int, version: int, request: dict) -> Any:
        """Call a responder through the codec."""
        return call(self.broker, api_key, version, request)

    def fetch(self, version: int, group_id: str = "g",
              topics: list | None = None) -> list[tuple[str, int, int, int, str | None, int]]:
        """Fetch offsets; return (topic, partition, offset, epoch, metadata, error) rows."""
        if version >= 8:
            request = {"groups": [{"group_id": group_id, "member_id": None, "member_epoch": -1,
                                   "topics": topics}], "require_stable": True}
        else:
            request = {"group_id": group_id, "topics": topics, "require_stable": True}
        response = roundtrip(FETCH, version, self.call(FETCH, version, request))
        if version >= 8:
            (group,) = response["groups"]
            self.assertEqual((group["group_id"], group["error_code"]), (group_id, 0))
            topics_out = group["topics"]
        else:
            if version >= 2:
                self.assertEqual(response["error_code"], 0)
            topics_out = response["topics"]
        return [(t["name"], p["partition_index"], p["committed_offset"],
                 p["committed_leader_epoch"], p["metadata"], p["error_code"])
                for t in topics_out for p in t["partitions"]]


class CommitTests(OffsetApiCase):
    """OffsetCommit stores offsets durably and answers per partition."""

    def test_every_version(self) -> None:
        """Each version commits and encodes; the leader epoch is kept from v6."""
        for version in range(2, 10):
            group_id = f"g{version}"
            response = self.call(COMMIT, version, commit_request(group_id, {("t", 1): version}))
            self.assertEqual(errors_of(roundtrip(COMMIT, version, response)), {("t", 1): 0})
            epoch = 4 if version >= 6 else -1
            self.assertEqual(self.fetch(7, group_id, [{"name": "t", "partition_indexes": [1]}]),
                             [("t", 1, version, epoch, f"m{version}", 0)])

    def test_unknown_topic(self) -> None:
        """Unknown topics and partitions are UNKNOWN_TOPIC_OR_PARTITION; the others commit."""
        response = self.call(COMMIT, 8, commit_request(offsets={("t", 0): 1, ("t", 5): 1,
                                                                ("nope", 0): 1}))
        self.assertEqual(errors_of(response), {("t", 0): 0, ("t", 5): 3, ("nope", 0): 3})

    def test_group_not_found(self) -> None:
        """A generation for an unknown group: ILLEGAL_GENERATION, from v9 GROUP_ID_NOT_FOUND."""
        for version, code in ((8, ErrorCode.ILLEGAL_GENERATION), (9, ErrorCode.GROUP_ID_NOT_FOUND)):
            response = self.call(COMMIT, version, commit_request(generation=3, member_id="m"))
            self.assertEqual(errors_of(response), {("t", 0): code})

    def test_after_sync_when_fsync_on(self) -> None:
        """With fsync on, the response waits for the store's sync; nothing stored, no wait."""
        self.broker.settings = dataclasses.replace(self.broker.settings, durable_acks=True)
        self.assertIsInstance(self.call(COMMIT, 8, commit_request()), AfterSync)
        self.assertIsInstance(self.call(COMMIT, 8, commit_request(offsets={("nope", 0): 1})),
                              dict)

    def test_retention_time(self) -> None:
        """v2-4 retention times expire the offsets they name."""
        self.call(COMMIT, 2, commit_request(retention_time_ms=1000))
        self.call(COMMIT, 5, commit_request("other", retention_time_ms=1000))
        self.broker.reactor.advance(1)
        self.broker.groups.expire_offsets()
        self.assertEqual(self.fetch(7, "g"), [])
        self.assertEqual(len(self.fetch(7, "other")), 1)

    def test_survives_restart(self) -> None:
        """Committed offsets come back after the store and broker restart."""
        self.call(COMMIT, 8, commit_request(offsets={("t", 0): 5, ("t", 1): 6}))
        store = self.broker.store
        store.stopService()
        restarted = StreamStore(store.data_dir, store.config, reactor=self.broker.reactor)
        restarted.startService()
        self.addCleanup(restarted.stopService)
        self.broker = Broker(self.broker.config, restarted, self.broker.reactor)
        self.assertEqual(self.fetch(8, "g"), [("t", 0, 5, 4, "m5", 0), ("t", 1, 6, 4, "m6", 0)])


class FetchTests(OffsetApiCase):
    """OffsetFetch in every version."""

    def test_every_version(self) -> None:
        """Named partitions come back with offsets, or -1 and empty metadata when none."""
        self.call(COMMIT, 8, commit_request())
        for version in range(1, 10):
            rows = self.fetch(version, topics=[{"name": "t", "partition_indexes": [0, 1]}])
            epoch = 4 if version >= 5 else -1
            self.assertEqual(rows, [("t", 0, 10, epoch, "m10", 0), ("t", 1, -1, -1, "", 0)])

    def test_all_topics(self) -> None:
        """From v2 a null topic list fetches every committed offset."""
        self.call(COMMIT, 8, commit_request(offsets={("t", 1): 3, ("t", 0): 2}))
        for version in (2, 7, 8, 9):
            self.assertEqual([row[:3] for row in self.fetch(version)], [("t", 0, 2), ("t", 1, 3)])

    def test_unknown_group(self) -> None:
        """A group that does not exist has -1 everywhere, without error."""
        self.assertEqual(self.fetch(8, "nobody", [{"name": "t", "partition_indexes": [0]}]),
                         [("t", 0, -1, -1, "", 0)])
        self.assertEqual(self.fetch(8, "nobody"), [])

    def test_several_groups(self) -> None:
        """v8+ fetch for several groups at once."""
        self.call(COMMIT, 8, commit_request("a", {("t", 0): 1}))
        self.call(COMMIT, 8, commit_request("b", {("t", 0): 2}))
        response = self.call(FETCH, 8, {"groups": [
            {"group_id": "a", "topics": None}, {"group_id": "b", "topics": None}]})
        self.assertEqual([(g["group_id"], g["topics"][0]["partitions"][0]["committed_offset"])
                          for g in roundtrip(FETCH, 8, response)["groups"]], [("a", 1), ("b", 2)])


class DeleteTests(OffsetApiCase):
    """OffsetDelete."""

    def test_delete(self) -> None:
        """An empty group's offsets are deleted; unknown groups and empty ids are refused."""
        self.call(COMMIT, 8, commit_request(offsets={("t", 0): 1, ("t", 1): 1}))
        response = roundtrip(DELETE, 0, self.call(DELETE, 0, {"group_id": "g", "topics": [
            {"name": "t", "partitions": [{"partition_index": 0}]}]}))
        self.assertEqual(response["error_code"], 0)
        self.assertEqual(response["topics"][0]["partitions"], [{"partition_index": 0,
                                                                "error_code": 0}])
        self.assertEqual([row[:2] for row in self.fetch(8)], [("t", 1)])
        for group_id, code in (("nobody", ErrorCode.GROUP_ID_NOT_FOUND),
                               ("", ErrorCode.INVALID_GROUP_ID)):
            response = self.call(DELETE, 0, {"group_id": group_id, "topics": []})
            self.assertEqual(response["error_code"], code)


class DeletedTopicTests(OffsetApiCase):
    """DeleteTopics drops the topic's committed offsets at once."""

    def test_delete_topics_drops_offsets(self) -> None:
        """After DeleteTopics the group has no committed offsets for the topic."""
        self.call(COMMIT, 8, commit_request(offsets={("t", 0): 5}))
        self.assertEqual(self.fetch(8, topics=None)[0][:3], ("t", 0, 5))
        call(self.broker, 20, 6, {"topics": [{"name": "t", "topic_id": b"\0" * 16}],
                                  "timeout_ms": 1000})
        self.assertEqual(self.fetch(8, topics=None), [])
