# -*- test-case-name: tests.security.test_acl_authorizer -*-
"""The authorizer of C{[security] authorizer = acl}: Kafka ACLs, per vhost.

L{AclAuthorizer} implements the request path's hook
(L{twisted_kafka.server.authorizer}) as a L{VhostScopedAuthorizer}: each
connection gets the L{ScopedAclAuthorizer} of its vhost and client host
once, and every question then costs a set lookup (super users) and a few
dict lookups in that vhost's ACLs (L{twisted_kafka.security.acl.VhostAcls}).
"""

from __future__ import annotations

from twisted_kafka.security.acl import VhostAcls
from twisted_kafka.security.acl_store import AclStore
from twisted_kafka.server.authorizer import AclOperation, ResourceType


class ScopedAclAuthorizer:
    """Answers for the connections of one vhost from one host."""

    def __init__(self, acls: VhostAcls, host: str, super_users: frozenset[str],
                 allow_if_no_acl: bool) -> None:
        self._acls = acls
        self._host = host
        self._super_users = super_users
        self._allow_if_no_acl = allow_if_no_acl

    def authorize(self, principal: str, operation: AclOperation,
                  resource_type: ResourceType, name: str) -> bool:
        """Super users may do anything; anyone else what the vhost's ACLs allow."""
        if principal in self._super_users:
            return True
        return self._acls.authorize(principal, self._host, operation, resource_type, name,
                                    self._allow_if_no_acl)


class AclAuthorizer:
    """Kafka's ACL authorizer over an L{AclStore}.

    @ivar store: the ACLs of every vhost (what CreateAcls and friends change).
    """

    def __init__(self, store: AclStore, super_users: frozenset[str] = frozenset(),
                 allow_everyone_if_no_acl_found: bool = False,
                 default_vhost: str = "/") -> None:
        self.store = store
        self._super_users = super_users
        self._allow = allow_everyone_if_no_acl_found
        self._default = self.scoped(default_vhost, "")

    def scoped(self, vhost: str, host: str) -> ScopedAclAuthorizer:
        """Return the authorizer of a connection in C{vhost} from C{host}."""
        return ScopedAclAuthorizer(self.store.vhost(vhost), host, self._super_users, self._allow)

    def authorize(self, principal: str, operation: AclOperation,
                  resource_type: ResourceType, name: str) -> bool:
        """Answer with the default vhost's ACLs for a connection of no known host."""
        return self._default.authorize(principal, operation, resource_type, name)
