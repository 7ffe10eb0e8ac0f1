# -*- test-case-name: tests.observability.test_json_api -*-
"""Tests for the management JSON API (L{twisted_kafka.observability.json_api}), through twisted.web's test request."""

from __future__ import annotations

import base64
import json
from io import BytesIO
from typing import Any
from urllib.parse import unquote_to_bytes

from twisted.internet.testing import StringTransport
from twisted.trial.unittest import SynchronousTestCase
from twisted.web.resource import getChildForRequest
from twisted.web.server import NOT_DONE_YET
from twisted.web.test.requesthelper import DummyRequest

from tests.observability.helpers import observed_broker
from tests.store.helpers import NOW_MS
from twisted_kafka.observability.site import build_root
from twisted_kafka.observability.view import BrokerView
from twisted_kafka.records.record import build_batch


def call(view: BrokerView, method: str, path: str, body: Any = None,
         content_type: bytes = b"application/json", **args: str) -> tuple[int, Any]:
    """Send one request to the site of C{view}; return the status and the decoded JSON."""
    # twisted.web percent-decodes each segment after splitting the path
    segments = [unquote_to_bytes(s) for s in path.lstrip("/").split("/")]
    request = DummyRequest(segments)
    request.method = method.encode()
    request.args = {k.encode(): [v.encode()] for k, v in args.items()}
    if body is not None:
        request.requestHeaders.setRawHeaders(b"content-type", [content_type])
        request.content = BytesIO(json.dumps(body).encode())
    resource = getChildForRequest(build_root(view), request)
    result = resource.render(request)
    if result is not NOT_DONE_YET:
        request.write(result)
        request.finish()
    assert request.finished, "the answer is still waiting"
    assert request.responseHeaders.getRawHeaders(b"content-type") == [b"application/json; charset=utf-8"]
    return request.responseCode or 200, json.loads(b"".join(request.written))


