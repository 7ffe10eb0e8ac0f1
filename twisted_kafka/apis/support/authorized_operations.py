# -*- test-case-name: tests.apis.test_admin_cluster -*-
"""Authorized-operation bit sets reported by Metadata, DescribeCluster and DescribeGroups.

Kafka encodes the operations a client may perform on a resource as a bit per
L{AclOperation} code.  L{authorized_operations} asks the request's access
about each operation the resource type has; without an authorizer that is
everything the type allows (the constants below), without asking.
"""

from __future__ import annotations

from twisted_kafka.server.authorizer import ALLOW_ALL, AclOperation, RequestAccess, ResourceType

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


_BY_TYPE = {ResourceType.TOPIC: TOPIC_OPERATIONS, ResourceType.CLUSTER: CLUSTER_OPERATIONS,
            ResourceType.GROUP: GROUP_OPERATIONS}


def authorized_operations(access: RequestAccess, resource_type: ResourceType, name: str) -> int:
    """Return the bit set of the operations C{access} allows on the named resource."""
    every = _BY_TYPE[resource_type]
    if access is ALLOW_ALL:
        return every
    bits = 0
    for operation in AclOperation:
        if every & (1 << operation) and access.allows(operation, resource_type, name):
            bits |= 1 << operation
    return bits
