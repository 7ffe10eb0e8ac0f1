# -*- test-case-name: tests.observability.test_collectors -*-
"""The Prometheus registry of one broker: its collectors and the process's CPU and memory."""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, PlatformCollector, ProcessCollector

from twisted_kafka.observability.broker_metrics import ConnectionCollector, GroupCollector, RequestCollector
from twisted_kafka.observability.store_metrics import StoreCollector

if TYPE_CHECKING:
    from twisted_kafka.observability.view import BrokerView


def build_registry(view: BrokerView, process: bool = True) -> CollectorRegistry:
    """A registry of every broker collector (not the global one: one per broker).

    @param process: also report the process's CPU, memory and file
        descriptors (C{process_*}) and the Python version.
    """
    registry = CollectorRegistry(auto_describe=False)
    for collector in (RequestCollector(view), ConnectionCollector(view), GroupCollector(view),
                      StoreCollector(view)):
        registry.register(collector)
    if process:
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
    return registry
