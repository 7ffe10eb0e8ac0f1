# -*- test-case-name: tests.security.test_credentials -*-
"""Tests for L{twisted_kafka.security.credentials}."""

from __future__ import annotations

import os

from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.security.credentials import CredentialError, CredentialStore
from twisted_kafka.security.scram import SCRAM_SHA_256, SCRAM_SHA_512
from twisted_kafka.store import metafile


class CredentialStoreTests(SynchronousTestCase):
    """Users, their credentials and vhosts, kept across reopening."""

    def setUp(self) -> None:
        """A store in a fresh directory."""
        self.data_dir = self.mktemp()
        self.store = CredentialStore.in_directory(self.data_dir, durable=False)

    def reopened(self) -> CredentialStore:
        """Return the store read back from disk."""
        return CredentialStore.in_directory(self.data_dir)

    def test_password_kept_as_scram_keys(self) -> None:
        """Both mechanisms get a credential; the file holds no password."""
        self.store.set_password("alice", "pencil-123", "/")
        with open(os.path.join(self.data_dir, "users.json"), "rb") as f:
            data = f.read()
        self.assertNotIn(b"pencil-123", data)
        user = self.reopened().user("alice")
        assert user is not None
        self.assertEqual(sorted(user.scram), ["SCRAM-SHA-256", "SCRAM-SHA-512"])
        self.assertEqual(user.principal, "User:alice")
        self.assertGreaterEqual(user.scram["SCRAM-SHA-256"].iterations, 4096)

    def test_plain_checked_against_scram(self) -> None:
        """A password matches through the stored keys; a wrong one or unknown user does not."""
        self.store.set_password("alice", "pencil", "/")
        store = self.reopened()
        self.assertTrue(store.password_matches("alice", "pencil"))
        self.assertFalse(store.password_matches("alice", "pencil!"))
        self.assertFalse(store.password_matches("bob", "pencil"))

    def test_login_picks_vhost(self) -> None:
        """C{vhost:user} needs a granted vhost; a bare name lands in the default."""
        self.store.set_password("alice", "pw", "team-a")
        self.store.grant("alice", ("team-b",))
        store = self.reopened()
        found = store.login("alice")
        assert found is not None
        self.assertEqual(found[1], "team-a")
        found = store.login("team-b:alice")
        assert found is not None
        self.assertEqual(found[1], "team-b")
        self.assertIsNone(store.login("team-c:alice"))
        self.assertIsNone(store.login("team-a:bob"))
        self.assertIsNotNone(store.scram_credential("team-b:alice", "SCRAM-SHA-512"))

    def test_delete_credential(self) -> None:
        """Deleting the last credential deletes the user; a missing one is refused."""
        self.store.set_password("alice", "pw", "/", mechanisms=(SCRAM_SHA_256,))
        self.assertRaises(CredentialError, self.store.delete_credential, "alice", SCRAM_SHA_512)
        self.store.delete_credential("alice", SCRAM_SHA_256)
        self.assertIsNone(self.reopened().user("alice"))

    def test_refused_changes(self) -> None:
        """Bad names, too few or too many iterations, empty passwords are refused."""
        for name in ("", "a:b", "a\nb"):
            self.assertRaises(CredentialError, self.store.set_password, name, "pw", "/")
        for iterations in (4095, 16385):
            self.assertRaises(CredentialError, self.store.set_password, "a", "pw", "/",
                              iterations=iterations)
        self.assertRaises(CredentialError, self.store.set_password, "a", "", "/")
        self.assertEqual(self.store.users(), [])

    def test_revoke_and_default(self) -> None:
        """The default vhost cannot be revoked; another can."""
        self.store.set_password("alice", "pw", "a")
        self.store.grant("alice", ("b",), default_vhost="b")
        self.assertRaises(CredentialError, self.store.revoke, "alice", "b")
        user = self.store.revoke("alice", "a")
        self.assertEqual((user.vhosts, user.default_vhost), (("b",), "b"))

    def test_not_a_users_file(self) -> None:
        """A file that is not a users file is refused at open."""
        path = os.path.join(self.data_dir, "other.json")
        metafile.write(path, "topic", {}, durable=False)
        self.assertRaises(metafile.MetadataFileError, CredentialStore, path)
