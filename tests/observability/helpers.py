# -*- test-case-name: tests.observability -*-
"""A real broker (store on temporary files, fake clock) seen by the HTTP side, and scrapes of it."""

from __future__ import annotations

from typing import Any

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from twisted.trial.unittest import SynchronousTestCase

from tests.apis.offset_apis_support import commit_offsets
from tests.apis.support import make_broker
from tests.store.helpers import make_batch
from twisted_kafka.broker import Broker
from twisted_kafka.observability.registry import build_registry
from twisted_kafka.observability.view import BrokerView
from twisted_kafka.server.request_stats import RequestStats


def observed_broker(case: SynchronousTestCase, **view: Any) -> tuple[Broker, BrokerView]:
    """A started broker keeping request statistics, with topics "orders" (2 partitions) and "audit".

    "orders" holds 5 records in partition 0 and 2 in partition 1; group
    "billing" committed offset 3 in partition 0 and 2 in partition 1.
    """
    broker = make_broker(case)
    broker.request_stats = RequestStats()
    vhost = broker.store.vhost("/")
    orders = vhost.create_topic("orders", 2)
    vhost.create_topic("audit", 1)
    orders.partitions[0].append(make_batch(5))
    orders.partitions[1].append(make_batch(2))
    commit_offsets(broker, "billing", {("orders", 0): 3, ("orders", 1): 2})
    return broker, BrokerView(broker, **view)


def scrape(view: BrokerView) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Scrape the registry of C{view} as Prometheus would; {(sample name, sorted labels): value}."""
    text = generate_latest(build_registry(view, process=False)).decode()
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples
