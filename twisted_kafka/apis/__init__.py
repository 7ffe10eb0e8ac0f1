# -*- test-case-name: tests.apis -*-
"""One module per Kafka API; L{build_registry} registers every one of them.

Each module names the versions it serves and exposes C{register(registry)}.
"""

from __future__ import annotations

import importlib

from twisted_kafka.server.registry import ResponderRegistry

#: Modules of twisted_kafka.apis that register a responder, in api-key order
#: of importance. A module that is not there yet is skipped.
API_MODULES = [
    "api_versions",
    "metadata",
    "produce",
    "fetch",
    "list_offsets",
    "offset_for_leader_epoch",
    "init_producer_id",
    "find_coordinator",
    "groups",
    "offsets",
    "create_topics",
    "delete_topics",
    "create_partitions",
    "configs",
    "describe_cluster",
    "delete_records",
]


def build_registry() -> ResponderRegistry:
    """Return a registry with every available API module registered."""
    registry = ResponderRegistry()
    for name in API_MODULES:
        try:
            module = importlib.import_module(f"twisted_kafka.apis.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"twisted_kafka.apis.{name}":
                raise
            continue
        module.register(registry)
    return registry
