# -*- test-case-name: tests.security.test_acl -*-
"""Tests for L{twisted_kafka.security.acl}: the matcher against a table of cases."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.security.acl import (
    AclBinding, AclFilter, InvalidAcl, PatternType, Permission, VhostAcls, new_binding)
from twisted_kafka.server.authorizer import ANY_RESOURCE, AclOperation as Op, ResourceType as Rt

L, P = PatternType.LITERAL, PatternType.PREFIXED
ALLOW, DENY = Permission.ALLOW, Permission.DENY


def acl(name: str, op: Op, perm: Permission = ALLOW, pattern: PatternType = L,
        principal: str = "User:alice", host: str = "*", rtype: Rt = Rt.TOPIC) -> AclBinding:
    """One ACL, topic and allow by default."""
    return AclBinding(rtype, name, pattern, principal, host, op, perm)


#: (ACLs, principal, host, operation, resource name, allow_if_no_acl, expected)
CASES = [
    ([], "User:alice", "1.1.1.1", Op.READ, "t", False, False),
    ([], "User:alice", "1.1.1.1", Op.READ, "t", True, True),
    ([acl("t", Op.READ)], "User:alice", "1.1.1.1", Op.READ, "t", False, True),
    ([acl("t", Op.READ)], "User:bob", "1.1.1.1", Op.READ, "t", True, False),
    ([acl("t", Op.READ)], "User:alice", "1.1.1.1", Op.WRITE, "t", False, False),
    ([acl("t", Op.READ)], "User:alice", "1.1.1.1", Op.DESCRIBE, "t", False, True),
    ([acl("t", Op.WRITE)], "User:alice", "1.1.1.1", Op.DESCRIBE, "t", False, True),
    ([acl("t", Op.DELETE)], "User:alice", "1.1.1.1", Op.DESCRIBE, "t", False, True),
    ([acl("t", Op.ALTER)], "User:alice", "1.1.1.1", Op.DESCRIBE, "t", False, True),
    ([acl("t", Op.CREATE)], "User:alice", "1.1.1.1", Op.DESCRIBE, "t", False, False),
    ([acl("t", Op.ALTER_CONFIGS)], "User:alice", "1.1.1.1", Op.DESCRIBE_CONFIGS, "t", False, True),
    ([acl("t", Op.DESCRIBE)], "User:alice", "1.1.1.1", Op.READ, "t", False, False),
    ([acl("t", Op.ALL)], "User:alice", "1.1.1.1", Op.WRITE, "t", False, True),
    ([acl("*", Op.READ)], "User:alice", "1.1.1.1", Op.READ, "anything", False, True),
    ([acl("t", Op.READ, principal="User:*")], "User:zed", "1.1.1.1", Op.READ, "t", False, True),
    ([acl("orders-", Op.READ, pattern=P)], "User:alice", "h", Op.READ, "orders-eu", False, True),
    ([acl("orders-", Op.READ, pattern=P)], "User:alice", "h", Op.READ, "order", False, False),
    ([acl("t", Op.READ, host="10.0.0.1")], "User:alice", "10.0.0.1", Op.READ, "t", False, True),
    ([acl("t", Op.READ, host="10.0.0.1")], "User:alice", "10.0.0.2", Op.READ, "t", False, False),
    # DENY wins, over ALL and wildcards too.
    ([acl("t", Op.ALL), acl("t", Op.READ, DENY)], "User:alice", "h", Op.READ, "t", False, False),
    ([acl("t", Op.READ), acl("*", Op.ALL, DENY, principal="User:*")], "User:alice", "h",
     Op.READ, "t", False, False),
    ([acl("o", Op.READ, pattern=P), acl("ok", Op.READ, DENY)], "User:alice", "h", Op.READ, "ok",
     False, False),
    # A DENY of READ does not deny DESCRIBE (only the operation itself or ALL).
    ([acl("t", Op.WRITE), acl("t", Op.READ, DENY)], "User:alice", "h", Op.DESCRIBE, "t", False,
     True),
    ([acl("t", Op.READ, DENY, host="h2")], "User:alice", "h", Op.READ, "t", True, False),
    # Another type's ACL does not cover a topic.
    ([acl("t", Op.READ, rtype=Rt.GROUP)], "User:alice", "h", Op.READ, "t", True, True),
    # Some topic writable (Kafka's authorizeByResourceType, InitProducerId).
    ([acl("logs-", Op.WRITE, pattern=P)], "User:alice", "h", Op.WRITE, ANY_RESOURCE, False, True),
    ([acl("t", Op.READ)], "User:alice", "h", Op.WRITE, ANY_RESOURCE, False, False),
    ([acl("t", Op.WRITE), acl("*", Op.WRITE, DENY)], "User:alice", "h", Op.WRITE, ANY_RESOURCE,
     False, False),
    ([], "User:alice", "h", Op.WRITE, ANY_RESOURCE, True, True),
]


class MatcherTests(SynchronousTestCase):
    """Kafka's decision for each case of L{CASES}."""

    def test_cases(self) -> None:
        """Every row decides as expected."""
        wrong = []
        for number, (acls, principal, host, op, name, allow, expected) in enumerate(CASES):
            vhost = VhostAcls()
            for item in acls:
                vhost.add(item)
            got = vhost.authorize(principal, host, op, Rt.TOPIC, name, allow)
            if got != expected:
                wrong.append(number)
        self.assertEqual(wrong, [])

    def test_remove(self) -> None:
        """A removed ACL no longer allows; duplicates are kept once."""
        vhost = VhostAcls()
        self.assertTrue(vhost.add(acl("t", Op.READ)))
        self.assertFalse(vhost.add(acl("t", Op.READ)))
        vhost.remove(acl("t", Op.READ))
        self.assertEqual(len(vhost), 0)
        self.assertFalse(vhost.authorize("User:alice", "h", Op.READ, Rt.TOPIC, "t", False))


