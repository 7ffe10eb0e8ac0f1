# -*- test-case-name: tests.groups.test_coordinator -*-
"""Tests for L{twisted_kafka.groups.coordinator}: loading, restarts and expiry."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from tests.groups.test_offset_log import StoreCase
from twisted_kafka.errors import ErrorCode, KafkaError
from twisted_kafka.groups.committed import OffsetToCommit
from twisted_kafka.groups.coordinator import GroupCoordinator
from twisted_kafka.groups.group import GroupState
from twisted_kafka.groups.membership import JoinRequest
from twisted_kafka.groups.offset_log import OFFSETS_TOPIC


def config(**kafka: int) -> SimpleNamespace:
    """A configuration with the given C{[kafka]} group settings."""
    return SimpleNamespace(kafka=SimpleNamespace(**kafka))


class CoordinatorTests(StoreCase):
    """The coordinator loads each vhost's groups from its offsets log."""

    def coordinator(self, started: bool = True, **kafka: int) -> GroupCoordinator:
        """Return a coordinator over the test's store."""
        coordinator = GroupCoordinator(self.store, self.clock, config(**kafka))
        if started:
            coordinator.startService()

            def stop() -> None:
                if coordinator.running:
                    coordinator.stopService()

            self.addCleanup(stop)
        return coordinator

    def commit(self, coordinator: GroupCoordinator, vhost: str = "/", offset: int = 5) -> None:
        """Commit offset C{offset} of t-0 for simple group g."""
        groups = coordinator.for_vhost(self.store.vhost(vhost))
        outcome = groups.offsets.commit("g", -1, "", None, [OffsetToCommit("t", 0, offset)])
        self.assertEqual(outcome.errors, [ErrorCode.NONE])

    def test_lazy_load(self) -> None:
        """The first use of a vhost creates its offsets log; the same groups are returned after."""
        coordinator = self.coordinator(started=False)
        vhost = self.store.vhost("/")
        self.assertIsNone(vhost.topic(OFFSETS_TOPIC))
        groups = coordinator.for_vhost(vhost)
        self.assertIsNotNone(vhost.topic(OFFSETS_TOPIC))
        self.assertIs(coordinator.for_vhost(vhost), groups)

    def test_offsets_survive_restart(self) -> None:
        """Offsets committed before a restart are loaded at start-up, per vhost."""
        self.store.vhost("/").create_topic("t", 1)
        self.store.vhost("other").create_topic("t", 1)
        coordinator = self.coordinator()
        self.commit(coordinator, "/", 5)
        self.commit(coordinator, "other", 7)
        coordinator.stopService()
        self.restart()
        coordinator = self.coordinator()
        self.assertEqual(sorted(g.vhost.name for g in coordinator.loaded()), ["/", "other"])
        for vhost, offset in (("/", 5), ("other", 7)):
            groups = coordinator.for_vhost(self.store.vhost(vhost))
            self.assertIs(groups.groups["g"].state, GroupState.EMPTY)
            self.assertEqual(groups.groups["g"].offsets[("t", 0)].offset, offset)

    def test_expiry_runs_periodically(self) -> None:
        """The started coordinator expires offsets every check interval."""
        self.store.vhost("/").create_topic("t", 1)
        coordinator = self.coordinator(offsets_retention_minutes=1,
                                       offsets_retention_check_interval_ms=30000)
        self.commit(coordinator)
        groups = coordinator.for_vhost(self.store.vhost("/"))
        self.clock.advance(30)
        self.assertIn("g", groups.groups)
        self.clock.advance(30)
        self.assertNotIn("g", groups.groups)

    def test_deleted_topic_offsets_dropped(self) -> None:
        """L{GroupCoordinator.topic_deleted} drops the offsets of deleted topics at once."""
        vhost = self.store.vhost("/")
        vhost.create_topic("t", 1)
        coordinator = self.coordinator()
        self.commit(coordinator)
        topic = vhost.topic("t")
        assert topic is not None
        self.assertEqual(coordinator.for_vhost(vhost).groups["g"].offsets[("t", 0)].topic_id,
                         topic.topic_id)
        vhost.delete_topic("t")
        coordinator.topic_deleted(vhost)
        self.assertNotIn("g", coordinator.for_vhost(vhost).groups)

    def test_unavailable(self) -> None:
        """A vhost whose offsets log cannot be opened is COORDINATOR_NOT_AVAILABLE."""
        coordinator = self.coordinator(started=False)

        class BrokenVhost:
            """A vhost whose disk is full."""

            name = "broken"

            def topic(self, name: str) -> None:
                """No topic exists."""

            def create_topic(self, *args: object) -> None:
                """Creating one fails."""
                raise KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, "disk full")

        error = self.assertRaises(KafkaError, coordinator.for_vhost, BrokenVhost())
        self.assertEqual(error.code, ErrorCode.COORDINATOR_NOT_AVAILABLE)

    def test_stop_cancels_timers(self) -> None:
        """Stopping the coordinator leaves no group or expiry timer behind."""
        coordinator = self.coordinator()
        groups = coordinator.for_vhost(self.store.vhost("/"))
        groups.membership.join(JoinRequest("g", "", None, "c", "/h", 10000, 10000, "consumer",
                                           [("range", b"")], False), lambda result: None)
        own: list[Any] = [c for c in self.clock.getDelayedCalls() if "Membership" in repr(c)
               or "LoopingCall" in repr(c)]
        self.assertTrue(own)
        coordinator.stopService()
        self.assertFalse([c for c in own if c.active()])

