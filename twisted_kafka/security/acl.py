# -*- test-case-name: tests.security.test_acl -*-
"""Kafka's ACL model and the matcher that answers one question.

An ACL (L{AclBinding}) allows or denies a principal, connecting from a host,
an operation on resources: a resource type (topic, group, cluster,
transactional id) and a name pattern, C{LITERAL} (the name, or C{*} for
every resource of the type) or C{PREFIXED} (every name starting with it).
L{VhostAcls.authorize} decides as Kafka's C{AclAuthorizer} and
C{StandardAuthorizer} do:

1. no ACL at all matches the resource: allowed only with
   C{allow_everyone_if_no_acl_found};
2. a matching C{DENY} for the principal (or C{User:*}), the host (or C{*})
   and the operation (or C{ALL}) refuses, whatever allows it;
3. otherwise a matching C{ALLOW} of the operation or C{ALL} allows, where
   C{READ}, C{WRITE}, C{DELETE} and C{ALTER} also allow C{DESCRIBE}, and
   C{ALTER_CONFIGS} also allows C{DESCRIBE_CONFIGS};
4. anything else is refused.

Super users are allowed before any of this (L{twisted_kafka.security.acl_authorizer}).
L{AclFilter} is the filter of DescribeAcls and DeleteAcls.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from twisted_kafka.server.authorizer import ANY_RESOURCE, CLUSTER_NAME, AclOperation, ResourceType

#: The name and host of a literal ACL matching every resource / every host,
#: and the principal name matching every user.
WILDCARD = "*"
WILDCARD_PRINCIPAL = "User:*"


class PatternType(IntEnum):
    """Kafka's C{PatternType} codes (ANY and MATCH only in filters)."""

    ANY = 1
    MATCH = 2
    LITERAL = 3
    PREFIXED = 4


class Permission(IntEnum):
    """Kafka's C{AclPermissionType} codes (ANY only in filters)."""

    ANY = 1
    DENY = 2
    ALLOW = 3


#: What an ALLOW of the key operation also allows... read the other way: the
#: operations whose ALLOW allows the key operation.
_ALLOWED_BY = {
    AclOperation.DESCRIBE: frozenset({AclOperation.DESCRIBE, AclOperation.READ, AclOperation.WRITE,
                                      AclOperation.DELETE, AclOperation.ALTER, AclOperation.ALL}),
    AclOperation.DESCRIBE_CONFIGS: frozenset({AclOperation.DESCRIBE_CONFIGS,
                                              AclOperation.ALTER_CONFIGS, AclOperation.ALL}),
}


def allowed_by(operation: AclOperation) -> frozenset[AclOperation]:
    """Return the operations an ALLOW of which allows C{operation}."""
    return _ALLOWED_BY.get(operation, frozenset({operation, AclOperation.ALL}))


@dataclass(frozen=True)
class AclBinding:
    """One ACL: a resource pattern and an access control entry."""

    resource_type: ResourceType
    name: str
    pattern_type: PatternType
    principal: str
    host: str
    operation: AclOperation
    permission: Permission

    def as_list(self) -> list[object]:
        """The ACL as a JSON list (the ACL file's form)."""
        return [int(self.resource_type), self.name, int(self.pattern_type), self.principal,
                self.host, int(self.operation), int(self.permission)]

    @classmethod
    def from_list(cls, item: list[object]) -> AclBinding:
        """Read what L{as_list} wrote."""
        rtype, name, pattern, principal, host, operation, permission = item
        return cls(ResourceType(int(rtype)), str(name), PatternType(int(pattern)),  # type: ignore[call-overload]
                   str(principal), str(host), AclOperation(int(operation)),  # type: ignore[call-overload]
                   Permission(int(permission)))  # type: ignore[call-overload]


class InvalidAcl(Exception):
    """An ACL CreateAcls refuses (INVALID_REQUEST); C{str()} says why."""


