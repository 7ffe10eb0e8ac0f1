# -*- test-case-name: tests.store.test_descriptors -*-
"""Tests for L{twisted_kafka.store.descriptors}, the open-file budget, and
how the store keeps creates within it and leaves nothing of a failed one."""

from __future__ import annotations

import errno
import os
import resource

from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.errors import ErrorCode, KafkaError
from twisted_kafka.store.descriptors import (
    CONNECTION_RESERVE, FIXED_RESERVE, UNLIMITED, DescriptorBudget, DescriptorLimitError,
    ProcessFileLimit)
from twisted_kafka.store.service import stored_partitions
from twisted_kafka.store.topic import TopicLog

from .helpers import FakeFileLimit, StoreTestMixin


class BudgetTests(SynchronousTestCase):
    """The arithmetic, and raising the soft limit."""

    def test_need(self) -> None:
        """Partitions, sealed files, the fixed reserve and the connection reserve add up."""
        budget = DescriptorBudget(16, 32, FakeFileLimit(256, 256))
        self.assertEqual(budget.reserve, FIXED_RESERVE + 32)
        self.assertEqual(budget.need(10), 10 + 16 + FIXED_RESERVE + 32)

    def test_connection_reserve(self) -> None:
        """Connections keep max_connections descriptors, at most CONNECTION_RESERVE; no limit keeps that many."""
        self.assertEqual(DescriptorBudget(1, 10000).connection_reserve, CONNECTION_RESERVE)
        self.assertEqual(DescriptorBudget(1, 0).connection_reserve, CONNECTION_RESERVE)
        self.assertEqual(DescriptorBudget(1, 5).connection_reserve, 5)

    def test_start_raises_for_every_connection(self) -> None:
        """At start-up the soft limit rises to fit every allowed connection, at most to the hard limit."""
        limit = FakeFileLimit(1024, 100_000)
        self.assertIsNone(DescriptorBudget(1000, 10000, limit).start(50))
        self.assertEqual(limit.sets, [50 + 1000 + FIXED_RESERVE + 10000])
        unlimited = FakeFileLimit(1024, 100_000)
        DescriptorBudget(1000, 0, unlimited).start(50)
        self.assertEqual(unlimited.sets, [100_000])

    def test_start_leaves_enough_alone(self) -> None:
        """A soft limit already large enough is not changed."""
        limit = FakeFileLimit(20_000, 20_000)
        DescriptorBudget(1000, 10000, limit).start(50)
        self.assertEqual(limit.sets, [])

    def test_start_warns_when_connections_do_not_fit(self) -> None:
        """A hard limit that fits the partitions but not every connection is a warning."""
        limit = FakeFileLimit(1024, 4096)
        warning = DescriptorBudget(1000, 10000, limit).start(100)
        self.assertEqual(limit.soft, 4096)
        assert warning is not None
        self.assertIn(f"room for about {4096 - 100 - 1000 - FIXED_RESERVE} of "
                      "[kafka] max_connections = 10000", warning)

    def test_start_refuses_what_the_hard_limit_cannot_hold(self) -> None:
        """Stored partitions beyond the hard limit stop the start with one line."""
        limit = FakeFileLimit(256, 256)
        budget = DescriptorBudget(16, 32, limit)
        budget.start(256 - budget.need(0))
        with self.assertRaises(DescriptorLimitError) as e:
            budget.start(256 - budget.need(0) + 1)
        message = str(e.exception)
        self.assertNotIn("\n", message)
        self.assertIn(f"{256 - budget.need(0) + 1} stored partition(s) need 257 open files", message)
        self.assertIn("open-file limit of 256", message)

    def test_start_without_permission(self) -> None:
        """A system that refuses the change leaves the soft limit, which is then the limit."""
        limit = FakeFileLimit(200, 4096, refuse=True)
        budget = DescriptorBudget(16, 32, limit)
        with self.assertRaises(DescriptorLimitError):
            budget.start(200 - budget.need(0) + 1)

    def test_admit_raises_soft_limit_only_when_needed(self) -> None:
        """A create that fits the soft limit changes nothing; one beyond it raises the soft limit for every connection."""
        limit = FakeFileLimit(400, 1000)
        budget = DescriptorBudget(16, 500, limit)
        room = 400 - budget.need(0)
        budget.admit(0, room)
        self.assertEqual(limit.sets, [])
        budget.admit(room, 1)
        self.assertEqual(limit.sets, [room + 1 + 16 + FIXED_RESERVE + 500])

    def test_admit_refuses_beyond_hard_limit(self) -> None:
        """Partitions that would not fit under the hard limit are POLICY_VIOLATION with the figures."""
        limit = FakeFileLimit(256, 256)
        budget = DescriptorBudget(16, 32, limit)
        room = 256 - budget.need(0)
        budget.admit(room - 3, 3)
        with self.assertRaises(KafkaError) as e:
            budget.admit(room - 3, 4)
        self.assertEqual(e.exception.code, ErrorCode.POLICY_VIOLATION)
        self.assertEqual(
            e.exception.message,
            f"Cannot add 4 partition(s): {room + 1} partitions would need 257 open files "
            f"({room + 1} active segments, 16 sealed segment files, 32 for connections, "
            f"{FIXED_RESERVE} for the broker), above the broker's open-file limit of 256.")