class ReadTests(SynchronousTestCase):
    """The read-only endpoints."""

    def setUp(self) -> None:
        """A broker with topics orders (7 records) and audit, and group billing."""
        self.broker, self.view = observed_broker(self)

    def test_overview(self) -> None:
        """Version, node and totals."""
        code, body = call(self.view, "GET", "/api/overview")
        self.assertEqual(code, 200)
        self.assertEqual(body["node_id"], 0)
        self.assertEqual(body["totals"]["topics"], 3)  # with __consumer_offsets
        self.assertEqual(body["totals"]["groups"], 1)
        self.assertTrue(body["ready"])

    def test_vhosts(self) -> None:
        """Every vhost with its topic count."""
        self.assertEqual([(v["name"], v["topics"]) for v in call(self.view, "GET", "/api/vhosts")[1]],
                         [("/", 3)])

    def test_topics_filtered_and_paged(self) -> None:
        """Topics filter by name, skip internal ones unless asked, and page."""
        vhost = self.broker.store.vhost("/")
        for i in range(30):
            vhost.create_topic(f"load-{i:02}", 1)
        code, body = call(self.view, "GET", "/api/vhosts/%2F/topics", match="load", offset="10", limit="5")
        self.assertEqual(code, 200)
        self.assertEqual(body["total"], 30)
        self.assertEqual([t["name"] for t in body["topics"]], [f"load-{i}" for i in range(10, 15)])
        names = [t["name"] for t in call(self.view, "GET", "/api/vhosts/%2F/topics", limit="100")[1]["topics"]]
        self.assertNotIn("__consumer_offsets", names)
        names = [t["name"] for t in call(self.view, "GET", "/api/vhosts/%2F/topics", internal="1")[1]["topics"]]
        self.assertIn("__consumer_offsets", names)

    def test_topic(self) -> None:
        """A topic's partitions and configs."""
        code, body = call(self.view, "GET", "/api/vhosts/%2F/topics/orders")
        self.assertEqual(code, 200)
        self.assertEqual([(p["partition"], p["log_end_offset"]) for p in body["partitions"]], [(0, 5), (1, 2)])
        configs = {c["name"]: (c["value"], c["source"]) for c in body["configs"]}
        self.assertEqual(configs["cleanup.policy"], ("delete", "default"))

    def test_records_text_and_binary(self) -> None:
        """Text values are shown as text, binary ones as base64, headers too."""
        partition = self.broker.store.vhost("/").topic("audit").partitions[0]  # type: ignore[union-attr]
        partition.append(build_batch([(b"k", b"hello", [("h", b"\x00\xff")], NOW_MS),
                                      (None, b"\x00\x01bin", [], NOW_MS + 5)]))
        code, body = call(self.view, "GET", "/api/vhosts/%2F/topics/audit/partitions/0/records")
        self.assertEqual(code, 200)
        first, second = body["records"]
        self.assertEqual((first["key"], first["value"]), ({"text": "k"}, {"text": "hello"}))
        self.assertEqual(first["headers"], [{"key": {"text": "h"},
                                             "value": {"base64": base64.b64encode(b"\x00\xff").decode()}}])
        self.assertEqual((second["key"], second["value"]),
                         (None, {"base64": base64.b64encode(b"\x00\x01bin").decode()}))

    def test_records_from_offset_and_timestamp(self) -> None:
        """Records start at the offset asked, or at the first one at or after the timestamp."""
        partition = self.broker.store.vhost("/").topic("audit").partitions[0]  # type: ignore[union-attr]
        partition.append(build_batch([(None, b"v%d" % i, [], NOW_MS + i * 10) for i in range(5)]))
        body = call(self.view, "GET", "/api/vhosts/%2F/topics/audit/partitions/0/records",
                    offset="3")[1]
        self.assertEqual([r["offset"] for r in body["records"]], [3, 4])
        body = call(self.view, "GET", "/api/vhosts/%2F/topics/audit/partitions/0/records",
                    timestamp=str(NOW_MS + 15), limit="1")[1]
        self.assertEqual([r["offset"] for r in body["records"]], [2])

    def test_groups(self) -> None:
        """Groups with their total lag; one group's offsets."""
        code, body = call(self.view, "GET", "/api/vhosts/%2F/groups")
        self.assertEqual(code, 200)
        self.assertEqual([(g["group"], g["state"], g["lag"]) for g in body["groups"]],
                         [("billing", "Empty", 2)])
        body = call(self.view, "GET", "/api/vhosts/%2F/groups/billing")[1]
        self.assertEqual([(o["topic"], o["partition"], o["committed"], o["end"], o["lag"]) for o in body["offsets"]],
                         [("orders", 0, 3, 5, 2), ("orders", 1, 2, 2, 0)])

    def test_connections(self) -> None:
        """Each connection's peer, client, software and bytes."""
        self.view.connections = lambda: [_Connection()]
        [connection] = call(self.view, "GET", "/api/connections")[1]
        self.assertEqual(connection["peer"], "10.0.0.9:5555")
        self.assertEqual((connection["client_software_name"], connection["bytes_in"]), ("librdkafka", 12))
        self.assertEqual(connection["vhost"], "/")

    def test_not_found(self) -> None:
        """Unknown vhosts, topics, groups and paths are 404 with a message."""
        for path in ("/api/vhosts/nope/topics", "/api/vhosts/%2F/topics/nope",
                     "/api/vhosts/%2F/groups/nope", "/api/whatever"):
            code, body = call(self.view, "GET", path)
            self.assertEqual((code, body["error"]), (404, "NOT_FOUND"), path)

    def test_bad_parameter(self) -> None:
        """A parameter that is not a number is 400."""
        code, body = call(self.view, "GET", "/api/vhosts/%2F/topics", offset="x")
        self.assertEqual((code, body["error"]), (400, "BAD_REQUEST"))

    def test_method_not_allowed(self) -> None:
        """A method a path does not take is 405."""
        self.assertEqual(call(self.view, "POST", "/api/overview")[0], 405)


