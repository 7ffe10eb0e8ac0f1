# -*- test-case-name: tests.apis.test_admin_cluster -*-
"""DescribeCluster (api key 60), versions 0-2: the cluster id and its one broker.

A single-node cluster: the broker list holds this broker (the address the
client connected to, or the advertised one), which is also the controller.
Only the broker endpoint type (1) is served: from v1 asking for controllers
(2) gets MISMATCHED_ENDPOINT_TYPE and an unknown type
UNSUPPORTED_ENDPOINT_TYPE; v0 has neither code, so both are INVALID_REQUEST
there, as in Kafka.  v2's C{is_fenced} is always false: the broker is never
fenced, so C{include_fenced_brokers} changes nothing.
"""

from __future__ import annotations

from twisted_kafka.apis.support.authorized_operations import NOT_REQUESTED, authorized_operations
from twisted_kafka.apis.metadata import broker_entry
from twisted_kafka.errors import ErrorCode
from twisted_kafka.protocol.messages import Fields
from twisted_kafka.server.authorizer import CLUSTER_NAME, AclOperation, Need, ResourceType, cluster
from twisted_kafka.server.context import RequestContext
from twisted_kafka.server.registry import ResponderRegistry

API_KEY = 60
MIN_VERSION = 0
MAX_VERSION = 2

BROKER_ENDPOINTS = 1
CONTROLLER_ENDPOINTS = 2


def _endpoint_error(version: int, endpoint_type: int) -> tuple[ErrorCode, str] | None:
    """Return the error for a request asking for C{endpoint_type}, if any."""
    if endpoint_type == BROKER_ENDPOINTS:
        return None
    if endpoint_type == CONTROLLER_ENDPOINTS:
        code = ErrorCode.MISMATCHED_ENDPOINT_TYPE
        message = ("The request was sent to an endpoint of type BROKER, "
                   "but we wanted an endpoint of type CONTROLLER")
    else:
        code = ErrorCode.UNSUPPORTED_ENDPOINT_TYPE
        message = f"Unsupported endpoint type {endpoint_type}"
    return (ErrorCode.INVALID_REQUEST if version == 0 else code), message


def respond(request: Fields, context: RequestContext) -> Fields:
    """Answer a DescribeCluster request."""
    broker = context.broker
    endpoint_type = request.get("endpoint_type", BROKER_ENDPOINTS)
    error = _endpoint_error(context.api_version, endpoint_type)
    if error is None and context.access.refused(ResourceType.CLUSTER, CLUSTER_NAME):
        error = ErrorCode.CLUSTER_AUTHORIZATION_FAILED, "not authorized to describe the cluster"
    if error is not None:
        return {
            "throttle_time_ms": 0,
            "error_code": error[0],
            "error_message": error[1],
            "endpoint_type": endpoint_type,
            "cluster_id": "",
            "controller_id": -1,
            "brokers": [],
            "cluster_authorized_operations": NOT_REQUESTED,
        }
    entry = broker_entry(context)
    return {
        "throttle_time_ms": 0,
        "error_code": ErrorCode.NONE,
        "error_message": None,
        "endpoint_type": BROKER_ENDPOINTS,
        "cluster_id": broker.store.cluster_id,
        "controller_id": broker.node_id,
        "brokers": [{
            "broker_id": entry["node_id"],
            "host": entry["host"],
            "port": entry["port"],
            "rack": entry["rack"],
            "is_fenced": False,
        }],
        "cluster_authorized_operations": (
            authorized_operations(context.access, ResourceType.CLUSTER, CLUSTER_NAME)
            if request.get("include_cluster_authorized_operations")
            else NOT_REQUESTED
        ),
    }


def register(registry: ResponderRegistry) -> None:
    """Serve DescribeCluster."""
    registry.register(API_KEY, "DescribeCluster", MIN_VERSION, MAX_VERSION, respond,
                      (Need(ResourceType.CLUSTER, AclOperation.DESCRIBE, cluster),))
