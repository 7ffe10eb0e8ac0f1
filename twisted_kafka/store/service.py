# -*- test-case-name: tests.store.test_service -*-
"""The stream-queue store as a Twisted service owning the data directory.

Layout::

    <data_dir>/cluster.meta                 cluster id, producer id block
    <data_dir>/.clean-shutdown              present only between a clean stop and the next start
    <data_dir>/vhosts/<vhost, %-encoded>/<topic>.topic
    <data_dir>/vhosts/<vhost, %-encoded>/<topic>-<partition>/<20-digit offset>.log|.index|.timeindex

L{StreamStore.startService} opens (and after a crash, recovers) everything
synchronously, which under twistd happens before any listener accepts a
connection; L{StreamStore.stopService} flushes and fsyncs everything and
writes the clean-shutdown marker. See C{docs/on-disk-format.md}.
"""

from __future__ import annotations

import base64
import os
import uuid
from typing import Any

from twisted.application.service import Service
from twisted.internet.defer import Deferred, succeed
from twisted.logger import Logger

from twisted_kafka.errors import ErrorCode, KafkaError
from twisted_kafka.store import metafile
from twisted_kafka.store.cleaner import LogCleaner
from twisted_kafka.store.config import StoreConfig
from twisted_kafka.store.descriptors import DescriptorBudget, FileLimit
from twisted_kafka.store.fsync_thread import FsyncThread
from twisted_kafka.store.group_commit import GroupCommit, ThreadPool
from twisted_kafka.store.partition import PartitionLog
from twisted_kafka.store.recovery import DELETED_SUFFIX, remove_path
from twisted_kafka.store.retention import RetentionSweep
from twisted_kafka.store.runtime import StoreRuntime
from twisted_kafka.store.stats import StoreStats
from twisted_kafka.store.topic import TOPIC_SUFFIX, TopicLog, load_metadata
from twisted_kafka.store.vhost import VhostStore, vhost_dir_name, vhost_name_from_dir

__all__ = ["StoreConfig", "StreamStore", "VhostStore", "TopicLog", "PartitionLog"]

CLUSTER_FILE = "cluster.meta"
CLUSTER_KIND = "cluster"
CLEAN_SHUTDOWN_FILE = ".clean-shutdown"
VHOSTS_DIR = "vhosts"

#: Producer ids are handed out from blocks of this size; a block's end is
#: persisted before its first id is used, so ids stay unique across restarts.
PRODUCER_ID_BLOCK = 1000


def stored_partitions(data_dir: str) -> int:
    """Return how many partitions the topics stored in C{data_dir} have.

    Counted from the topics' metadata files (C{vhosts/<vhost>/<topic>.topic})
    before anything is opened, for the open-file budget; an unreadable one
    counts nothing (opening the store reports it).
    """
    vhosts_dir = os.path.join(data_dir, VHOSTS_DIR)
    try:
        vhosts = os.listdir(vhosts_dir)
    except OSError:
        return 0
    total = 0
    for vhost in vhosts:
        directory = os.path.join(vhosts_dir, vhost)
        try:
            entries = os.listdir(directory)
        except OSError:
            continue
        for entry in entries:
            if entry.endswith(TOPIC_SUFFIX):
                try:
                    total += load_metadata(os.path.join(directory, entry))[2]
                except (metafile.MetadataFileError, OSError):
                    continue
    return total


