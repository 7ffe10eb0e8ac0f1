# -*- test-case-name: tests.groups.test_membership -*-
"""One member of a classic group, as the coordinator tracks it."""

from __future__ import annotations

from typing import Sequence

from twisted.internet.interfaces import IDelayedCall

from twisted_kafka.groups.results import JoinCallback, SyncCallback


class Member:
    """A consumer (or other client) that joined a group.

    @ivar member_id: the id the coordinator gave it.
    @ivar group_instance_id: its static identity (KIP-345), or C{None}.
    @ivar protocols: C{(name, metadata)} pairs in the member's order of preference.
    @ivar assignment: what the leader assigned it in the current generation.
    @ivar join_callback: set while a JoinGroup of this member waits.
    @ivar sync_callback: set while a SyncGroup of this member waits.
    @ivar is_new: joined but not yet through a completed rebalance.
    @ivar timer: the pending session (or new-member join) expiry call.
    """

    __slots__ = (
        "member_id", "group_instance_id", "client_id", "client_host",
        "session_timeout_ms", "rebalance_timeout_ms", "protocol_type", "protocols",
        "assignment", "join_callback", "sync_callback", "is_new", "timer",
    )

    def __init__(self, member_id: str, group_instance_id: str | None, client_id: str,
                 client_host: str, session_timeout_ms: int, rebalance_timeout_ms: int,
                 protocol_type: str, protocols: Sequence[tuple[str, bytes]]) -> None:
        self.member_id = member_id
        self.group_instance_id = group_instance_id
        self.client_id = client_id
        self.client_host = client_host
        self.session_timeout_ms = session_timeout_ms
        self.rebalance_timeout_ms = rebalance_timeout_ms
        self.protocol_type = protocol_type
        self.protocols: list[tuple[str, bytes]] = list(protocols)
        self.assignment = b""
        self.join_callback: JoinCallback | None = None
        self.sync_callback: SyncCallback | None = None
        self.is_new = False
        self.timer: IDelayedCall | None = None

    def __repr__(self) -> str:
        return f"<Member {self.member_id!r} instance={self.group_instance_id!r}>"

    @property
    def awaiting_join(self) -> bool:
        """Whether a JoinGroup of this member is waiting for the rebalance."""
        return self.join_callback is not None

    @property
    def awaiting_sync(self) -> bool:
        """Whether a SyncGroup of this member is waiting for the assignment."""
        return self.sync_callback is not None

    @property
    def protocol_names(self) -> list[str]:
        """The names of the protocols this member supports, in its order."""
        return [name for name, _ in self.protocols]

    def metadata(self, protocol: str) -> bytes:
        """Return this member's metadata for C{protocol} (empty when it has none)."""
        for name, metadata in self.protocols:
            if name == protocol:
                return metadata
        return b""

    def matches(self, protocols: Sequence[tuple[str, bytes]]) -> bool:
        """Whether C{protocols} is exactly what this member joined with last time."""
        return list(protocols) == self.protocols

    def vote(self, candidates: set[str]) -> str:
        """Return the first of this member's protocols that is among C{candidates}."""
        for name, _ in self.protocols:
            if name in candidates:
                return name
        raise ValueError(f"member {self.member_id} supports none of {sorted(candidates)}")