class ActionTests(SynchronousTestCase):
    """Creating and deleting topics and resetting offsets, as the admin APIs do."""

    def setUp(self) -> None:
        """A broker with topics orders and audit, and group billing."""
        self.broker, self.view = observed_broker(self)

    def test_create_topic(self) -> None:
        """POST creates the topic with its partitions and configs."""
        code, body = call(self.view, "POST", "/api/vhosts/%2F/topics",
                          {"name": "fresh", "partitions": 3, "configs": {"retention.ms": "1000"}})
        self.assertEqual(code, 200)
        self.assertEqual(len(body["partitions"]), 3)
        topic = self.broker.store.vhost("/").topic("fresh")
        assert topic is not None
        self.assertEqual(topic.config("retention.ms"), "1000")

    def test_create_refused_as_kafka_refuses(self) -> None:
        """An internal name, an existing topic and a bad config get CreateTopics's errors."""
        for body, error in (({"name": "__mine"}, "POLICY_VIOLATION"),
                            ({"name": "orders"}, "TOPIC_ALREADY_EXISTS"),
                            ({"name": "x", "configs": {"retention.ms": "soon"}}, "INVALID_CONFIG")):
            code, answer = call(self.view, "POST", "/api/vhosts/%2F/topics", body)
            self.assertEqual((code, answer["error"]), (400, error), body)

    def test_create_needs_json(self) -> None:
        """A POST that is not application/json is 415 (no cross-site form posts)."""
        code, _ = call(self.view, "POST", "/api/vhosts/%2F/topics", {"name": "x"},
                       content_type=b"application/x-www-form-urlencoded")
        self.assertEqual(code, 415)
        self.assertIsNone(self.broker.store.vhost("/").topic("x"))

    def test_delete_topic(self) -> None:
        """DELETE removes the topic and its committed offsets (the group, left with none, goes too)."""
        code, body = call(self.view, "DELETE", "/api/vhosts/%2F/topics/orders")
        self.assertEqual((code, body), (200, {"deleted": "orders"}))
        self.assertIsNone(self.broker.store.vhost("/").topic("orders"))
        self.assertEqual(call(self.view, "GET", "/api/vhosts/%2F/groups/billing")[0], 404)

    def test_delete_internal_refused(self) -> None:
        """The offsets log cannot be deleted."""
        code, body = call(self.view, "DELETE", "/api/vhosts/%2F/topics/__consumer_offsets")
        self.assertEqual((code, body["error"]), (400, "POLICY_VIOLATION"))

    def test_reset_offsets(self) -> None:
        """Resetting to earliest, to an offset and to latest commits those offsets."""
        path = "/api/vhosts/%2F/groups/billing/reset"
        code, body = call(self.view, "POST", path, {"topic": "orders", "to": "earliest"})
        self.assertEqual(code, 200)
        self.assertEqual([o["committed"] for o in body["offsets"]], [0, 0])
        body = call(self.view, "POST", path, {"topic": "orders", "to": "offset", "value": 4,
                                              "partitions": [0]})[1]
        self.assertEqual([o["committed"] for o in body["offsets"]], [4, 0])
        body = call(self.view, "POST", path, {"topic": "orders", "to": "latest"})[1]
        self.assertEqual([o["lag"] for o in body["offsets"]], [0, 0])

    def test_reset_refused(self) -> None:
        """An unknown topic or target is refused with Kafka's error names."""
        path = "/api/vhosts/%2F/groups/billing/reset"
        self.assertEqual(call(self.view, "POST", path, {"topic": "nope", "to": "latest"})[1]["error"],
                         "UNKNOWN_TOPIC_OR_PARTITION")
        self.assertEqual(call(self.view, "POST", path, {"topic": "orders", "to": "soon"})[1]["error"],
                         "INVALID_REQUEST")


class _Connection:
    """What the connections endpoint reads of a connection."""

    peer = "10.0.0.9:5555"
    client_id = "rdkafka"
    client_software = ("librdkafka", "2.3.0")
    principal = "User:ANONYMOUS"
    bytes_in = 12
    bytes_out = 34
    connected_at = 0.0

    class vhost:
        """The connection's vhost."""

        name = "/"

    def __init__(self) -> None:
        self.transport = StringTransport()
