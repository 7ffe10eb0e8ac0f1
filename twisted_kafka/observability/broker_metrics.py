# -*- test-case-name: tests.observability.test_collectors -*-
"""Metrics of the broker, read when scraped: requests, connections, consumer groups.

L{RequestCollector} reports the counters the connections keep
(L{twisted_kafka.server.request_stats}); L{ConnectionCollector} counts the
open connections by listener and client software; L{GroupCollector}
reports each group's state, members and lag (per partition up to
C{max_partition_series} series, per topic always).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

import twisted_kafka
from twisted_kafka.errors import ErrorCode
from twisted_kafka.groups.group import GroupState
from twisted_kafka.observability.store_metrics import add_histogram
from twisted_kafka.observability.view import group_lag
from twisted_kafka.server.addresses import describe_address

if TYPE_CHECKING:
    from twisted_kafka.observability.view import BrokerView


def error_name(code: int) -> str:
    """Kafka's name of error C{code} (its number when this broker does not know it)."""
    try:
        return ErrorCode(code).name
    except ValueError:
        return str(code)


class RequestCollector(Collector):
    """Requests, errors, bytes and latency by API."""

    def __init__(self, view: BrokerView) -> None:
        self.view = view

    def _api(self, api_key: int) -> str:
        served = self.view.broker.registry.get(api_key)
        return served.name if served is not None else str(api_key)

    def collect(self) -> Iterator[Metric]:
        """Read the request counters now."""
        stats = self.view.broker.request_stats
        if stats is None:
            return
        requests = CounterMetricFamily("kafka_requests", "Requests answered, by API and version.",
                                       labels=["api", "version"])
        request_bytes: dict[str, int] = {}
        response_bytes: dict[str, int] = {}
        for api_key, version, counts in sorted(stats.version_counts(), key=lambda c: c[:2]):
            api = self._api(api_key)
            requests.add_metric([api, str(version)], counts.requests)
            request_bytes[api] = request_bytes.get(api, 0) + counts.request_bytes
            response_bytes[api] = response_bytes.get(api, 0) + counts.response_bytes
        yield requests
        errors = CounterMetricFamily(
            "kafka_request_errors",
            "Error codes in responses, by API and error (one per topic, partition or resource answered).",
            labels=["api", "error"])
        for api_key, code, count in sorted(stats.error_counts()):
            errors.add_metric([self._api(api_key), error_name(code)], count)
        yield errors
        for name, doc, table in (
                ("kafka_request_bytes", "Bytes of request frames, by API.", request_bytes),
                ("kafka_response_bytes", "Bytes of response frames, by API.", response_bytes)):
            family = CounterMetricFamily(name, doc, labels=["api"])
            for api, count in table.items():
                family.add_metric([api], count)
            yield family
        latency = HistogramMetricFamily(
            "kafka_request_duration_seconds",
            "Time from a request frame's arrival to its response's hand-over to the transport, by API.",
            labels=["api"])
        for api_key, histogram in sorted(stats.latency.items()):
            add_histogram(latency, histogram, [self._api(api_key)])
        yield latency


class ConnectionCollector(Collector):
    """Open connections by listener and client software; the broker's identity and uptime."""

    def __init__(self, view: BrokerView) -> None:
        self.view = view

    def collect(self) -> Iterator[Metric]:
        """Count the open connections now."""
        counts: Counter[tuple[str, str, str]] = Counter()
        for connection in self.view.connections():
            software = connection.client_software or ("unknown", "unknown")
            listener = describe_address(connection.transport.getHost())
            counts[(listener, software[0], software[1])] += 1
        family = GaugeMetricFamily(
            "kafka_connections",
            "Open client connections, by local address and client software (ApiVersions v3+).",
            labels=["listener", "client_software_name", "client_software_version"])
        for labels, count in sorted(counts.items()):
            family.add_metric(list(labels), count)
        yield family
        broker = self.view.broker
        info = GaugeMetricFamily("kafka_broker_info", "This broker: its version, node id and cluster id.",
                                 labels=["version", "node_id", "cluster_id"])
        info.add_metric([twisted_kafka.__version__, str(broker.node_id), broker.store.cluster_id], 1)
        yield info
        yield GaugeMetricFamily("kafka_broker_start_time_seconds",
                                "When the broker started (seconds since the epoch).",
                                value=broker.started_at)


class GroupCollector(Collector):
    """Consumer groups: state, members and lag to the high watermark."""

    def __init__(self, view: BrokerView) -> None:
        self.view = view

    def collect(self) -> Iterator[Metric]:
        """Read every loaded group now."""
        cap = self.view.max_partition_series
        states = GaugeMetricFamily("kafka_group_state", "1 for the state each group is in.",
                                   labels=["vhost", "group", "state"])
        members = GaugeMetricFamily("kafka_group_members", "Members of each group.", labels=["vhost", "group"])
        lag = GaugeMetricFamily("kafka_group_lag",
                                "Records between a group's committed offset and the partition's high watermark.",
                                labels=["vhost", "group", "topic", "partition"])
        committed = GaugeMetricFamily("kafka_group_committed_offset",
                                      "A group's committed offset in a partition.",
                                      labels=["vhost", "group", "topic", "partition"])
        topic_lag = GaugeMetricFamily("kafka_group_topic_lag",
                                      "Records between a group's committed offsets and the high watermarks, "
                                      "summed over a topic's partitions.",
                                      labels=["vhost", "group", "topic"])
        reported = dropped = 0
        for groups in self.view.vhost_groups():
            vhost = groups.vhost
            for group_id, group in sorted(groups.groups.items()):
                if group.state is GroupState.DEAD:
                    continue
                states.add_metric([vhost.name, group_id, group.state.value], 1)
                members.add_metric([vhost.name, group_id], len(group.members))
                sums: dict[str, int] = {}
                for position in group_lag(vhost, group):
                    if position.end < 0:
                        continue
                    sums[position.topic] = sums.get(position.topic, 0) + position.lag
                    if reported < cap:
                        reported += 1
                        labels = [vhost.name, group_id, position.topic, str(position.partition)]
                        lag.add_metric(labels, position.lag)
                        committed.add_metric(labels, position.committed)
                    else:
                        dropped += 1
                for topic, total in sorted(sums.items()):
                    topic_lag.add_metric([vhost.name, group_id, topic], total)
        yield from (states, members, lag, committed, topic_lag)
        yield GaugeMetricFamily(
            "kafka_group_series_dropped",
            "Group partitions whose lag series this scrape left out ([http] max_partition_series).",
            value=dropped)
