# -*- test-case-name: tests.security.test_acl_store -*-
"""Tests for L{twisted_kafka.security.acl_store} and L{twisted_kafka.security.acl_authorizer}."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from tests.security.test_acl import acl
from twisted_kafka.security.acl import AclFilter
from twisted_kafka.security.acl_authorizer import AclAuthorizer
from twisted_kafka.security.acl_store import AclStore
from twisted_kafka.server.authorizer import AclOperation as Op, ResourceType as Rt


class AclStoreTests(SynchronousTestCase):
    """ACLs per vhost, kept across reopening."""

    def test_persisted_per_vhost(self) -> None:
        """ACLs created in two vhosts come back in their vhosts."""
        directory = self.mktemp()
        store = AclStore.in_directory(directory, durable=False)
        store.create("a", [acl("t", Op.READ)])
        store.create("b", [acl("u", Op.WRITE)])
        reopened = AclStore.in_directory(directory)
        self.assertEqual(reopened.describe("a", AclFilter()), [acl("t", Op.READ)])
        self.assertEqual(reopened.describe("b", AclFilter()), [acl("u", Op.WRITE)])

    def test_delete_returns_matches(self) -> None:
        """Each filter returns what it matched; all of it is gone."""
        directory = self.mktemp()
        store = AclStore.in_directory(directory, durable=False)
        store.create("/", [acl("t", Op.READ), acl("t", Op.WRITE), acl("u", Op.READ)])
        deleted = store.delete("/", [AclFilter(name="t"), AclFilter(operation=Op.READ)])
        self.assertEqual(deleted, [[acl("t", Op.READ), acl("t", Op.WRITE)],
                                   [acl("t", Op.READ), acl("u", Op.READ)]])
        self.assertEqual(AclStore.in_directory(directory).describe("/", AclFilter()), [])


class AclAuthorizerTests(SynchronousTestCase):
    """The authorizer narrows to a vhost and host; super users pass."""

    def test_vhosts_and_super_users(self) -> None:
        """An ACL of vhost a allows nothing in vhost b; a super user needs none."""
        store = AclStore.in_directory(self.mktemp(), durable=False)
        authorizer = AclAuthorizer(store, frozenset({"User:root"}))
        store.create("a", [acl("t", Op.READ, host="10.0.0.1")])
        in_a = authorizer.scoped("a", "10.0.0.1")
        self.assertTrue(in_a.authorize("User:alice", Op.READ, Rt.TOPIC, "t"))
        self.assertFalse(authorizer.scoped("a", "10.0.0.2").authorize(
            "User:alice", Op.READ, Rt.TOPIC, "t"))
        self.assertFalse(authorizer.scoped("b", "10.0.0.1").authorize(
            "User:alice", Op.READ, Rt.TOPIC, "t"))
        self.assertTrue(authorizer.scoped("b", "x").authorize("User:root", Op.DELETE, Rt.TOPIC, "t"))

    def test_later_acls_seen(self) -> None:
        """A connection's authorizer sees ACLs created after it was made."""
        store = AclStore.in_directory(self.mktemp(), durable=False)
        scoped = AclAuthorizer(store).scoped("/", "h")
        self.assertFalse(scoped.authorize("User:alice", Op.READ, Rt.TOPIC, "t"))
        store.create("/", [acl("t", Op.READ)])
        self.assertTrue(scoped.authorize("User:alice", Op.READ, Rt.TOPIC, "t"))
