# -*- test-case-name: tests.apis.test_metadata -*-
"""Authorized-operation bit sets reported by Metadata, DescribeCluster and friends.

There are no ACLs yet, so every client may do everything; Kafka encodes the
allowed operations as a bit per C{AclOperation} code.
"""

from __future__ import annotations

#: Kafka's "not requested" value for authorized-operations fields.
NOT_REQUESTED = -(2**31)

# AclOperation codes (org.apache.kafka.common.acl.AclOperation).
_READ, _WRITE, _CREATE, _DELETE, _ALTER, _DESCRIBE = 3, 4, 5, 6, 7, 8
_CLUSTER_ACTION, _DESCRIBE_CONFIGS, _ALTER_CONFIGS, _IDEMPOTENT_WRITE = 9, 10, 11, 12
_CREATE_TOKENS, _DESCRIBE_TOKENS = 13, 14


def _bits(*ops: int) -> int:
    value = 0
    for op in ops:
        value |= 1 << op
    return value


#: Everything a topic allows.
TOPIC_OPERATIONS = _bits(_READ, _WRITE, _CREATE, _DELETE, _ALTER, _DESCRIBE,
                         _DESCRIBE_CONFIGS, _ALTER_CONFIGS)
#: Everything the cluster allows.
CLUSTER_OPERATIONS = _bits(_CREATE, _ALTER, _DESCRIBE, _CLUSTER_ACTION, _DESCRIBE_CONFIGS,
                           _ALTER_CONFIGS, _IDEMPOTENT_WRITE, _CREATE_TOKENS, _DESCRIBE_TOKENS)
#: Everything a consumer group allows.
GROUP_OPERATIONS = _bits(_READ, _DELETE, _DESCRIBE)
