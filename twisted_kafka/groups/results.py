# -*- test-case-name: tests.groups.test_membership -*-
"""What the membership state machine answers: JoinGroup and SyncGroup outcomes.

Join and sync answers may come later than the request (a join waits for the
rebalance, a follower's sync for the leader's assignment), so the state
machine hands them to a callback; these are the values passed.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

from twisted_kafka.errors import ErrorCode


class JoinedMember(NamedTuple):
    """One member as the leader sees it in a JoinGroup response."""

    member_id: str
    group_instance_id: str | None
    metadata: bytes


class JoinResult(NamedTuple):
    """The outcome of a JoinGroup.

    @ivar members: every member with its metadata for the chosen protocol
        (only in the leader's result; empty for the others).
    @ivar skip_assignment: the leader must not compute a new assignment
        (a static leader rejoining a stable group, JoinGroup v9+).
    """

    error: ErrorCode
    member_id: str
    generation_id: int = -1
    protocol_type: str | None = None
    protocol_name: str | None = None
    leader: str = ""
    skip_assignment: bool = False
    members: tuple[JoinedMember, ...] = ()


class SyncResult(NamedTuple):
    """The outcome of a SyncGroup: this member's assignment, or an error."""

    error: ErrorCode
    assignment: bytes = b""
    protocol_type: str | None = None
    protocol_name: str | None = None


def join_error(member_id: str, error: ErrorCode) -> JoinResult:
    """Return a JoinGroup failure for C{member_id}."""
    return JoinResult(error, member_id)


JoinCallback = Callable[[JoinResult], None]
SyncCallback = Callable[[SyncResult], None]
