# -*- test-case-name: tests.observability.test_site -*-
"""Tests for L{twisted_kafka.observability.site} and L{twisted_kafka.observability.health}."""

from __future__ import annotations

import dataclasses

from twisted.internet.testing import MemoryReactor
from twisted.trial.unittest import SynchronousTestCase
from twisted.web.resource import Resource, getChildForRequest
from twisted.web.test.requesthelper import DummyRequest

from tests.observability.helpers import observed_broker
from twisted_kafka.config import BrokerConfig, ConfigError, HttpConfig
from twisted_kafka.observability.site import build_root, http_listener


def render(root: Resource, path: str) -> tuple[int, bytes, DummyRequest]:
    """Render C{path} (GET) of C{root} synchronously; return the code, body and request."""
    request = DummyRequest([p.encode() for p in path.lstrip("/").split("/")])
    resource = getChildForRequest(root, request)
    body = resource.render(request)
    if isinstance(body, bytes):
        request.write(body)
    return request.responseCode or 200, b"".join(request.written), request


class HealthTests(SynchronousTestCase):
    """/healthz and /readyz."""

    def test_healthz(self) -> None:
        """/healthz answers 200 ok."""
        _, view = observed_broker(self)
        code, body, _ = render(build_root(view), "/healthz")
        self.assertEqual((code, body), (200, b"ok\n"))

    def test_ready(self) -> None:
        """/readyz answers 200 when the store runs and every listener listens."""
        _, view = observed_broker(self, listeners=lambda: [("tcp:9092", True)])
        code, body, _ = render(build_root(view), "/readyz")
        self.assertEqual((code, body), (200, b"ready\n"))

    def test_listener_down(self) -> None:
        """/readyz answers 503 naming a listener that does not listen."""
        _, view = observed_broker(self, listeners=lambda: [("tcp:9092", False)])
        code, body, _ = render(build_root(view), "/readyz")
        self.assertEqual((code, body), (503, b"listener tcp:9092 not listening\n"))

    def test_store_stopped(self) -> None:
        """/readyz answers 503 once the store has stopped."""
        broker, view = observed_broker(self)
        self.successResultOf(broker.store.stopService())  # type: ignore[attr-defined]
        code, body, _ = render(build_root(view), "/readyz")
        self.assertEqual((code, body), (503, b"store not open\n"))


class MetricsResourceTests(SynchronousTestCase):
    """/metrics serves the Prometheus text format."""

    def test_metrics(self) -> None:
        """The exposition includes the broker's series and the process collector's."""
        _, view = observed_broker(self)
        code, body, request = render(build_root(view), "/metrics")
        self.assertEqual(code, 200)
        self.assertIn(b'kafka_partition_log_end_offset{partition="0",topic="orders",vhost="/"} 5.0', body)
        self.assertIn(b"process_cpu_seconds_total", body)
        self.assertTrue(request.responseHeaders.getRawHeaders(b"content-type")[0].startswith(b"text/plain"))


class HttpListenerTests(SynchronousTestCase):
    """[http] listen builds the endpoint, or refuses with one line."""

    def config(self, listen: str) -> BrokerConfig:
        """A configuration with C{[http] listen = listen}."""
        return dataclasses.replace(BrokerConfig(), http=HttpConfig(listen=listen))

    def test_off(self) -> None:
        """Empty means no HTTP listener."""
        self.assertIsNone(http_listener(self.config(""), MemoryReactor()))

    def test_endpoint(self) -> None:
        """A strports string becomes the listener."""
        listener = http_listener(self.config("tcp:9644:interface=127.0.0.1"), MemoryReactor())
        assert listener is not None
        self.assertEqual(listener.description, "tcp:9644:interface=127.0.0.1")

    def test_invalid(self) -> None:
        """A string that is no endpoint is a configuration error naming it."""
        error = self.assertRaises(ConfigError, http_listener, self.config("bogus:1"), MemoryReactor())
        self.assertTrue(str(error).startswith("<defaults>: [http] listen = bogus:1: "), str(error))


class UiTests(SynchronousTestCase):
    """/ui/ serves the packaged page; / redirects to it."""

    def test_index(self) -> None:
        """/ui/ is the UI's page, with a content security policy."""
        _, view = observed_broker(self)
        code, body, request = render(build_root(view), "/ui/")
        self.assertEqual(code, 200)
        self.assertIn(b'<script src="app.js"></script>', body)
        self.assertIn(b"default-src 'self'", request.responseHeaders.getRawHeaders(b"content-security-policy")[0])

    def test_script(self) -> None:
        """The script is served as JavaScript and loads nothing from elsewhere."""
        _, view = observed_broker(self)
        code, body, request = render(build_root(view), "/ui/app.js")
        self.assertEqual(code, 200)
        self.assertEqual(request.responseHeaders.getRawHeaders(b"content-type"), [b"text/javascript; charset=utf-8"])
        self.assertNotIn(b"http://", body)
        self.assertNotIn(b"https://", body)
        self.assertNotIn(b"innerHTML", body)

    def test_root_redirects(self) -> None:
        """/ redirects to /ui/."""
        _, view = observed_broker(self)
        _, _, request = render(build_root(view), "/")
        self.assertEqual(request.responseHeaders.getRawHeaders(b"location"), [b"/ui/"])
