# -*- test-case-name: tests.apis.test_group_apis -*-
"""FindCoordinator (api key 10), versions 0-6: this broker coordinates every group.

v0-3 ask for one key, v4+ for a batch of keys (KIP-699), each answered with
this node and the address the client connected to (or the advertised one).
Key type 0 (consumer groups) is served.  Key type 1 (transactional ids) gets
TRANSACTIONAL_ID_AUTHORIZATION_FAILED with a message saying transactions are
not supported: Java clients and librdkafka treat that error as fatal, so a
transactional producer fails at once instead of retrying
COORDINATOR_NOT_AVAILABLE until its timeout (InitProducerId answers a
transactional id the same way).  Key type 2 (share groups, v6) and unknown
key types get INVALID_REQUEST.
"""

from __future__ import annotations

from twisted_kafka.errors import ErrorCode
from twisted_kafka.protocol.messages import Fields
from twisted_kafka.server.authorizer import AclOperation, Need, ResourceType
from twisted_kafka.server.context import RequestContext
from twisted_kafka.server.registry import ResponderRegistry

API_KEY = 10
MIN_VERSION = 0
MAX_VERSION = 6

GROUP_KEY = 0
TRANSACTION_KEY = 1
SHARE_KEY = 2

_KEY_TYPE_ERRORS = {
    TRANSACTION_KEY: (ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
                      "Transactions are not supported by this broker."),
    SHARE_KEY: (ErrorCode.INVALID_REQUEST, "Share groups are not supported by this broker."),
}


def _coordinator(key: str, key_type: int, context: RequestContext) -> Fields:
    """Return the answer for one key (v4+ field names)."""
    if key_type != GROUP_KEY:
        code, message = _KEY_TYPE_ERRORS.get(
            key_type, (ErrorCode.INVALID_REQUEST, f"Unknown coordinator key type {key_type}."))
        return {"key": key, "node_id": -1, "host": "", "port": -1,
                "error_code": code, "error_message": message}
    if context.access.refused(ResourceType.GROUP, key):
        return {"key": key, "node_id": -1, "host": "", "port": -1,
                "error_code": ErrorCode.GROUP_AUTHORIZATION_FAILED,
                "error_message": f"not authorized to access group {key!r}"}
    return {"key": key, "node_id": context.broker.node_id, "host": context.advertised_host,
            "port": context.advertised_port, "error_code": ErrorCode.NONE,
            "error_message": None}


def respond(request: Fields, context: RequestContext) -> Fields:
    """Answer a FindCoordinator request."""
    key_type = request.get("key_type", GROUP_KEY)
    if context.api_version >= 4:
        return {"throttle_time_ms": 0,
                "coordinators": [_coordinator(key, key_type, context)
                                 for key in request["coordinator_keys"]]}
    answer = _coordinator(request["key"], key_type, context)
    return {"throttle_time_ms": 0, "error_code": answer["error_code"],
            "error_message": answer["error_message"], "node_id": answer["node_id"],
            "host": answer["host"], "port": answer["port"]}


def register(registry: ResponderRegistry) -> None:
    """Serve FindCoordinator."""
    registry.register(API_KEY, "FindCoordinator", MIN_VERSION, MAX_VERSION, respond,
                      (Need(ResourceType.GROUP, AclOperation.DESCRIBE, _group_keys),))


def _group_keys(request: Fields) -> list[str]:
    if request.get("key_type", GROUP_KEY) != GROUP_KEY:
        return []
    if "coordinator_keys" in request:
        return list(request["coordinator_keys"])
    return [request["key"]]
