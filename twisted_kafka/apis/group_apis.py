# -*- test-case-name: tests.apis.test_group_apis -*-
"""The classic group protocol APIs, answered by the vhost's group coordinator.

- JoinGroup (api key 11), v0-9: answered when the rebalance completes, which
  may be much later: the connection holds the response (a L{Waiting} reply)
  and processes nothing else from that client meanwhile, as Kafka does.
  v4+ members without an id get MEMBER_ID_REQUIRED and must rejoin with the
  id given; v5+ carry static membership (group.instance.id); v9 lets a static
  leader that rejoins a stable group skip the assignment.  v0's rebalance
  timeout is its session timeout.
- SyncGroup (14), v0-5: a follower's answer waits for the leader's
  assignment.  v5 requests must name the group's protocol type and name
  (INCONSISTENT_GROUP_PROTOCOL otherwise, as in Kafka).
- Heartbeat (12), v0-4; LeaveGroup (13), v0-5 (several members, by member id
  or by group instance id, from v3; v0-2 report the member's error as the
  request's error).
- DescribeGroups (15), v0-6: member metadata and assignments only for Stable
  groups; a group that does not exist is reported Dead (v6:
  GROUP_ID_NOT_FOUND).  ListGroups (16), v0-5, with state (v4+) and type
  (v5+, every group here is "classic") filters, both case-insensitive.
  DeleteGroups (42), v0-2: empty groups only (NON_EMPTY_GROUP,
  GROUP_ID_NOT_FOUND), with their committed offsets.

The state machine and its error codes are in L{twisted_kafka.groups.membership}.
"""

from __future__ import annotations

from typing import Callable, Generic, TypeVar

from twisted_kafka.apis.support.authorized_operations import NOT_REQUESTED, authorized_operations
from twisted_kafka.errors import ErrorCode, KafkaError
from twisted_kafka.groups.coordinator import VhostGroups
from twisted_kafka.groups.group import GroupState
from twisted_kafka.groups.membership import JoinRequest, LeavingMember
from twisted_kafka.groups.results import JoinResult, SyncResult
from twisted_kafka.protocol.messages import Fields
from twisted_kafka.server.authorizer import CLUSTER_NAME, AclOperation, Need, ResourceType, cluster
from twisted_kafka.server.context import RequestContext
from twisted_kafka.server.registry import ResponderRegistry
from twisted_kafka.server.reply import Waiting

JOIN_GROUP, HEARTBEAT, LEAVE_GROUP, SYNC_GROUP = 11, 12, 13, 14
DESCRIBE_GROUPS, LIST_GROUPS, DELETE_GROUPS = 15, 16, 42
#: Every classic group's type in ListGroups v5+.
CLASSIC_GROUP_TYPE = "classic"


def group_refused(context: RequestContext, group_id: str) -> bool:
    """Return whether the request may not use group C{group_id}."""
    return context.access.refused(ResourceType.GROUP, group_id)


def vhost_groups(context: RequestContext, group_id: str | None = None) -> VhostGroups:
    """Return the groups of the request's vhost.

    @param group_id: the group the request is about, when it is about one.
    @raise KafkaError: GROUP_AUTHORIZATION_FAILED when the request may not
        use C{group_id}; COORDINATOR_NOT_AVAILABLE when the groups cannot be
        loaded.
    """
    if group_id is not None and group_refused(context, group_id):
        raise KafkaError(ErrorCode.GROUP_AUTHORIZATION_FAILED,
                         f"not authorized to access group {group_id!r}")
    return context.broker.groups.for_vhost(context.vhost)


def _group_id(request: Fields) -> tuple[str, ...]:
    return (request["group_id"],)


def _group_ids(request: Fields) -> tuple[str, ...]:
    return tuple(request["groups"])


def _group_names(request: Fields) -> tuple[str, ...]:
    return tuple(request["groups_names"])


