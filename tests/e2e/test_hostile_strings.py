# -*- test-case-name: tests.e2e.test_hostile_strings -*-
"""Client strings the broker must answer or log safely, against the real broker.

A 32 KiB topic name quoted in an error message does not fit the int16
string of a non-flexible version: the message is cut to fit and the client
gets its error code.  A topic name ending in a newline is refused.  A group
id holding NUL bytes and newlines reaches the log escaped, on one line.
"""

from __future__ import annotations

import time

from tests.e2e.clients import PRODUCE, RawClient, SharedBrokerCase, produce_request, produce_results
from twisted_kafka.errors import ErrorCode
from twisted_kafka.protocol import headers as wire_headers
from twisted_kafka.records.record import build_batch

JOIN_GROUP, CREATE_TOPICS, DESCRIBE_CONFIGS, ALTER_CONFIGS, CREATE_PARTITIONS = 11, 19, 32, 33, 37
TOPIC_RESOURCE = 2
#: The longest name an int16 string holds: any message quoting it is longer.
LONG_NAME = "x" * 32767


class LongNameTests(SharedBrokerCase):
    """Requests naming a 32 KiB topic in non-flexible versions get their error code."""

    def setUp(self) -> None:
        """Open a raw connection."""
        self.client = RawClient(self.broker.bootstrap)
        self.addCleanup(self.client.close)
        self.addCleanup(self.still_answers)

    def still_answers(self) -> None:
        """The connection still works and no traceback was logged."""
        self.assertEqual(self.client.request(18, 0, {})["error_code"], ErrorCode.NONE)
        log = self.broker.log_text()
        self.assertNotIn("Traceback", log)
        self.assertNotIn("Unhandled Error", log)

    def test_create_topics_v2(self) -> None:
        """CreateTopics v2: INVALID_TOPIC_EXCEPTION, a message cut to fit."""
        response = self.client.request(CREATE_TOPICS, 2, {
            "topics": [{"name": LONG_NAME, "num_partitions": 1, "replication_factor": 1,
                        "assignments": [], "configs": []}],
            "timeout_ms": 1000, "validate_only": False})
        [topic] = response["topics"]
        self.assertEqual(topic["error_code"], ErrorCode.INVALID_TOPIC_EXCEPTION)
        self.assertLessEqual(len(topic["error_message"].encode()), 32767)
        self.assertTrue(topic["error_message"].endswith("..."))

    def test_create_partitions_v1(self) -> None:
        """CreatePartitions v1 for a long unknown name: an error code."""
        response = self.client.request(CREATE_PARTITIONS, 1, {
            "topics": [{"name": LONG_NAME, "count": 2, "assignments": None}],
            "timeout_ms": 1000, "validate_only": False})
        [topic] = response["results"]
        self.assertNotEqual(topic["error_code"], ErrorCode.NONE)

    def test_produce_v8(self) -> None:
        """Produce v8 to a long unknown name: an error code for the partition."""
        batch = build_batch([(b"k", b"v", [], 0)])
        response = self.client.request(PRODUCE, 8, produce_request({(LONG_NAME, 0): batch}))
        [result] = produce_results(response).values()
        self.assertNotEqual(result["error_code"], ErrorCode.NONE)

    def test_describe_configs_v1(self) -> None:
        """DescribeConfigs v1 of a long unknown name: an error code."""
        response = self.client.request(DESCRIBE_CONFIGS, 1, {
            "resources": [{"resource_type": TOPIC_RESOURCE, "resource_name": LONG_NAME,
                           "configuration_keys": None}],
            "include_synonyms": False})
        [result] = response["results"]
        self.assertNotEqual(result["error_code"], ErrorCode.NONE)

    def test_alter_configs_v0(self) -> None:
        """AlterConfigs v0 of a long unknown name: an error code."""
        response = self.client.request(ALTER_CONFIGS, 0, {
            "resources": [{"resource_type": TOPIC_RESOURCE, "resource_name": LONG_NAME,
                           "configs": [{"name": "retention.ms", "value": "1"}]}],
            "validate_only": False})
        [result] = response["responses"]
        self.assertNotEqual(result["error_code"], ErrorCode.NONE)


class NameTests(SharedBrokerCase):
    """Names and ids with control characters."""

    def test_trailing_newline_refused(self) -> None:
        """A topic name ending in a newline is INVALID_TOPIC_EXCEPTION."""
        with RawClient(self.broker.bootstrap) as client:
            response = client.request(CREATE_TOPICS, 5, {
                "topics": [{"name": "x\n", "num_partitions": 1, "replication_factor": 1,
                            "assignments": [], "configs": []}],
                "timeout_ms": 1000, "validate_only": False})
        [topic] = response["topics"]
        self.assertEqual(topic["error_code"], ErrorCode.INVALID_TOPIC_EXCEPTION)

    def test_group_id_escaped_in_log(self) -> None:
        """A group id holding NUL and a newline reaches the log escaped, on one line."""
        with RawClient(self.broker.bootstrap) as client:
            # v3 joins at once (no member id round trip) and starts a rebalance.
            client.send(JOIN_GROUP, 3, {
                "group_id": "evil\x00\ngroup", "session_timeout_ms": 10000,
                "rebalance_timeout_ms": 10000, "member_id": "",
                "protocol_type": "consumer",
                "protocols": [{"name": "range", "metadata": b""}]})
            deadline = time.monotonic() + 10
            while "evil\\x00\\x0agroup" not in self.broker.log_text():
                self.assertLess(time.monotonic(), deadline, "no log line names the group")
                time.sleep(0.05)
        self.assertNotIn("\x00", self.broker.log_text())
