# -*- test-case-name: tests.apis -*-
"""The responders: one module per Kafka API, or per family of APIs.

Naming rule: a module serving one API is named after it in snake case
(C{create_topics}, C{list_offsets}); a module serving a family of APIs that
share their rules is named after the family with C{_apis}
(C{group_apis}: JoinGroup, SyncGroup, Heartbeat, LeaveGroup, DescribeGroups,
ListGroups, DeleteGroups; C{offset_apis}: OffsetCommit, OffsetFetch,
OffsetDelete; C{config_apis}: DescribeConfigs, AlterConfigs,
IncrementalAlterConfigs; C{sasl_apis}: SaslHandshake, SaslAuthenticate; C{scram_credential_apis}:
DescribeUserScramCredentials, AlterUserScramCredentials; C{acl_apis}:
DescribeAcls, CreateAcls, DeleteAcls).  Every such module exposes C{register(registry)}.
What responders share and that answers no API by itself lives in
L{twisted_kafka.apis.support}.  L{build_registry} registers every module.
"""

from __future__ import annotations

import importlib

from twisted_kafka.server.registry import ResponderRegistry

#: The modules of twisted_kafka.apis that register responders.
API_MODULES = [
    "api_versions",
    "metadata",
    "produce",
    "fetch",
    "list_offsets",
    "offset_for_leader_epoch",
    "init_producer_id",
    "find_coordinator",
    "group_apis",
    "offset_apis",
    "create_topics",
    "delete_topics",
    "create_partitions",
    "config_apis",
    "describe_cluster",
    "delete_records",
    "sasl_apis",
    "scram_credential_apis",
    "acl_apis",
]


def build_registry() -> ResponderRegistry:
    """Return a registry with every API module registered."""
    registry = ResponderRegistry()
    for name in API_MODULES:
        importlib.import_module(f"twisted_kafka.apis.{name}").register(registry)
    return registry
