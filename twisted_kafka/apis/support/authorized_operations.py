# -*- test-case-name: tests.apis.test_admin_cluster -*-
"""Authorized-operation bit sets reported by Metadata, DescribeCluster and DescribeGroups.

Kafka encodes the operations a client may perform on a resource as a bit per
L{AclOperation} code.  There are no ACLs yet (the broker's authorizer allows
everything), so these are everything each resource type allows.
"""

from __future__ import annotations

from twisted_kafka.server.authorizer import AclOperation

#: Kafka's "not requested" value for authorized-operations fields.
NOT_REQUESTED = -(2**31)


def _bits(*ops: AclOperation) -> int:
    value = 0
    for op in ops:
        value |= 1 << op
    return value


_Op = AclOperation
#: Everything a topic allows.
TOPIC_OPERATIONS = _bits(_Op.READ, _Op.WRITE, _Op.CREATE, _Op.DELETE, _Op.ALTER, _Op.DESCRIBE,
                         _Op.DESCRIBE_CONFIGS, _Op.ALTER_CONFIGS)
#: Everything the cluster allows.
CLUSTER_OPERATIONS = _bits(_Op.CREATE, _Op.ALTER, _Op.DESCRIBE, _Op.CLUSTER_ACTION,
                           _Op.DESCRIBE_CONFIGS, _Op.ALTER_CONFIGS, _Op.IDEMPOTENT_WRITE,
                           _Op.CREATE_TOKENS, _Op.DESCRIBE_TOKENS)
#: Everything a consumer group allows.
GROUP_OPERATIONS = _bits(_Op.READ, _Op.DELETE, _Op.DESCRIBE)