#: What a member of a group needs for JoinGroup, SyncGroup, Heartbeat, LeaveGroup.
GROUP_READ = (Need(ResourceType.GROUP, AclOperation.READ, _group_id),)


def client_host(context: RequestContext) -> str:
    """Return the client's address as Kafka reports it (C{/127.0.0.1})."""
    peer = context.peer
    if peer.startswith("unix:"):
        return peer
    host = peer.rsplit(":", 1)[0] if ":" in peer else peer
    return "/" + host


#: The type of result the group state machine hands an L{Answer}.
R = TypeVar("R")


class Answer(Generic[R]):
    """Collects an answer that may come now or later.

    Handed to the state machine as the callback; L{reply} then returns the
    response itself when it already came, or a L{Waiting} marker the
    connection resolves when it does.
    """

    def __init__(self, render: Callable[[R], Fields]) -> None:
        self._render = render
        self._response: Fields | None = None
        self._deliver: Callable[[Fields], None] | None = None

    def __call__(self, result: R) -> None:
        """Take the state machine's result."""
        response = self._render(result)
        if self._deliver is not None:
            deliver, self._deliver = self._deliver, None
            deliver(response)
        else:
            self._response = response

    def _register(self, deliver: Callable[[Fields], None]) -> None:
        if self._response is not None:
            deliver(self._response)
        else:
            self._deliver = deliver

    def reply(self) -> Fields | Waiting:
        """Return the response, or a marker for one still to come."""
        if self._response is not None:
            return self._response
        return Waiting(self._register)


# -- JoinGroup -----------------------------------------------------------------

def join_response(result: JoinResult, version: int) -> Fields:
    """Render a L{JoinResult} for JoinGroup C{version}."""
    return {
        "throttle_time_ms": 0,
        "error_code": result.error,
        "generation_id": result.generation_id,
        "protocol_type": result.protocol_type,
        "protocol_name": result.protocol_name if version >= 7 else (result.protocol_name or ""),
        "leader": result.leader,
        "skip_assignment": result.skip_assignment,
        "member_id": result.member_id,
        "members": [{"member_id": m.member_id, "group_instance_id": m.group_instance_id,
                     "metadata": m.metadata} for m in result.members],
    }


def respond_join(request: Fields, context: RequestContext) -> Fields | Waiting:
    """Answer a JoinGroup request, now or when the rebalance completes."""
    version = context.api_version
    answer: Answer[JoinResult] = Answer(lambda result: join_response(result, version))
    try:
        groups = vhost_groups(context, request["group_id"])
    except KafkaError as e:
        answer(JoinResult(e.code, request["member_id"]))
        return answer.reply()
    instance_id = request.get("group_instance_id") if version >= 5 else None
    session_timeout = request["session_timeout_ms"]
    groups.membership.join(JoinRequest(
        group_id=request["group_id"],
        member_id=request["member_id"],
        group_instance_id=instance_id,
        client_id=context.client_id or "",
        client_host=client_host(context),
        session_timeout_ms=session_timeout,
        rebalance_timeout_ms=request["rebalance_timeout_ms"] if version >= 1 else session_timeout,
        protocol_type=request["protocol_type"],
        protocols=[(p["name"], p["metadata"]) for p in request["protocols"]],
        require_known_member_id=version >= 4 and instance_id is None,
        supports_skip_assignment=version >= 9,
        reason=request.get("reason"),
    ), answer)
    return answer.reply()


# -- SyncGroup -----------------------------------------------------------------

def sync_response(result: SyncResult) -> Fields:
    """Render a L{SyncResult}."""
    return {"throttle_time_ms": 0, "error_code": result.error,
            "protocol_type": result.protocol_type, "protocol_name": result.protocol_name,
            "assignment": result.assignment}


