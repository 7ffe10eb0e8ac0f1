# -*- test-case-name: tests.observability.test_collectors -*-
"""What the HTTP side looks at: the broker, its connections and its listeners.

L{BrokerView} gathers the objects tap.py builds, and answers the questions
both the metrics collectors and the JSON API ask (a group's lag, the open
connections) in one place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from twisted_kafka.groups.offset_log import OFFSETS_TOPIC

if TYPE_CHECKING:
    from twisted_kafka.broker import Broker
    from twisted_kafka.groups.coordinator import VhostGroups
    from twisted_kafka.groups.group import ClassicGroup
    from twisted_kafka.store.interfaces import IVhost


class PartitionLag(NamedTuple):
    """A group's position in one partition.

    @ivar committed: the committed offset.
    @ivar end: the partition's high watermark (-1 if the partition is gone).
    @ivar lag: records between them (0 when the committed offset is ahead).
    """

    topic: str
    partition: int
    committed: int
    end: int
    lag: int


@dataclass
class BrokerView:
    """The broker as the HTTP side sees it.

    @ivar broker: the broker (store, groups, registry, config).
    @ivar connections: returns the open client connections (the factory's set).
    @ivar listeners: returns the Kafka listeners' descriptions and whether
        each is listening.
    @ivar max_partition_series: the most per-partition series one scrape
        reports (C{[http] max_partition_series}).
    @ivar max_peek_records: the most records one records request returns.
    """

    broker: Broker
    connections: Callable[[], Iterable[Any]] = lambda: ()
    listeners: Callable[[], Sequence[tuple[str, bool]]] = lambda: ()
    max_partition_series: int = 10000
    max_peek_records: int = 500

    def vhost_groups(self) -> list[VhostGroups]:
        """The loaded groups of every vhost, by vhost name."""
        return sorted(self.broker.groups.loaded(), key=lambda g: g.vhost.name)

    def groups_of(self, vhost: IVhost) -> VhostGroups | None:
        """The groups of C{vhost}, if its offsets log exists (never creates it)."""
        for groups in self.broker.groups.loaded():
            if groups.vhost.name == vhost.name:
                return groups
        if vhost.topic(OFFSETS_TOPIC) is None:
            return None
        return self.broker.groups.for_vhost(vhost)

    def ready(self) -> tuple[bool, list[str]]:
        """Whether the store has recovered and every listener is up, and what is not."""
        problems = []
        if not self.broker.store.running:
            problems.append("store not open")
        for description, listening in self.listeners():
            if not listening:
                problems.append(f"listener {description} not listening")
        return not problems, problems


def group_lag(vhost: IVhost, group: ClassicGroup) -> list[PartitionLag]:
    """The group's committed offset, the high watermark and the lag of each partition, sorted."""
    out = []
    topics: dict[str, Any] = {}
    for (topic_name, index), committed in sorted(group.offsets.items()):
        if topic_name not in topics:
            topics[topic_name] = vhost.topic(topic_name)
        topic = topics[topic_name]
        end = -1
        if topic is not None and index < len(topic.partitions):
            end = topic.partitions[index].high_watermark
        lag = max(end - committed.offset, 0) if end >= 0 else 0
        out.append(PartitionLag(topic_name, index, committed.offset, end, lag))
    return out
