# -*- test-case-name: tests.apis.test_admin_cluster -*-
"""Tests for DescribeCluster, through the codec."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from tests.apis.support import call, make_broker, roundtrip
from twisted_kafka.apis import describe_cluster
from twisted_kafka.apis.support.authorized_operations import CLUSTER_OPERATIONS, NOT_REQUESTED
from twisted_kafka.errors import ErrorCode


class DescribeClusterTests(SynchronousTestCase):
    """DescribeCluster describes the single-node cluster."""

    def setUp(self) -> None:
        """Set up what each test here uses."""
        self.broker = make_broker(self)

    def describe(self, version: int, **request: object) -> dict:
        """Send DescribeCluster at C{version}; return the decoded response."""
        body = {"include_cluster_authorized_operations": False} | request
        response = call(self.broker, describe_cluster.API_KEY, version, body)
        return roundtrip(describe_cluster.API_KEY, version, response)

    def test_describe(self) -> None:
        """Every version names the cluster id, this broker and it as the controller."""
        for version in (0, 1, 2):
            response = self.describe(version)
            self.assertEqual(response["error_code"], ErrorCode.NONE)
            self.assertEqual(response["cluster_id"], self.broker.store.cluster_id)
            self.assertEqual(response["controller_id"], 0)
            [broker] = response["brokers"]
            self.assertEqual((broker["broker_id"], broker["host"], broker["port"], broker["rack"]),
                             (0, "127.0.0.1", 9092, None))
            self.assertFalse(broker["is_fenced"])
            self.assertEqual(response["cluster_authorized_operations"], NOT_REQUESTED)

    def test_authorized_operations(self) -> None:
        """Asked for, the authorized operations are everything the cluster allows."""
        response = self.describe(2, include_cluster_authorized_operations=True,
                                 include_fenced_brokers=True)
        self.assertEqual(response["cluster_authorized_operations"], CLUSTER_OPERATIONS)
        self.assertEqual(len(response["brokers"]), 1)

    def test_controller_endpoints(self) -> None:
        """Asking a broker for controller endpoints is MISMATCHED_ENDPOINT_TYPE."""
        response = self.describe(1, endpoint_type=2)
        self.assertEqual(response["error_code"], ErrorCode.MISMATCHED_ENDPOINT_TYPE)
        self.assertEqual(response["brokers"], [])

    def test_unknown_endpoints(self) -> None:
        """An unknown endpoint type is UNSUPPORTED_ENDPOINT_TYPE."""
        response = self.describe(1, endpoint_type=9)
        self.assertEqual(response["error_code"], ErrorCode.UNSUPPORTED_ENDPOINT_TYPE)
        self.assertIn("9", response["error_message"])