def respond_sync(request: Fields, context: RequestContext) -> Fields | Waiting:
    """Answer a SyncGroup request, now or when the leader's assignment arrives."""
    answer = Answer(sync_response)
    protocol_type = request.get("protocol_type")
    protocol_name = request.get("protocol_name")
    if context.api_version >= 5 and (protocol_type is None or protocol_name is None):
        answer(SyncResult(ErrorCode.INCONSISTENT_GROUP_PROTOCOL))
        return answer.reply()
    try:
        groups = vhost_groups(context, request["group_id"])
    except KafkaError as e:
        answer(SyncResult(e.code))
        return answer.reply()
    groups.membership.sync(
        request["group_id"], request["generation_id"], request["member_id"],
        request.get("group_instance_id"), protocol_type, protocol_name,
        {a["member_id"]: a["assignment"] for a in request["assignments"]}, answer)
    return answer.reply()


# -- Heartbeat -----------------------------------------------------------------

def respond_heartbeat(request: Fields, context: RequestContext) -> Fields:
    """Answer a Heartbeat request."""
    try:
        groups = vhost_groups(context, request["group_id"])
    except KafkaError as e:
        return {"throttle_time_ms": 0, "error_code": e.code}
    error = groups.membership.heartbeat(request["group_id"], request["member_id"],
                                        request.get("group_instance_id"),
                                        request["generation_id"])
    return {"throttle_time_ms": 0, "error_code": error}


# -- LeaveGroup ----------------------------------------------------------------

def respond_leave(request: Fields, context: RequestContext) -> Fields:
    """Answer a LeaveGroup request."""
    version = context.api_version
    if version >= 3:
        leaving = [LeavingMember(m["member_id"], m.get("group_instance_id"), m.get("reason"))
                   for m in request["members"]]
    else:
        leaving = [LeavingMember(request["member_id"])]
    try:
        groups = vhost_groups(context, request["group_id"])
    except KafkaError as e:
        return {"throttle_time_ms": 0, "error_code": e.code, "members": []}
    error, member_errors = groups.membership.leave(request["group_id"], leaving)
    if version < 3:
        if error == ErrorCode.NONE and member_errors:
            error = member_errors[0]
        return {"throttle_time_ms": 0, "error_code": error, "members": []}
    return {
        "throttle_time_ms": 0,
        "error_code": error,
        "members": [{"member_id": who.member_id, "group_instance_id": who.group_instance_id,
                     "error_code": code} for who, code in zip(leaving, member_errors)],
    }


# -- DescribeGroups ------------------------------------------------------------

def _described(groups: VhostGroups, group_id: str, version: int, operations: int) -> Fields:
    group = groups.groups.get(group_id)
    if group is None or group.is_in(GroupState.DEAD):
        return {"error_code": ErrorCode.GROUP_ID_NOT_FOUND if version >= 6 else ErrorCode.NONE,
                "error_message": f"Group {group_id} not found." if version >= 6 else None,
                "group_id": group_id, "group_state": GroupState.DEAD.value,
                "protocol_type": "", "protocol_data": "", "members": [],
                "authorized_operations": operations}
    stable = group.is_in(GroupState.STABLE)
    protocol = group.protocol_name or ""
    return {
        "error_code": ErrorCode.NONE,
        "error_message": None,
        "group_id": group_id,
        "group_state": group.state.value,
        "protocol_type": group.protocol_type or "",
        "protocol_data": protocol if stable else "",
        "members": [{
            "member_id": m.member_id,
            "group_instance_id": m.group_instance_id,
            "client_id": m.client_id,
            "client_host": m.client_host,
            "member_metadata": m.metadata(protocol) if stable else b"",
            "member_assignment": m.assignment if stable else b"",
        } for m in group.members.values()],
        "authorized_operations": operations,
    }


