# -*- test-case-name: tests.store.test_service -*-
"""Tests for L{twisted_kafka.store.service.StreamStore}: lifecycle, cluster id, producer ids."""

from __future__ import annotations

import os

from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.store.service import CLEAN_SHUTDOWN_FILE, PRODUCER_ID_BLOCK

from .helpers import StoreTestMixin, make_batch


class StreamStoreTests(StoreTestMixin, SynchronousTestCase):
    """The service around the data directory."""

    def test_creates_data_dir(self) -> None:
        """Starting creates the directory, the cluster metadata and the vhosts directory."""
        self.open_store()
        self.assertEqual(sorted(os.listdir(self.data_dir)), ["cluster.meta", "vhosts"])

    def test_first_start_is_not_a_recovery(self) -> None:
        """A brand-new data directory is not reported as recovering from a crash."""
        from twisted.logger import globalLogPublisher

        events: list[dict] = []
        globalLogPublisher.addObserver(events.append)  # type: ignore[arg-type]
        self.addCleanup(globalLogPublisher.removeObserver, events.append)  # type: ignore[arg-type]
        store = self.open_store()
        self.assertFalse(store.recovered_unclean)
        self.assertEqual([e for e in events if "clean-shutdown" in e.get("log_format", "")], [])
        store.vhost("/").create_topic("t", 1)
        store = self.reopen(store, clean=False)
        self.assertTrue(store.recovered_unclean)
        self.assertEqual(len([e for e in events if "clean-shutdown" in e.get("log_format", "")]), 1)

    def test_cluster_id_stable(self) -> None:
        """The cluster id is 22 url-safe characters and survives restarts."""
        store = self.open_store()
        cluster_id = store.cluster_id
        self.assertEqual(len(cluster_id), 22)
        self.assertRegex(cluster_id, r"^[A-Za-z0-9_-]{22}$")
        self.assertEqual(self.reopen(store).cluster_id, cluster_id)

    def test_producer_ids_unique_across_restarts(self) -> None:
        """Ids never repeat, even after a crash in the middle of a block."""
        store = self.open_store()
        first = [store.allocate_producer_id() for _ in range(5)]
        self.assertEqual(first, list(range(5)))
        store = self.reopen(store, clean=False)
        second = store.allocate_producer_id()
        self.assertGreaterEqual(second, PRODUCER_ID_BLOCK)
        many = [store.allocate_producer_id() for _ in range(PRODUCER_ID_BLOCK + 5)]
        self.assertEqual(len(set(many + first + [second])), len(many) + 6)

    def test_vhost_on_demand(self) -> None:
        """vhost() creates vhosts; vhosts() lists them sorted; they survive restarts."""
        store = self.open_store()
        a = store.vhost("b")
        self.assertIs(store.vhost("b"), a)
        store.vhost("/")
        self.assertEqual([v.name for v in store.vhosts()], ["/", "b"])
        store = self.reopen(store)
        self.assertEqual([v.name for v in store.vhosts()], ["/", "b"])

    def test_clean_stop_writes_marker(self) -> None:
        """A clean stop leaves the marker and everything needed for a cheap start."""
        store = self.open_store()
        log = store.vhost("/").create_topic("t", 1).partitions[0]
        log.append(make_batch())
        self.stop(store)
        self.assertTrue(os.path.exists(os.path.join(self.data_dir, CLEAN_SHUTDOWN_FILE)))
        names = set(os.listdir(log.directory))
        self.assertTrue({f"{0:020d}.index", f"{0:020d}.timeindex", f"{1:020d}.snapshot"} <= names)

    def test_retention_scheduled_with_injected_clock(self) -> None:
        """The retention sweep (and the log cleaner) run on the injected clock and stop with the service."""
        store = self.open_store(retention_check_interval_ms=5000)
        self.assertEqual(len(self.clock.getDelayedCalls()), 2)
        self.clock.advance(5)
        self.assertEqual(store._sweep.sweeps, 1)  # type: ignore[union-attr]
        self.stop(store)
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_fsync_metadata(self) -> None:
        """With fsync on, start and stop still work (metadata fsynced on this thread)."""
        store = self.open_store(fsync=True)
        store.vhost("/").create_topic("t", 1).partitions[0].append(make_batch())
        store = self.reopen(store, fsync=True)
        self.assertEqual(self.partition(store).high_watermark, 1)
