# -*- test-case-name: tests.apis.test_produce -*-
"""InitProducerId (api key 22), versions 0-5: producer ids for idempotent producers.

Ids come from the store, which persists its allocation so they stay unique
across restarts.  As in Kafka's transaction coordinator, a request without a
transactional id always gets a fresh id with epoch 0, also when it names the
id and epoch it had (KIP-360): the old id's sequence state is then simply
never used again.  A transactional id gets
TRANSACTIONAL_ID_AUTHORIZATION_FAILED: there are no transactions yet, and
clients report that error at once instead of retrying.  An idempotent
producer needs Cluster/IdempotentWrite or Write on some topic, as in Kafka
(else CLUSTER_AUTHORIZATION_FAILED).
"""

from __future__ import annotations

from twisted_kafka.errors import ErrorCode
from twisted_kafka.protocol.messages import Fields
from twisted_kafka.server.authorizer import (
    ANY_RESOURCE, CLUSTER_NAME, AclOperation, Need, ResourceType)
from twisted_kafka.server.context import RequestContext
from twisted_kafka.server.registry import ResponderRegistry

API_KEY = 22
MIN_VERSION = 0
MAX_VERSION = 5


def respond(request: Fields, context: RequestContext) -> Fields:
    """Answer an InitProducerId request."""
    if request.get("transactional_id") is not None:
        return {"throttle_time_ms": 0,
                "error_code": ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
                "producer_id": -1, "producer_epoch": -1}
    access = context.access
    if (not access.allows(AclOperation.IDEMPOTENT_WRITE, ResourceType.CLUSTER, CLUSTER_NAME)
            and not access.allows(AclOperation.WRITE, ResourceType.TOPIC, ANY_RESOURCE)):
        return {"throttle_time_ms": 0, "error_code": ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
                "producer_id": -1, "producer_epoch": -1}
    producer_id = context.broker.store.allocate_producer_id()
    return {"throttle_time_ms": 0, "error_code": ErrorCode.NONE,
            "producer_id": producer_id, "producer_epoch": 0}


def register(registry: ResponderRegistry) -> None:
    """Serve InitProducerId."""
    # Idempotence without a transactional id: Cluster/IdempotentWrite or
    # Write on any topic, asked by the responder (Kafka's authorizeByResourceType).
    registry.register(API_KEY, "InitProducerId", MIN_VERSION, MAX_VERSION, respond,
                      (Need(ResourceType.TRANSACTIONAL_ID, AclOperation.WRITE,
                            _transactional_id),))


def _transactional_id(request: Fields) -> list[str]:
    transactional_id = request.get("transactional_id")
    return [] if transactional_id is None else [transactional_id]
