# -*- test-case-name: tests.apis.test_scram_credential_apis -*-
"""Tests for L{twisted_kafka.apis.scram_credential_apis}."""

from __future__ import annotations

import dataclasses
import os

from twisted.trial.unittest import SynchronousTestCase

from tests.apis.support import call, make_broker, roundtrip
from tests.server.test_authorizer import RefusingAuthorizer
from twisted_kafka.errors import ErrorCode
from twisted_kafka.security.credentials import CredentialStore
from twisted_kafka.security.scram import SCRAM_SHA_256, SCRAM_SHA_512
from twisted_kafka.server.authorizer import CLUSTER_NAME, ResourceType

DESCRIBE, ALTER = 50, 51


def upsertion(name: str, password: str, mechanism: int = 1, iterations: int = 4096) -> dict:
    """An upsertion as a client computes it (the salted password, never the password)."""
    scram = SCRAM_SHA_256 if mechanism != 2 else SCRAM_SHA_512
    salt = os.urandom(16)
    salted = (scram.salted_password(password, salt, iterations)
              if 4096 <= iterations <= 16384 else b"x" * 32)
    return {"name": name, "mechanism": mechanism, "iterations": iterations, "salt": salt,
            "salted_password": salted}


class ScramCredentialApiTests(SynchronousTestCase):
    """Users created, described and deleted through the APIs, as kafka-configs does."""

    def setUp(self) -> None:
        """A broker with an empty users file."""
        self.broker = make_broker(self)
        self.broker._credentials = CredentialStore.in_directory(self.mktemp(), durable=False)

    def alter(self, deletions: list[dict] = [], upsertions: list[dict] = [],
              vhost: str = "/") -> list[tuple[str, int]]:
        """AlterUserScramCredentials; return (user, error code) per result."""
        response = roundtrip(ALTER, 0, call(self.broker, ALTER, 0, {
            "deletions": deletions, "upsertions": upsertions}, vhost=vhost))
        return [(r["user"], r["error_code"]) for r in response["results"]]

    def describe(self, names: list[str] | None = None, vhost: str = "/") -> dict:
        """DescribeUserScramCredentials."""
        users = None if names is None else [{"name": n} for n in names]
        return roundtrip(DESCRIBE, 0, call(self.broker, DESCRIBE, 0, {"users": users}, vhost=vhost))

    def test_upsert_then_login_and_describe(self) -> None:
        """An upserted credential checks the password; describe shows mechanism and iterations."""
        self.assertEqual(self.alter(upsertions=[upsertion("alice", "pw"),
                                                upsertion("alice", "pw", 2, 8192)]),
                         [("alice", 0)])
        self.assertTrue(self.broker.credentials.password_matches("alice", "pw"))
        results = self.describe()["results"]
        self.assertEqual(results, [{"user": "alice", "error_code": 0, "error_message": None,
                                    "credential_infos": [{"mechanism": 1, "iterations": 4096},
                                                         {"mechanism": 2, "iterations": 8192}]}])

    def test_delete(self) -> None:
        """Deleting the last credential removes the user; a missing one is RESOURCE_NOT_FOUND."""
        self.alter(upsertions=[upsertion("alice", "pw")])
        self.assertEqual(self.alter(deletions=[{"name": "alice", "mechanism": 2}]),
                         [("alice", ErrorCode.RESOURCE_NOT_FOUND)])
        self.assertEqual(self.alter(deletions=[{"name": "alice", "mechanism": 1}]), [("alice", 0)])
        self.assertIsNone(self.broker.credentials.user("alice"))

    def test_errors_fail_the_whole_user(self) -> None:
        """Kafka's per-user errors; the user's other alterations are not applied."""
        results = self.alter(upsertions=[
            upsertion("few", "pw", iterations=100), upsertion("many", "pw", iterations=20000),
            upsertion("mech", "pw", mechanism=9), upsertion("dup", "pw"), upsertion("dup", "pw"),
            upsertion("", "pw"), upsertion("ok", "pw")])
        self.assertEqual(results, [
            ("few", ErrorCode.UNACCEPTABLE_CREDENTIAL), ("many", ErrorCode.UNACCEPTABLE_CREDENTIAL),
            ("mech", ErrorCode.UNSUPPORTED_SASL_MECHANISM), ("dup", ErrorCode.DUPLICATE_RESOURCE),
            ("", ErrorCode.UNACCEPTABLE_CREDENTIAL), ("ok", 0)])
        self.assertEqual([u.name for u in self.broker.credentials.users()], ["ok"])

    def test_describe_unknown_and_duplicate(self) -> None:
        """Named unknown users are RESOURCE_NOT_FOUND, a name twice DUPLICATE_RESOURCE."""
        self.alter(upsertions=[upsertion("alice", "pw")])
        codes = [(r["user"], r["error_code"])
                 for r in self.describe(["alice", "bob", "carol", "carol"])["results"]]
        self.assertEqual(codes, [("alice", 0), ("bob", ErrorCode.RESOURCE_NOT_FOUND),
                                 ("carol", ErrorCode.DUPLICATE_RESOURCE)])

    def test_vhosts_kept_apart(self) -> None:
        """A user made in vhost a is invisible and unchangeable from vhost b."""
        self.alter(upsertions=[upsertion("alice", "pw")], vhost="a")
        user = self.broker.credentials.user("alice")
        assert user is not None
        self.assertEqual((user.vhosts, user.default_vhost), (("a",), "a"))
        self.assertEqual(self.describe(vhost="b")["results"], [])
        self.assertEqual(self.alter(upsertions=[upsertion("alice", "other")], vhost="b"),
                         [("alice", ErrorCode.UNACCEPTABLE_CREDENTIAL)])
        self.assertTrue(self.broker.credentials.password_matches("alice", "pw"))

    def test_super_user_sees_every_vhost(self) -> None:
        """A super user describes users of other vhosts."""
        self.alter(upsertions=[upsertion("alice", "pw")], vhost="a")
        self.broker.settings = dataclasses.replace(
            self.broker.settings, super_users=frozenset({"User:ANONYMOUS"}))
        self.assertEqual([r["user"] for r in self.describe(vhost="b")["results"]], ["alice"])

    def test_cluster_authorization(self) -> None:
        """Without Cluster/Alter and Cluster/Describe: CLUSTER_AUTHORIZATION_FAILED."""
        self.broker.authorizer = RefusingAuthorizer((ResourceType.CLUSTER, CLUSTER_NAME))
        self.assertEqual(self.alter(upsertions=[upsertion("alice", "pw")]),
                         [("alice", ErrorCode.CLUSTER_AUTHORIZATION_FAILED)])
        self.assertEqual(self.describe()["error_code"], ErrorCode.CLUSTER_AUTHORIZATION_FAILED)
        self.assertEqual(self.broker.credentials.users(), [])