def _code(enum: type[IntEnum], value: int, what: str) -> IntEnum:
    try:
        return enum(value)
    except ValueError:
        raise InvalidAcl(f"unknown {what} {value}") from None


def new_binding(resource_type: int, name: str, pattern_type: int, principal: str, host: str,
                operation: int, permission: int) -> AclBinding:
    """Return the ACL CreateAcls describes, checked as Kafka checks it.

    @raise InvalidAcl: ANY/UNKNOWN codes, a pattern that is neither literal
        nor prefixed, a principal not C{Type:name}, an empty name or host,
        a cluster resource not named C{kafka-cluster}.
    """
    rtype = _code(ResourceType, resource_type, "resource type")
    pattern = _code(PatternType, pattern_type, "pattern type")
    op = _code(AclOperation, operation, "operation")
    perm = _code(Permission, permission, "permission type")
    if rtype == ResourceType.ANY:
        raise InvalidAcl("resource type ANY is only valid in filters")
    if pattern not in (PatternType.LITERAL, PatternType.PREFIXED):
        raise InvalidAcl(f"pattern type {pattern.name} is only valid in filters")
    if op == AclOperation.ANY:
        raise InvalidAcl("operation ANY is only valid in filters")
    if perm == Permission.ANY:
        raise InvalidAcl("permission type ANY is only valid in filters")
    kind, sep, who = principal.partition(":")
    if not sep or not kind or not who:
        raise InvalidAcl(f"could not parse principal {principal!r} (write User:name)")
    if not name:
        raise InvalidAcl("resource name must not be empty")
    if not host:
        raise InvalidAcl("host must not be empty (use * for every host)")
    if rtype == ResourceType.CLUSTER and (pattern != PatternType.LITERAL or name != CLUSTER_NAME):
        raise InvalidAcl(f"the only valid name for the CLUSTER resource is {CLUSTER_NAME}")
    return AclBinding(ResourceType(rtype), name, PatternType(pattern), principal, host,
                      AclOperation(op), Permission(perm))


@dataclass(frozen=True)
class AclFilter:
    """A DescribeAcls/DeleteAcls filter: C{None} fields and ANY codes match anything."""

    resource_type: int = ResourceType.ANY
    name: str | None = None
    pattern_type: int = PatternType.ANY
    principal: str | None = None
    host: str | None = None
    operation: int = AclOperation.ANY
    permission: int = Permission.ANY

    def check(self) -> None:
        """Refuse codes a filter cannot have (UNKNOWN, or numbers Kafka does not define).

        @raise InvalidAcl: naming the field.
        """
        _code(ResourceType, self.resource_type, "resource type filter")
        _code(PatternType, self.pattern_type, "pattern type filter")
        _code(AclOperation, self.operation, "operation filter")
        _code(Permission, self.permission, "permission type filter")

    def matches(self, acl: AclBinding) -> bool:
        """Return whether C{acl} passes this filter (Kafka's C{AclBindingFilter.matches})."""
        if self.resource_type != ResourceType.ANY and self.resource_type != acl.resource_type:
            return False
        if self.pattern_type == PatternType.MATCH:
            if self.name is not None and not _pattern_matches(acl, self.name):
                return False
        else:
            if self.pattern_type != PatternType.ANY and self.pattern_type != acl.pattern_type:
                return False
            if self.name is not None and self.name != acl.name:
                return False
        return ((self.principal is None or self.principal == acl.principal)
                and (self.host is None or self.host == acl.host)
                and (self.operation == AclOperation.ANY or self.operation == acl.operation)
                and (self.permission == Permission.ANY or self.permission == acl.permission))


def _pattern_matches(acl: AclBinding, name: str) -> bool:
    """Whether C{acl}'s pattern covers resource C{name}."""
    if acl.pattern_type == PatternType.LITERAL:
        return acl.name == name or acl.name == WILDCARD
    return name.startswith(acl.name)


