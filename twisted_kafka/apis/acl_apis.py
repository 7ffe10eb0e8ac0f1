# -*- test-case-name: tests.apis.test_acl_apis -*-
"""DescribeAcls (29), CreateAcls (30) and DeleteAcls (31), versions 1-3.

What C{kafka-acls} and the admin clients' ACL calls use.  ACLs belong to the
connection's vhost: a user of one vhost neither sees nor changes another's.
DescribeAcls needs Cluster/Describe, CreateAcls and DeleteAcls Cluster/Alter,
as in Kafka (else CLUSTER_AUTHORIZATION_FAILED).  Without
C{[security] authorizer = acl} there are no ACLs: each answers
SECURITY_DISABLED, as a Kafka broker without an authorizer does.  An ACL
CreateAcls cannot store (ANY codes, a pattern that is neither literal nor
prefixed, a principal not C{Type:name}, a cluster not named
C{kafka-cluster}) is INVALID_REQUEST with the reason; a bad filter likewise.
"""

from __future__ import annotations

from typing import Any

from twisted_kafka.errors import ErrorCode
from twisted_kafka.protocol.messages import Fields
from twisted_kafka.security.acl import AclBinding, AclFilter, InvalidAcl, new_binding
from twisted_kafka.server.authorizer import CLUSTER_NAME, AclOperation, Need, ResourceType, cluster
from twisted_kafka.server.context import RequestContext
from twisted_kafka.server.registry import ResponderRegistry
from twisted_kafka.server.reply import Reply

DESCRIBE_ACLS, CREATE_ACLS, DELETE_ACLS = 29, 30, 31
MIN_VERSION, MAX_VERSION = 1, 3
_DISABLED = "no authorizer is configured on the broker ([security] authorizer = none)"


def _refusal(context: RequestContext) -> tuple[ErrorCode, str] | None:
    if context.access.refused(ResourceType.CLUSTER, CLUSTER_NAME):
        return ErrorCode.CLUSTER_AUTHORIZATION_FAILED, "not authorized to manage ACLs"
    if context.broker.acls is None:
        return ErrorCode.SECURITY_DISABLED, _DISABLED
    return None


def _filter(fields: Fields) -> AclFilter:
    acl_filter = AclFilter(
        resource_type=fields["resource_type_filter"], name=fields["resource_name_filter"],
        pattern_type=fields.get("pattern_type_filter", 3), principal=fields["principal_filter"],
        host=fields["host_filter"], operation=fields["operation"],
        permission=fields["permission_type"])
    acl_filter.check()
    return acl_filter


def _entry(acl: AclBinding) -> dict[str, Any]:
    return {"principal": acl.principal, "host": acl.host, "operation": int(acl.operation),
            "permission_type": int(acl.permission)}


def describe_acls(request: Fields, context: RequestContext) -> Reply:
    """Return the vhost's ACLs the filter matches, grouped by resource pattern."""
    refusal = _refusal(context)
    if refusal is None:
        try:
            acl_filter = _filter(request)
        except InvalidAcl as e:
            refusal = ErrorCode.INVALID_REQUEST, str(e)
    if refusal is not None:
        return {"throttle_time_ms": 0, "error_code": refusal[0], "error_message": refusal[1],
                "resources": []}
    assert context.broker.acls is not None
    resources: dict[tuple[int, str, int], list[dict[str, Any]]] = {}
    for acl in context.broker.acls.describe(context.vhost.name, acl_filter):
        key = (int(acl.resource_type), acl.name, int(acl.pattern_type))
        resources.setdefault(key, []).append(_entry(acl))
    return {"throttle_time_ms": 0, "error_code": ErrorCode.NONE, "error_message": None,
            "resources": [{"resource_type": t, "resource_name": n, "pattern_type": p, "acls": a}
                          for (t, n, p), a in resources.items()]}


def create_acls(request: Fields, context: RequestContext) -> Reply:
    """Store every valid creation; answer each with its error."""
    creations = request["creations"]
    refusal = _refusal(context)
    if refusal is not None:
        return {"throttle_time_ms": 0, "results": [
            {"error_code": refusal[0], "error_message": refusal[1]} for _ in creations]}
    assert context.broker.acls is not None
    results = []
    valid = []
    for c in creations:
        try:
            valid.append(new_binding(c["resource_type"], c["resource_name"],
                                     c.get("resource_pattern_type", 3), c["principal"], c["host"],
                                     c["operation"], c["permission_type"]))
        except InvalidAcl as e:
            results.append({"error_code": ErrorCode.INVALID_REQUEST, "error_message": str(e)})
        else:
            results.append({"error_code": ErrorCode.NONE, "error_message": None})
    try:
        context.broker.acls.create(context.vhost.name, valid)
    except OSError as e:
        return {"throttle_time_ms": 0, "results": [
            {"error_code": ErrorCode.KAFKA_STORAGE_ERROR, "error_message": str(e)}
            for _ in creations]}
    return {"throttle_time_ms": 0, "results": results}


def delete_acls(request: Fields, context: RequestContext) -> Reply:
    """Delete what each filter matches; answer each filter with the ACLs it deleted."""
    refusal = _refusal(context)
    if refusal is not None:
        return {"throttle_time_ms": 0, "filter_results": [
            {"error_code": refusal[0], "error_message": refusal[1], "matching_acls": []}
            for _ in request["filters"]]}
    assert context.broker.acls is not None
    filters: list[AclFilter | None] = []
    errors: list[str] = []
    for f in request["filters"]:
        try:
            filters.append(_filter(f))
            errors.append("")
        except InvalidAcl as e:
            filters.append(None)
            errors.append(str(e))
    try:
        deleted = iter(context.broker.acls.delete(
            context.vhost.name, [f for f in filters if f is not None]))
    except OSError as e:
        return {"throttle_time_ms": 0, "filter_results": [
            {"error_code": ErrorCode.KAFKA_STORAGE_ERROR, "error_message": str(e),
             "matching_acls": []} for _ in filters]}
    results = []
    for f, error in zip(filters, errors):
        if f is None:
            results.append({"error_code": ErrorCode.INVALID_REQUEST, "error_message": error,
                            "matching_acls": []})
            continue
        results.append({"error_code": ErrorCode.NONE, "error_message": None, "matching_acls": [
            {"error_code": ErrorCode.NONE, "error_message": None,
             "resource_type": int(acl.resource_type), "resource_name": acl.name,
             "pattern_type": int(acl.pattern_type), **_entry(acl)} for acl in next(deleted)]})
    return {"throttle_time_ms": 0, "filter_results": results}


def register(registry: ResponderRegistry) -> None:
    """Serve DescribeAcls, CreateAcls and DeleteAcls v1-3."""
    registry.register(DESCRIBE_ACLS, "DescribeAcls", MIN_VERSION, MAX_VERSION, describe_acls,
                      (Need(ResourceType.CLUSTER, AclOperation.DESCRIBE, cluster),))
    registry.register(CREATE_ACLS, "CreateAcls", MIN_VERSION, MAX_VERSION, create_acls,
                      (Need(ResourceType.CLUSTER, AclOperation.ALTER, cluster),))
    registry.register(DELETE_ACLS, "DeleteAcls", MIN_VERSION, MAX_VERSION, delete_acls,
                      (Need(ResourceType.CLUSTER, AclOperation.ALTER, cluster),))
