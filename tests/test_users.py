# -*- test-case-name: tests.test_users -*-
"""Tests for L{twisted_kafka.users}, the command managing users."""

from __future__ import annotations

import io
import os
import subprocess
import sys

from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.security.credentials import CredentialStore
from twisted_kafka.users import run


class UsersCommandTests(SynchronousTestCase):
    """Each command changes the users file the broker reads."""

    def setUp(self) -> None:
        """A fresh data directory."""
        self.data_dir = self.mktemp()

    def run_command(self, *argv: str, stdin: str = "") -> tuple[int, str]:
        """Run a command on the data directory; return its status and output."""
        out = io.StringIO()
        status = run(["--data-dir", self.data_dir, *argv], io.StringIO(stdin), out)
        return status, out.getvalue()

    def store(self) -> CredentialStore:
        """The users file as the broker reads it."""
        return CredentialStore.in_directory(self.data_dir)

    def test_add_with_password_from_stdin(self) -> None:
        """add stores SCRAM credentials for both mechanisms and the vhosts given."""
        status, out = self.run_command("add", "admin", "--vhost", "a", "--vhost", "b",
                                       "--password-stdin", stdin="s3cret\n")
        self.assertEqual(status, 0, out)
        self.assertIn("admin", out)
        store = self.store()
        self.assertTrue(store.password_matches("admin", "s3cret"))
        self.assertTrue(store.password_matches("b:admin", "s3cret"))
        user = store.user("admin")
        assert user is not None
        self.assertEqual((user.default_vhost, user.vhosts), ("a", ("a", "b")))

    def test_grant_revoke_list_delete(self) -> None:
        """The other commands, in turn."""
        self.run_command("add", "bob", "--password", "pw", "--mechanism", "SCRAM-SHA-512")
        self.assertEqual(self.run_command("grant", "bob", "x", "--default")[0], 0)
        self.assertEqual(self.run_command("revoke", "bob", "/")[0], 0)
        status, out = self.run_command("list")
        self.assertEqual(out, "bob\tdefault=x\tvhosts=x\tSCRAM-SHA-512:4096\n")
        self.assertEqual(self.run_command("delete", "bob")[0], 0)
        self.assertEqual(self.store().users(), [])

    def test_errors_are_one_line(self) -> None:
        """A refused change exits 1 with one line, no traceback."""
        result = subprocess.run(
            [sys.executable, "-m", "twisted_kafka.users", "--data-dir", self.data_dir,
             "passwd", "nobody", "--password", "x"],
            capture_output=True, text=True, cwd=os.path.dirname(os.path.dirname(__file__)))
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stderr, "error: no user 'nobody'\n")
