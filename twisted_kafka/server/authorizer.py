# -*- test-case-name: tests.server.test_authorizer -*-
"""The authorization hook of the request path, in Kafka's ACL terms.

Every API registers the permissions it needs as L{Need}s: an operation on a
resource type (Kafka's C{AclOperation} and C{ResourceType}, e.g. Topic/Write
for Produce, Group/Read and Topic/Read for OffsetCommit, Cluster/Describe for
DescribeCluster) and, where the request names them, how to find the resource
names in the decoded request.  Before calling the responder the dispatcher
asks the broker's L{Authorizer} about every named resource and gives the
responder an L{Access}: the responder answers a refused resource with its
API's error (TOPIC_AUTHORIZATION_FAILED, GROUP_AUTHORIZATION_FAILED,
CLUSTER_AUTHORIZATION_FAILED) and asks the same L{Access} about resources it
only learns while answering (a topic named by id).

Without C{[security] authorizer = acl} the broker's authorizer is
L{AllowEverything}, and then no question is asked at all (L{ALLOW_ALL}).
With it, the authorizer is Kafka's ACL model
(L{twisted_kafka.security.acl_authorizer}), a L{VhostScopedAuthorizer}:
each connection asks the one narrowed to its vhost and client host.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Callable, Iterable, Protocol, runtime_checkable
from twisted_kafka.protocol.messages import Fields

#: The principal of a connection that has not authenticated (Kafka's name).
ANONYMOUS = "User:ANONYMOUS"
#: The name of the single cluster resource (Kafka's C{Resource.CLUSTER_NAME}).
CLUSTER_NAME = "kafka-cluster"
#: Asked as a resource name: may the principal do the operation on some
#: resource of the type (Kafka's C{authorizeByResourceType})?  No resource
#: can have this name (it is not a legal topic, group or transactional id).
ANY_RESOURCE = "\x00any"


class ResourceType(IntEnum):
    """Kafka's C{org.apache.kafka.common.resource.ResourceType} codes."""

    ANY = 1
    TOPIC = 2
    GROUP = 3
    CLUSTER = 4
    TRANSACTIONAL_ID = 5
    DELEGATION_TOKEN = 6
    USER = 7


class AclOperation(IntEnum):
    """Kafka's C{org.apache.kafka.common.acl.AclOperation} codes."""

    ANY = 1
    ALL = 2
    READ = 3
    WRITE = 4
    CREATE = 5
    DELETE = 6
    ALTER = 7
    DESCRIBE = 8
    CLUSTER_ACTION = 9
    DESCRIBE_CONFIGS = 10
    ALTER_CONFIGS = 11
    IDEMPOTENT_WRITE = 12
    CREATE_TOKENS = 13
    DESCRIBE_TOKENS = 14


def _no_names(request: Fields) -> Iterable[str]:
    return ()


@dataclass(frozen=True)
class Need:
    """One permission an API needs: C{operation} on resources of C{resource_type}.

    @ivar names: returns the names of the resources the decoded request
        names (checked before the responder runs); resources the responder
        only learns later are asked about through L{Access.refused}.
    """

    resource_type: ResourceType
    operation: AclOperation
    names: Callable[[Fields], Iterable[str]] = _no_names


def cluster(request: Fields) -> Iterable[str]:
    """The resource names of a cluster-wide need: the one cluster."""
    return (CLUSTER_NAME,)


class Authorizer(Protocol):
    """Decides whether a principal may perform an operation on a resource."""

    def authorize(self, principal: str, operation: AclOperation,
                  resource_type: ResourceType, name: str) -> bool:
        """Return whether C{principal} may do C{operation} on the named resource."""


@runtime_checkable
class VhostScopedAuthorizer(Protocol):
    """An authorizer whose rules belong to a vhost and depend on the client's host."""

    def authorize(self, principal: str, operation: AclOperation,
                  resource_type: ResourceType, name: str) -> bool:
        """Answer as the default vhost's rules do for an unknown host."""

    def scoped(self, vhost: str, host: str) -> Authorizer:
        """Return the authorizer of a connection in C{vhost} from C{host}."""


class RequestAccess(Protocol):
    """What a responder asks about the request it answers (see L{Access})."""

    principal: str

    def refused(self, resource_type: ResourceType, name: str) -> bool:
        """Return whether the request may not do its operation on this resource."""

    def allows(self, operation: AclOperation, resource_type: ResourceType, name: str) -> bool:
        """Return whether the request's principal may do any C{operation} on the resource.

        For what the API did not declare (CreateTopics's topic creation
        through Metadata, the authorized-operations bit sets).
        """


class AllowEverything:
    """The authorizer of a broker without ACLs: everything is allowed."""

    def authorize(self, principal: str, operation: AclOperation,
                  resource_type: ResourceType, name: str) -> bool:
        """Allow."""
        return True


class Access:
    """What one request may do: the authorizer's answers for its needs.

    @ivar principal: whom the request is authorized as.
    """

    def __init__(self, authorizer: Authorizer, principal: str,
                 needs: tuple[Need, ...], request: Fields) -> None:
        """Ask C{authorizer} about every resource C{request} names for C{needs}."""
        self._authorizer = authorizer
        self.principal = principal
        self._operations = {need.resource_type: need.operation for need in needs}
        self._answers: dict[tuple[ResourceType, str], bool] = {}
        for need in needs:
            for name in need.names(request):
                self._ask(need.resource_type, need.operation, name)

    def _ask(self, resource_type: ResourceType, operation: AclOperation, name: str) -> bool:
        key = (resource_type, name)
        allowed = self._answers.get(key)
        if allowed is None:
            allowed = self._authorizer.authorize(self.principal, operation, resource_type, name)
            self._answers[key] = allowed
        return allowed

    def refused(self, resource_type: ResourceType, name: str) -> bool:
        """Return whether the request may not do its operation on this resource.

        The operation is the one the API declared for C{resource_type}; an
        API that declared none for it needs no permission on it.
        """
        operation = self._operations.get(resource_type)
        if operation is None:
            return False
        return not self._ask(resource_type, operation, name)

    def allows(self, operation: AclOperation, resource_type: ResourceType, name: str) -> bool:
        """Ask the authorizer about C{operation} on the resource (not cached)."""
        return self._authorizer.authorize(self.principal, operation, resource_type, name)


class _AllowAll:
    """The L{Access} of every request when the authorizer allows everything."""

    principal = ANONYMOUS

    def refused(self, resource_type: ResourceType, name: str) -> bool:
        """Nothing is refused."""
        return False

    def allows(self, operation: AclOperation, resource_type: ResourceType, name: str) -> bool:
        """Everything is allowed."""
        return True


#: The access of a request on a broker whose authorizer is L{AllowEverything}.
ALLOW_ALL: RequestAccess = _AllowAll()


def access_for(authorizer: Authorizer, principal: str, needs: tuple[Need, ...],
               request: Fields) -> RequestAccess:
    """Return what C{request} may do, asking C{authorizer} about what it names.

    @param needs: the permissions the request's API declared.
    @return: L{ALLOW_ALL} when the authorizer allows everything or the API
        needs nothing, else an L{Access}.
    """
    if not needs or isinstance(authorizer, AllowEverything):
        return ALLOW_ALL
    return Access(authorizer, principal, needs, request)