def new_cluster_id() -> str:
    """A Kafka-style cluster id: a uuid4 as 22 characters of url-safe base64."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()


class StreamStore(Service):
    """Owns the data directory: vhosts, topics and their stream queues.

    @ivar cluster_id: the persisted cluster id.
    """

    log = Logger()

    def __init__(
        self,
        data_dir: str,
        config: StoreConfig,
        reactor: Any = None,
        threadpool: ThreadPool | None = None,
        max_open_sealed_files: int | None = None,
        file_limit: FileLimit | None = None,
    ) -> None:
        """
        @param reactor: provides C{callLater}/C{seconds} (and C{callFromThread},
            C{getThreadPool} when fsync is on); the global reactor by default.
        @param threadpool: runs fsync rounds and file removal (tests pass a
            fake); by default rounds get a dedicated L{FsyncThread} and file
            removal the reactor's thread pool.
        @param max_open_sealed_files: how many C{.log} files of sealed
            segments stay open (least recently used are closed past this);
            C{config.max_open_sealed_files} by default.
        @param file_limit: the open-file limit the store's descriptor budget
            checks and raises (this process's C{RLIMIT_NOFILE} by default).
        @raise ValueError: if C{max_open_sealed_files} is below 1.
        """
        if max_open_sealed_files is None:
            max_open_sealed_files = config.max_open_sealed_files
        if max_open_sealed_files < 1:
            raise ValueError(f"max_open_sealed_files must be at least 1, not {max_open_sealed_files}")
        self._max_open_sealed_files = max_open_sealed_files
        #: the open-file budget: checked at start-up and before partitions are created
        self.descriptors = DescriptorBudget(max_open_sealed_files, config.max_connections, file_limit)
        if reactor is None:
            from twisted.internet import reactor as global_reactor

            reactor = global_reactor
        self.data_dir = os.path.abspath(data_dir)
        self.config = config
        self._reactor = reactor
        self._threadpool = threadpool
        self.cluster_id = ""
        self._vhosts: dict[str, VhostStore] = {}
        self._next_producer_id = 0
        self._producer_id_block_end = 0
        self._runtime: StoreRuntime | None = None
        self._sweep: RetentionSweep | None = None
        #: the log cleaner of compacted topics (from L{startService} on)
        self.cleaner: LogCleaner | None = None
        self.recovered_unclean = False
        self._fsync_thread: FsyncThread | None = None
        #: what the store counts for the metrics endpoint
        self.stats = StoreStats()

    # -- lifecycle -----------------------------------------------------------

    def startService(self) -> None:
        """Open and recover everything, then schedule retention.

        @raise DescriptorLimitError: when the open-file limit cannot hold the
            stored partitions (nothing is opened then).
        """
        warning = self.descriptors.start(stored_partitions(self.data_dir))
        if warning is not None:
            self.log.warn("{warning}", warning=warning)
        threadpool = self._threadpool
        fsync_worker: ThreadPool | None = threadpool
        if threadpool is None:
            if hasattr(self._reactor, "getThreadPool"):
                threadpool = self._reactor.getThreadPool()
            if self.config.fsync:
                self._fsync_thread = FsyncThread()
                fsync_worker = self._fsync_thread
        commit = GroupCommit(self._reactor, fsync_worker, self.config.fsync, self.stats)
        self._runtime = StoreRuntime(
            self.config, self._reactor, commit, threadpool, self.log, self._max_open_sealed_files,
            self.descriptors, self._count_partitions,
        )
        vhosts_dir = os.path.join(self.data_dir, VHOSTS_DIR)
        os.makedirs(vhosts_dir, exist_ok=True)
        for name in os.listdir(self.data_dir):
            if name.endswith(metafile.TEMP_SUFFIX) or name.endswith(DELETED_SUFFIX):
                remove_path(os.path.join(self.data_dir, name))
        self._load_cluster()
        marker = os.path.join(self.data_dir, CLEAN_SHUTDOWN_FILE)
        clean = os.path.exists(marker)
        if not clean and os.listdir(vhosts_dir):
            self.recovered_unclean = True
            self.log.info("No clean-shutdown marker in {dir}: recovering logs", dir=self.data_dir)
        for dirname in sorted(os.listdir(vhosts_dir)):
            path = os.path.join(vhosts_dir, dirname)
            if dirname.endswith(DELETED_SUFFIX) or dirname.endswith(metafile.TEMP_SUFFIX):
                remove_path(path)
            elif os.path.isdir(path):
                name = vhost_name_from_dir(dirname)
                self._vhosts[name] = VhostStore(name, path, self._runtime, clean=clean)
        if clean:
            os.unlink(marker)
        commit.flush_now()
        if self.config.fsync:
            metafile.fsync_dir(self.data_dir)
        self._sweep = RetentionSweep(self._reactor, self.partitions, self.config.retention_check_interval_ms)
        self._sweep.start()
        self.cleaner = LogCleaner(
            self._reactor,
            commit,
            self.partitions,
            self.config.cleaner_dedupe_buffer_size,
            self.config.cleaner_backoff_ms,
        )
        self.cleaner.start()
        Service.startService(self)

    def stopService(self) -> Deferred[None]:
        """Stop retention, wait for a running fsync round, then flush, fsync and mark a clean shutdown."""
        Service.stopService(self)
        if self._sweep is not None:
            self._sweep.stop()
        if self.cleaner is not None:
            self.cleaner.stop()
        runtime = self._runtime
        if runtime is None:
            return succeed(None)
        return runtime.commit.wait_idle().addCallback(lambda _: self._close())

    def _close(self) -> None:
        runtime = self._runtime
        assert runtime is not None
        for partition in self.partitions():
            partition.close()
        runtime.commit.flush_now()
        for vhost in self._vhosts.values():
            vhost.release()
        metafile.write(
            os.path.join(self.data_dir, CLEAN_SHUTDOWN_FILE), "clean-shutdown", {}, durable=self.config.fsync
        )
        self._runtime = None
        if self._fsync_thread is not None:
            self._fsync_thread.stop()
            self._fsync_thread = None

    def _load_cluster(self) -> None:
        """Read (or create) the cluster metadata file."""
        path = os.path.join(self.data_dir, CLUSTER_FILE)
        content = metafile.read(path, CLUSTER_KIND)
        if content is None:
            self.cluster_id = new_cluster_id()
            self._producer_id_block_end = 0
            self._save_cluster()
        else:
            try:
                self.cluster_id = str(content["cluster_id"])
                self._producer_id_block_end = int(content.get("producer_id_block_end", 0))
            except (KeyError, ValueError, TypeError) as e:
                raise metafile.MetadataFileError(f"{path}: bad cluster metadata ({e})") from None
        self._next_producer_id = self._producer_id_block_end

    def _save_cluster(self) -> None:
        metafile.write(
            os.path.join(self.data_dir, CLUSTER_FILE),
            CLUSTER_KIND,
            {"cluster_id": self.cluster_id, "producer_id_block_end": self._producer_id_block_end},
            durable=self.config.fsync,
        )

    # -- API -----------------------------------------------------------------

    @property
    def runtime(self) -> StoreRuntime:
        """Shared store services (only while running)."""
        if self._runtime is None:
            raise RuntimeError("the store is not running")
        return self._runtime

    def vhost(self, name: str) -> VhostStore:
        """The vhost called C{name}, created on first use."""
        vhost = self._vhosts.get(name)
        if vhost is None:
            path = os.path.join(self.data_dir, VHOSTS_DIR, vhost_dir_name(name))
            try:
                vhost = VhostStore(name, path, self.runtime)
            except OSError as e:
                raise KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, f"cannot create vhost {name!r}: {e}") from None
            self._vhosts[name] = vhost
        return vhost

    def vhosts(self) -> list[VhostStore]:
        """Every vhost, sorted by name."""
        return [self._vhosts[name] for name in sorted(self._vhosts)]

    def partitions(self) -> list[PartitionLog]:
        """Every partition of every topic of every vhost."""
        return [p for vhost in self.vhosts() for p in vhost.partitions()]

    def _count_partitions(self) -> int:
        return sum(len(vhost.partitions()) for vhost in self._vhosts.values())

    def allocate_producer_id(self) -> int:
        """A producer id never handed out before, even across restarts.

        @raise KafkaError: C{KAFKA_STORAGE_ERROR} if the new id block cannot be persisted.
        """
        if self._next_producer_id >= self._producer_id_block_end:
            previous = self._producer_id_block_end
            self._producer_id_block_end = self._next_producer_id + PRODUCER_ID_BLOCK
            try:
                self._save_cluster()
            except OSError as e:
                self._producer_id_block_end = previous
                raise KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, f"cannot persist producer ids: {e}") from None
        producer_id = self._next_producer_id
        self._next_producer_id += 1
        return producer_id

    def sync(self) -> Deferred[None]:
        """Fires once an fsync covering every append made before the call has completed.

        Already fired when fsync is off. Errbacks with
        C{KafkaError(KAFKA_STORAGE_ERROR)} if the fsync fails.
        """
        return self.runtime.commit.sync()

    def run_retention(self) -> None:
        """Start a retention sweep now (it still runs in slices)."""
        if self._sweep is not None:
            self._sweep.run_now()

    def run_cleaner(self) -> Deferred[None]:
        """Clean the compacted partitions that need it now; fires once nothing is left to clean."""
        assert self.cleaner is not None, "the store is not started"
        return self.cleaner.run_now()