class FilterTests(SynchronousTestCase):
    """DescribeAcls/DeleteAcls filters."""

    def test_match_pattern(self) -> None:
        """MATCH finds the literal, the wildcard and covering prefixes of a name."""
        acls = [acl("orders", Op.READ), acl("*", Op.READ), acl("ord", Op.READ, pattern=P),
                acl("x", Op.READ), acl("orders", Op.READ, pattern=P)]
        matched = [a for a in acls if AclFilter(name="orders", pattern_type=PatternType.MATCH).matches(a)]
        self.assertEqual(matched, [acls[0], acls[1], acls[2], acls[4]])

    def test_fields(self) -> None:
        """Each field narrows; ANY and None match everything."""
        a = acl("t", Op.READ, DENY, principal="User:bob", host="h")
        self.assertTrue(AclFilter().matches(a))
        self.assertTrue(AclFilter(Rt.TOPIC, "t", L, "User:bob", "h", Op.READ, DENY).matches(a))
        for changed in (AclFilter(resource_type=Rt.GROUP), AclFilter(name="u"),
                        AclFilter(pattern_type=P), AclFilter(principal="User:alice"),
                        AclFilter(host="g"), AclFilter(operation=Op.WRITE),
                        AclFilter(permission=ALLOW)):
            self.assertFalse(changed.matches(a), changed)

    def test_bad_filter_codes(self) -> None:
        """UNKNOWN (0) and undefined codes are refused."""
        self.assertRaises(InvalidAcl, AclFilter(resource_type=0).check)
        self.assertRaises(InvalidAcl, AclFilter(operation=99).check)


class NewBindingTests(SynchronousTestCase):
    """CreateAcls's checks."""

    def test_valid(self) -> None:
        """A prefixed topic ACL and the cluster ACL."""
        self.assertEqual(new_binding(2, "a-", 4, "User:x", "*", 3, 3),
                         acl("a-", Op.READ, pattern=P, principal="User:x"))
        new_binding(4, "kafka-cluster", 3, "User:x", "*", 7, 3)

    def test_invalid(self) -> None:
        """ANY codes, MATCH patterns, bad principals, empty names, other cluster names."""
        for args in ((1, "t", 3, "User:x", "*", 3, 3), (2, "t", 2, "User:x", "*", 3, 3),
                     (2, "t", 3, "User:x", "*", 1, 3), (2, "t", 3, "User:x", "*", 3, 1),
                     (2, "t", 3, "alice", "*", 3, 3), (2, "", 3, "User:x", "*", 3, 3),
                     (2, "t", 3, "User:x", "", 3, 3), (4, "other", 3, "User:x", "*", 7, 3),
                     (2, "t", 3, "User:x", "*", 0, 3), (9, "t", 3, "User:x", "*", 3, 3)):
            self.assertRaises(InvalidAcl, new_binding, *args)