class VhostAcls:
    """The ACLs of one vhost, indexed for L{authorize}."""

    def __init__(self) -> None:
        self._all: dict[AclBinding, None] = {}
        # (resource type, literal name) -> ACLs; "*" names included.
        self._literal: dict[tuple[ResourceType, str], list[AclBinding]] = {}
        # resource type -> prefixed ACLs.
        self._prefixed: dict[ResourceType, list[AclBinding]] = {}
        self._types: dict[ResourceType, int] = {}

    def bindings(self) -> list[AclBinding]:
        """Every ACL, in the order added."""
        return list(self._all)

    def __len__(self) -> int:
        return len(self._all)

    def add(self, acl: AclBinding) -> bool:
        """Add C{acl}; return whether it was new."""
        if acl in self._all:
            return False
        self._all[acl] = None
        if acl.pattern_type == PatternType.LITERAL:
            self._literal.setdefault((acl.resource_type, acl.name), []).append(acl)
        else:
            self._prefixed.setdefault(acl.resource_type, []).append(acl)
        self._types[acl.resource_type] = self._types.get(acl.resource_type, 0) + 1
        return True

    def remove(self, acl: AclBinding) -> None:
        """Remove C{acl} (present)."""
        del self._all[acl]
        if acl.pattern_type == PatternType.LITERAL:
            key = (acl.resource_type, acl.name)
            self._literal[key].remove(acl)
            if not self._literal[key]:
                del self._literal[key]
        else:
            self._prefixed[acl.resource_type].remove(acl)
        self._types[acl.resource_type] -= 1

    def matching(self, resource_type: ResourceType, name: str) -> list[AclBinding]:
        """Return every ACL whose pattern covers the resource."""
        found = list(self._literal.get((resource_type, name), ()))
        if name != WILDCARD:
            found.extend(self._literal.get((resource_type, WILDCARD), ()))
        for acl in self._prefixed.get(resource_type, ()):
            if name.startswith(acl.name):
                found.append(acl)
        return found

    def authorize(self, principal: str, host: str, operation: AclOperation,
                  resource_type: ResourceType, name: str, allow_if_no_acl: bool) -> bool:
        """Decide as the module docstring says."""
        if name == ANY_RESOURCE:
            return self._authorize_any(principal, host, operation, resource_type, allow_if_no_acl)
        acls = self.matching(resource_type, name)
        if not acls:
            return allow_if_no_acl
        allowing = allowed_by(operation)
        allowed = False
        for acl in acls:
            if ((acl.principal != principal and acl.principal != WILDCARD_PRINCIPAL)
                    or (acl.host != host and acl.host != WILDCARD)):
                continue
            if acl.permission == Permission.DENY:
                if acl.operation == operation or acl.operation == AclOperation.ALL:
                    return False
            elif acl.operation in allowing:
                allowed = True
        return allowed

    def _authorize_any(self, principal: str, host: str, operation: AclOperation,
                       resource_type: ResourceType, allow_if_no_acl: bool) -> bool:
        """May the principal do C{operation} on some resource of the type?

        Kafka's C{authorizeByResourceType}: an ALLOW for some pattern that no
        DENY of a pattern covering it cancels; with no ACL of the type at
        all, C{allow_if_no_acl}.
        """
        if not self._types.get(resource_type):
            return allow_if_no_acl
        allowing = allowed_by(operation)
        for acl in self._all:
            if (acl.resource_type != resource_type or acl.permission != Permission.ALLOW
                    or acl.operation not in allowing
                    or (acl.principal != principal and acl.principal != WILDCARD_PRINCIPAL)
                    or (acl.host != host and acl.host != WILDCARD)):
                continue
            # A resource the ALLOW covers: its own name, or for "*" any name.
            probe = ("\x00" if acl.pattern_type == PatternType.LITERAL and acl.name == WILDCARD
                     else acl.name)
            if self.authorize(principal, host, operation, resource_type, probe, allow_if_no_acl):
                return True
        return False
