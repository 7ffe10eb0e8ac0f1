# -*- test-case-name: tests.observability.test_collectors -*-
"""Metrics of the store, read when scraped: partitions, topics, disk, fsync, retention, cleaner.

L{StoreCollector} walks every vhost's topics once per scrape.  Topic series
(size, partitions, bytes and records in and out) are always reported;
per-partition series (log start and end offsets, size) stop after
C{max_partition_series} partitions, in (vhost, topic, partition) order, and
C{kafka_partition_series_dropped} says how many were left out.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from twisted_kafka.store.stats import BucketCounts

if TYPE_CHECKING:
    from twisted_kafka.observability.view import BrokerView

TOPIC = ["vhost", "topic"]
PARTITION = ["vhost", "topic", "partition"]


def histogram(name: str, documentation: str, counts: BucketCounts,
              labels: list[str] | None = None, values: list[str] | None = None) -> HistogramMetricFamily:
    """A Prometheus histogram of plain L{BucketCounts}."""
    family = HistogramMetricFamily(name, documentation, labels=labels)
    add_histogram(family, counts, values or [])
    return family


def add_histogram(family: HistogramMetricFamily, counts: BucketCounts, values: list[str]) -> None:
    """Add the series of C{counts} with label C{values} to C{family}."""
    buckets = [("+Inf" if bound == float("inf") else repr(bound), float(n))
               for bound, n in counts.cumulative()]
    family.add_metric(values, buckets, counts.total)


class StoreCollector(Collector):
    """Partitions' offsets and sizes, topics' traffic, the data directory and the store's work."""

    def __init__(self, view: BrokerView) -> None:
        self.view = view

    def collect(self) -> Iterator[Metric]:
        """Read the store now."""
        store = self.view.broker.store
        cap = self.view.max_partition_series
        start = GaugeMetricFamily("kafka_partition_log_start_offset",
                                  "The first offset of the partition that can be read.", labels=PARTITION)
        end = GaugeMetricFamily("kafka_partition_log_end_offset",
                                "The partition's high watermark: the next offset to be written.",
                                labels=PARTITION)
        psize = GaugeMetricFamily("kafka_partition_size_bytes",
                                  "Bytes of the partition's segments on disk.", labels=PARTITION)
        tsize = GaugeMetricFamily("kafka_topic_size_bytes",
                                  "Bytes of the topic's segments on disk.", labels=TOPIC)
        tparts = GaugeMetricFamily("kafka_topic_partitions", "Partitions of the topic.", labels=TOPIC)
        bytes_in = CounterMetricFamily("kafka_topic_in_bytes", "Bytes of record batches appended to the topic.",
                                       labels=TOPIC)
        records_in = CounterMetricFamily("kafka_topic_in_records",
                                         "Records (offsets) appended to the topic.", labels=TOPIC)
        bytes_out = CounterMetricFamily("kafka_topic_out_bytes",
                                        "Bytes of record batches read from the topic (Fetch and internal readers).",
                                        labels=TOPIC)
        reported = dropped = 0
        for vhost in store.vhosts():
            for topic in vhost.topics():
                labels = [vhost.name, topic.name]
                size = b_in = r_in = b_out = 0
                for partition in topic.partitions:
                    p_size = partition.size_bytes()
                    size += p_size
                    b_in += partition.bytes_in
                    r_in += partition.records_in
                    b_out += partition.bytes_out
                    if reported < cap:
                        reported += 1
                        p_labels = labels + [str(partition.index)]
                        start.add_metric(p_labels, partition.log_start_offset)
                        end.add_metric(p_labels, partition.high_watermark)
                        psize.add_metric(p_labels, p_size)
                    else:
                        dropped += 1
                tsize.add_metric(labels, size)
                tparts.add_metric(labels, len(topic.partitions))
                bytes_in.add_metric(labels, b_in)
                records_in.add_metric(labels, r_in)
                bytes_out.add_metric(labels, b_out)
        yield from (start, end, psize, tsize, tparts, bytes_in, records_in, bytes_out)
        yield GaugeMetricFamily(
            "kafka_partition_series_dropped",
            "Partitions whose per-partition series this scrape left out ([http] max_partition_series).",
            value=dropped)
        yield from self._disk(store.data_dir)
        yield from self._work()

    def _disk(self, data_dir: str) -> Iterator[Metric]:
        try:
            fs = os.statvfs(data_dir)
        except OSError:
            return
        yield GaugeMetricFamily("kafka_data_dir_free_bytes",
                                "Bytes available to the broker in the data directory's file system.",
                                value=fs.f_bavail * fs.f_frsize)
        yield GaugeMetricFamily("kafka_data_dir_size_bytes",
                                "Size of the data directory's file system.",
                                value=fs.f_blocks * fs.f_frsize)

    def _work(self) -> Iterator[Metric]:
        stats = self.view.broker.store.stats
        yield histogram("kafka_store_fsync_duration_seconds",
                        "Duration of each group-commit fsync round.", stats.fsync_seconds)
        yield histogram("kafka_store_fsync_round_files",
                        "Files (segments, indexes, directories) each fsync round covered.", stats.fsync_files)
        errors = CounterMetricFamily("kafka_store_errors", "Store operations that failed with an I/O error.",
                                     labels=["operation"])
        errors.add_metric(["fsync"], stats.fsync_failures)
        errors.add_metric(["append"], stats.append_failures)
        errors.add_metric(["read"], stats.read_failures)
        yield errors
        yield CounterMetricFamily("kafka_retention_deleted_segments",
                                  "Segments deleted by retention and DeleteRecords.",
                                  value=stats.retention_segments)
        yield CounterMetricFamily("kafka_retention_deleted_bytes",
                                  "Bytes of the segments deleted by retention and DeleteRecords.",
                                  value=stats.retention_bytes)
        yield CounterMetricFamily("kafka_cleaner_passes", "Log cleaner passes finished.",
                                  value=stats.cleaner_passes)
        yield CounterMetricFamily("kafka_cleaner_read_bytes", "Bytes the log cleaner read.",
                                  value=stats.cleaner_bytes_read)
        yield CounterMetricFamily("kafka_cleaner_written_bytes", "Bytes the log cleaner wrote.",
                                  value=stats.cleaner_bytes_written)
        yield CounterMetricFamily("kafka_cleaner_removed_records",
                                  "Records the log cleaner removed (superseded values, expired tombstones).",
                                  value=stats.cleaner_records_removed)
