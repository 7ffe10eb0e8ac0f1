# -*- test-case-name: tests.groups.test_coordinator -*-
"""The broker's group coordinator: per-vhost groups, loaded from their offsets log.

L{GroupCoordinator} is a Twisted service.  It is the coordinator of every
group (this is a single-node cluster).  Each vhost's groups
(L{VhostGroups}) are loaded the first time that vhost is used, by replaying
its offsets log, and at start-up for every vhost that has one.  While
running, it expires offsets and removes dead groups every
C{offsets_retention_check_interval_ms}.  Group membership is not persisted:
after a restart every group is Empty and its members rejoin, as when a Kafka
group's coordinator moves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from twisted.application.service import Service
from twisted.internet.task import LoopingCall
from twisted.logger import Logger

from twisted_kafka.errors import ErrorCode, KafkaError
from twisted_kafka.groups.committed import CommittedOffsets, TopicInfo
from twisted_kafka.groups.group import ClassicGroup
from twisted_kafka.groups.membership import Membership
from twisted_kafka.groups.offset_log import OFFSETS_TOPIC, OffsetLog, open_offsets_partition
from twisted_kafka.groups.settings import GroupSettings
from twisted_kafka.store.interfaces import IStore, IVhost

if TYPE_CHECKING:
    from twisted.internet.interfaces import IReactorTime

    from twisted_kafka.config import BrokerConfig


class VhostGroups:
    """The groups of one vhost: their membership protocol, offsets and log.

    @ivar groups: the groups by id.
    @ivar membership: JoinGroup, SyncGroup, Heartbeat, LeaveGroup, DeleteGroups.
    @ivar offsets: OffsetCommit, OffsetFetch, OffsetDelete, expiry.
    @ivar log: the durable offsets log.
    """

    def __init__(self, vhost: IVhost, store: IStore, clock: IReactorTime, settings: GroupSettings) -> None:
        """Open (creating if needed) the vhost's offsets log; call L{load} next.

        @raise KafkaError: when the offsets log cannot be opened.
        """
        self.vhost = vhost
        self.groups: dict[str, ClassicGroup] = {}
        self.log = OffsetLog(open_offsets_partition(vhost), store, clock, self.groups)
        self.membership = Membership(self.groups, clock, settings, journal=self.log)
        self.offsets = CommittedOffsets(self.membership, self.topic_info, journal=self.log)

    def topic_info(self, name: str) -> TopicInfo | None:
        """Return the id and partition count of topic C{name}, if it exists."""
        topic = self.vhost.topic(name)
        if topic is None:
            return None
        return topic.topic_id, len(topic.partitions)

    def load(self) -> int:
        """Replay the offsets log; return the number of records read."""
        count = self.log.replay()
        self.log.maybe_compact()
        return count

    def close(self) -> None:
        """Cancel every timer and stop compacting."""
        self.membership.shutdown()
        self.log.close()


class GroupCoordinator(Service):
    """Coordinates every consumer group of every vhost.

    Usable without being started (groups load on first use); started, it
    also loads every vhost's groups at once and runs offset expiry.
    """

    log = Logger()

    def __init__(self, store: IStore, reactor: IReactorTime, config: BrokerConfig) -> None:
        self.store = store
        self.reactor = reactor
        self.settings = GroupSettings.from_config(config)
        self._vhosts: dict[str, VhostGroups] = {}
        self._expiry: LoopingCall | None = None

    def for_vhost(self, vhost: IVhost) -> VhostGroups:
        """Return the groups of C{vhost}, loading them on first use.

        @raise KafkaError: COORDINATOR_NOT_AVAILABLE when the offsets log
            cannot be opened or read.
        """
        groups = self._vhosts.get(vhost.name)
        if groups is not None and groups.vhost is vhost:
            return groups
        try:
            groups = VhostGroups(vhost, self.store, self.reactor, self.settings)
            count = groups.load()
        except (KafkaError, OSError) as e:
            self.log.error("Cannot load the groups of vhost {vhost}: {error}",
                           vhost=vhost.name, error=e)
            raise KafkaError(ErrorCode.COORDINATOR_NOT_AVAILABLE,
                             f"the group coordinator of vhost {vhost.name!r} is not available")
        self.log.info("Loaded {groups} groups of vhost {vhost} ({records} offsets log records)",
                      groups=len(groups.groups), vhost=vhost.name, records=count)
        self._vhosts[vhost.name] = groups
        return groups

    def loaded(self) -> list[VhostGroups]:
        """The vhosts whose groups are loaded."""
        return list(self._vhosts.values())

    def expire_offsets(self) -> int:
        """Expire offsets and remove dead groups in every loaded vhost; return the offsets dropped."""
        dropped = 0
        for groups in self.loaded():
            dropped += groups.offsets.expire()
        if dropped:
            self.log.info("Expired {count} committed offsets", count=dropped)
        return dropped

    def topic_deleted(self, vhost: IVhost) -> None:
        """Drop the offsets of topics deleted from C{vhost} now rather than at the next expiry."""
        groups = self._vhosts.get(vhost.name)
        if groups is not None:
            groups.offsets.expire()

    def startService(self) -> None:
        """Load the groups of every vhost that has an offsets log; start expiry."""
        Service.startService(self)
        for vhost in self.store.vhosts():
            if vhost.topic(OFFSETS_TOPIC) is not None:
                try:
                    self.for_vhost(vhost)
                except KafkaError:
                    pass
        self._expiry = LoopingCall(self.expire_offsets)
        self._expiry.clock = self.reactor
        self._expiry.start(self.settings.offsets_retention_check_interval_ms / 1000.0, now=False)

    def stopService(self) -> None:
        """Stop expiry and every group timer."""
        Service.stopService(self)
        if self._expiry is not None and self._expiry.running:
            self._expiry.stop()
        self._expiry = None
        for groups in self._vhosts.values():
            groups.close()