class ProcessFileLimitTests(SynchronousTestCase):
    """L{ProcessFileLimit} reads and sets this process's RLIMIT_NOFILE."""

    def test_get_and_set(self) -> None:
        """It reports the process's limits and lowers and restores the soft one."""
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        limit = ProcessFileLimit()
        self.assertEqual(limit.get()[0], UNLIMITED if soft == resource.RLIM_INFINITY else soft)
        try:
            limit.set_soft(limit.get()[0] - 1)
            self.assertEqual(resource.getrlimit(resource.RLIMIT_NOFILE), (soft - 1, hard))
        finally:
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


class StoreBudgetTests(StoreTestMixin, SynchronousTestCase):
    """The store admits only partitions that fit, and leaves nothing of a refused or failed create."""

    def setUp(self) -> None:
        """Open a store whose open-file limit is 256 (16 sealed files, 32 connections)."""
        super().setUp()
        self.limit = FakeFileLimit(256, 256)
        self.store = self.open_store(max_open_sealed_files=16, max_connections=32, file_limit=self.limit)
        self.vhost = self.store.vhost("/")
        self.room = 256 - self.store.descriptors.need(0)

    def entries(self) -> set[str]:
        """The names in the vhost's directory."""
        return set(os.listdir(self.vhost.directory))

    def test_creates_until_refused(self) -> None:
        """Topics are created while they fit; the next is POLICY_VIOLATION and leaves nothing."""
        for i in range(self.room):
            self.vhost.create_topic(f"t{i}", 1)
        before = self.entries()
        for validate_only in (True, False):
            with self.assertRaises(KafkaError) as e:
                self.vhost.create_topic("over", 1, validate_only=validate_only)
            self.assertEqual(e.exception.code, ErrorCode.POLICY_VIOLATION)
        self.assertEqual(self.entries(), before)
        self.assertIsNone(self.vhost.topic("over"))
        store = self.reopen(self.store, max_open_sealed_files=16, max_connections=32,
                            file_limit=self.limit)
        self.assertEqual(len(store.vhost("/").topics()), self.room)
        self.assertEqual(stored_partitions(self.data_dir), self.room)

    def test_deleted_topics_free_room(self) -> None:
        """Deleting a topic gives its descriptors back."""
        self.vhost.create_topic("big", self.room)
        self.assertRaises(KafkaError, self.vhost.create_topic, "more", 1)
        self.vhost.delete_topic("big")
        self.vhost.create_topic("more", 1)

    def test_add_partitions_refused(self) -> None:
        """CreatePartitions beyond the budget is POLICY_VIOLATION, validate-only too; nothing changes."""
        topic = self.vhost.create_topic("t", 1)
        before = self.entries()
        for validate_only in (True, False):
            with self.assertRaises(KafkaError) as e:
                topic.add_partitions(self.room + 1, validate_only)
            self.assertEqual(e.exception.code, ErrorCode.POLICY_VIOLATION)
        self.assertEqual(len(topic.partitions), 1)
        self.assertEqual(self.entries(), before)
        topic.add_partitions(self.room, validate_only=True)
        self.assertEqual(len(topic.partitions), 1)
        topic.add_partitions(self.room)
        self.assertEqual(len(topic.partitions), self.room)

    def test_add_partitions_failing_midway(self) -> None:
        """EMFILE while adding partitions: KAFKA_STORAGE_ERROR, the new directories removed, the count kept after a restart."""
        topic = self.vhost.create_topic("t", 1)
        before = self.entries()
        original = TopicLog.open_partition
        opened: list[int] = []

        def open_partition(self: TopicLog, index: int, clean: bool):  # type: ignore[no-untyped-def]
            if len(opened) == 2:
                os.makedirs(os.path.join(self.vhost_dir, f"{self.name}-{index}"))
                raise OSError(errno.EMFILE, "Too many open files")
            opened.append(index)
            return original(self, index, clean)

        self.patch(TopicLog, "open_partition", open_partition)
        with self.assertRaises(KafkaError) as e:
            topic.add_partitions(5)
        self.assertEqual(e.exception.code, ErrorCode.KAFKA_STORAGE_ERROR)
        self.assertIn("Too many open files", e.exception.message)
        self.assertEqual(opened, [1, 2])
        self.assertEqual(len(topic.partitions), 1)
        self.assertEqual(self.entries(), before)
        self.patch(TopicLog, "open_partition", original)
        store = self.reopen(self.store, clean=False, max_open_sealed_files=16, max_connections=32,
                            file_limit=self.limit)
        self.assertEqual(len(store.vhost("/").topic("t").partitions), 1)  # type: ignore[union-attr]
        store.vhost("/").topic("t").add_partitions(3)  # type: ignore[union-attr]

    def test_create_topic_failing_midway(self) -> None:
        """EMFILE while creating a topic: KAFKA_STORAGE_ERROR and no directory or metadata file left."""
        before = self.entries()
        original = TopicLog.open_partition

        def open_partition(self: TopicLog, index: int, clean: bool):  # type: ignore[no-untyped-def]
            if index == 2:
                raise OSError(errno.EMFILE, "Too many open files")
            return original(self, index, clean)

        self.patch(TopicLog, "open_partition", open_partition)
        with self.assertRaises(KafkaError) as e:
            self.vhost.create_topic("t", 4)
        self.assertEqual(e.exception.code, ErrorCode.KAFKA_STORAGE_ERROR)
        self.assertEqual(self.entries(), before)
        self.assertIsNone(self.vhost.topic("t"))

    def test_start_refused(self) -> None:
        """A store whose stored partitions do not fit the hard limit refuses to start and opens nothing."""
        self.vhost.create_topic("t", self.room)
        self.stop(self.store)
        store_limit = FakeFileLimit(200, 200)
        with self.assertRaises(DescriptorLimitError):
            self.open_store(max_open_sealed_files=16, max_connections=32, file_limit=store_limit)


class StoredPartitionsTests(StoreTestMixin, SynchronousTestCase):
    """L{stored_partitions} counts partitions from the metadata files."""

    def test_counts_every_vhost(self) -> None:
        """Every topic of every vhost counts its partitions; deleted ones and an empty directory count nothing."""
        self.assertEqual(stored_partitions(self.data_dir), 0)
        store = self.open_store()
        store.vhost("/").create_topic("a", 3)
        store.vhost("other").create_topic("b", 2)
        store.vhost("/").create_topic("gone", 4)
        store.vhost("/").delete_topic("gone")
        self.assertEqual(stored_partitions(self.data_dir), 5)
        with open(os.path.join(store.vhost("/").directory, "broken.topic"), "w") as f:
            f.write("not json")
        self.assertEqual(stored_partitions(self.data_dir), 5)