def respond_describe(request: Fields, context: RequestContext) -> Fields:
    """Answer a DescribeGroups request."""
    version = context.api_version
    include = bool(request.get("include_authorized_operations"))
    operations = NOT_REQUESTED
    try:
        groups = vhost_groups(context)
    except KafkaError as e:
        return {"throttle_time_ms": 0, "groups": [
            {"error_code": e.code, "error_message": e.message, "group_id": group_id,
             "group_state": "", "protocol_type": "", "protocol_data": "", "members": [],
             "authorized_operations": operations}
            for group_id in request["groups"]]}
    return {"throttle_time_ms": 0,
            "groups": [_refused_group(group_id, operations) if group_refused(context, group_id)
                       else _described(groups, group_id, version,
                                       authorized_operations(context.access, ResourceType.GROUP,
                                                             group_id)
                                       if include else NOT_REQUESTED)
                       for group_id in request["groups"]]}


def _refused_group(group_id: str, operations: int) -> Fields:
    return {"error_code": ErrorCode.GROUP_AUTHORIZATION_FAILED, "error_message": None,
            "group_id": group_id, "group_state": "", "protocol_type": "", "protocol_data": "",
            "members": [], "authorized_operations": operations}


# -- ListGroups ----------------------------------------------------------------

def respond_list(request: Fields, context: RequestContext) -> Fields:
    """Answer a ListGroups request."""
    try:
        groups = vhost_groups(context)
    except KafkaError as e:
        return {"throttle_time_ms": 0, "error_code": e.code, "groups": []}
    states = {s.lower() for s in request.get("states_filter") or ()}
    types = {t.lower() for t in request.get("types_filter") or ()}
    if types and CLASSIC_GROUP_TYPE not in types:
        return {"throttle_time_ms": 0, "error_code": ErrorCode.NONE, "groups": []}
    listed = []
    # Kafka lists every group to a client allowed to describe the cluster,
    # and otherwise the groups it may describe.
    every_group = not context.access.refused(ResourceType.CLUSTER, CLUSTER_NAME)
    for group in list(groups.groups.values()):
        if not every_group and group_refused(context, group.group_id):
            continue
        state = group.state.value
        if states and state.lower() not in states:
            continue
        listed.append({"group_id": group.group_id, "protocol_type": group.protocol_type or "",
                       "group_state": state, "group_type": CLASSIC_GROUP_TYPE})
    return {"throttle_time_ms": 0, "error_code": ErrorCode.NONE, "groups": listed}


# -- DeleteGroups --------------------------------------------------------------

def respond_delete(request: Fields, context: RequestContext) -> Fields:
    """Answer a DeleteGroups request."""
    try:
        groups = vhost_groups(context)
    except KafkaError as e:
        return {"throttle_time_ms": 0, "results": [
            {"group_id": group_id, "error_code": e.code} for group_id in request["groups_names"]]}
    return {"throttle_time_ms": 0, "results": [
        {"group_id": group_id,
         "error_code": (ErrorCode.GROUP_AUTHORIZATION_FAILED if group_refused(context, group_id)
                        else groups.membership.delete(group_id))}
        for group_id in request["groups_names"]]}


def register(registry: ResponderRegistry) -> None:
    """Serve the group membership APIs."""
    registry.register(JOIN_GROUP, "JoinGroup", 0, 9, respond_join, GROUP_READ)
    registry.register(HEARTBEAT, "Heartbeat", 0, 4, respond_heartbeat, GROUP_READ)
    registry.register(LEAVE_GROUP, "LeaveGroup", 0, 5, respond_leave, GROUP_READ)
    registry.register(SYNC_GROUP, "SyncGroup", 0, 5, respond_sync, GROUP_READ)
    registry.register(DESCRIBE_GROUPS, "DescribeGroups", 0, 6, respond_describe,
                      (Need(ResourceType.GROUP, AclOperation.DESCRIBE, _group_ids),))
    registry.register(LIST_GROUPS, "ListGroups", 0, 5, respond_list,
                      (Need(ResourceType.CLUSTER, AclOperation.DESCRIBE, cluster),
                       Need(ResourceType.GROUP, AclOperation.DESCRIBE)))
    registry.register(DELETE_GROUPS, "DeleteGroups", 0, 2, respond_delete,
                      (Need(ResourceType.GROUP, AclOperation.DELETE, _group_names),))
