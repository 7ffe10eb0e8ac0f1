# -*- test-case-name: tests.observability.test_collectors -*-
"""Tests for the collectors of L{twisted_kafka.observability}: what a scrape reports."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from tests.observability.helpers import observed_broker, scrape


def labels(**values: str) -> tuple[tuple[str, str], ...]:
    """Sorted label pairs, as L{scrape} keys them."""
    return tuple(sorted(values.items()))


class StoreCollectorTests(SynchronousTestCase):
    """Partitions, topics, the data directory and the store's work."""

    def test_partition_offsets_and_sizes(self) -> None:
        """Each partition's log start and end offsets and size are reported."""
        broker, view = observed_broker(self)
        samples = scrape(view)
        p0 = labels(vhost="/", topic="orders", partition="0")
        self.assertEqual(samples[("kafka_partition_log_end_offset", p0)], 5)
        self.assertEqual(samples[("kafka_partition_log_start_offset", p0)], 0)
        size = broker.store.vhost("/").topic("orders").partitions[0].size_bytes()  # type: ignore[union-attr]
        self.assertEqual(samples[("kafka_partition_size_bytes", p0)], size)
        self.assertGreater(size, 0)

    def test_topic_traffic(self) -> None:
        """Records and bytes in are summed over a topic's partitions."""
        _, view = observed_broker(self)
        samples = scrape(view)
        orders = labels(vhost="/", topic="orders")
        self.assertEqual(samples[("kafka_topic_in_records_total", orders)], 7)
        self.assertEqual(samples[("kafka_topic_partitions", orders)], 2)
        self.assertEqual(samples[("kafka_topic_in_records_total", labels(vhost="/", topic="audit"))], 0)

    def test_partition_cap(self) -> None:
        """Past C{max_partition_series}, partition series are dropped and counted; topic series stay."""
        _, view = observed_broker(self, max_partition_series=2)
        samples = scrape(view)
        ends = [k for k in samples if k[0] == "kafka_partition_log_end_offset"]
        self.assertEqual(len(ends), 2)
        # audit-0, orders-0, orders-1 and __consumer_offsets-0: two left out
        self.assertEqual(samples[("kafka_partition_series_dropped", ())], 2)
        self.assertIn(("kafka_topic_size_bytes", labels(vhost="/", topic="orders")), samples)

    def test_data_dir(self) -> None:
        """The data directory's free space is reported."""
        _, view = observed_broker(self)
        self.assertGreater(scrape(view)[("kafka_data_dir_free_bytes", ())], 0)


class GroupCollectorTests(SynchronousTestCase):
    """Consumer groups' lag, state and members."""

    def test_lag(self) -> None:
        """Lag is the high watermark minus the committed offset, per partition and per topic."""
        _, view = observed_broker(self)
        samples = scrape(view)
        self.assertEqual(samples[("kafka_group_lag", labels(
            vhost="/", group="billing", topic="orders", partition="0"))], 2)
        self.assertEqual(samples[("kafka_group_lag", labels(
            vhost="/", group="billing", topic="orders", partition="1"))], 0)
        self.assertEqual(samples[("kafka_group_topic_lag", labels(
            vhost="/", group="billing", topic="orders"))], 2)
        self.assertEqual(samples[("kafka_group_committed_offset", labels(
            vhost="/", group="billing", topic="orders", partition="0"))], 3)

    def test_state(self) -> None:
        """A group with no members is Empty."""
        _, view = observed_broker(self)
        samples = scrape(view)
        self.assertEqual(samples[("kafka_group_state", labels(vhost="/", group="billing", state="Empty"))], 1)
        self.assertEqual(samples[("kafka_group_members", labels(vhost="/", group="billing"))], 0)


class RequestCollectorTests(SynchronousTestCase):
    """The request counters, as reported."""

    def test_counts_named(self) -> None:
        """Requests, errors and latency are labelled with Kafka's API and error names."""
        broker, view = observed_broker(self)
        stats = broker.request_stats
        assert stats is not None
        framer = stats.request(0, 9, 100, lambda body: [b"\0\0\0\x02", b"xx"], _Connection())
        framer({"responses": [{"name": "t", "partition_responses": [{"index": 0, "error_code": 3}]}]})
        stats.clock = lambda: 10.002
        stats.responded(0, 10.0)
        samples = scrape(view)
        self.assertEqual(samples[("kafka_requests_total", labels(api="Produce", version="9"))], 1)
        self.assertEqual(samples[("kafka_request_errors_total", labels(
            api="Produce", error="UNKNOWN_TOPIC_OR_PARTITION"))], 1)
        self.assertEqual(samples[("kafka_request_bytes_total", labels(api="Produce"))], 100)
        self.assertEqual(samples[("kafka_response_bytes_total", labels(api="Produce"))], 6)
        self.assertEqual(samples[("kafka_request_duration_seconds_bucket", labels(api="Produce", le="0.001"))], 0)
        self.assertEqual(samples[("kafka_request_duration_seconds_bucket", labels(api="Produce", le="0.0025"))], 1)

    def test_no_stats(self) -> None:
        """A broker keeping no request statistics reports no request series."""
        broker, view = observed_broker(self)
        broker.request_stats = None
        self.assertFalse([k for k in scrape(view) if k[0].startswith("kafka_requests")])


class _Connection:
    """What the request counters add a response's bytes to."""

    bytes_out = 0
