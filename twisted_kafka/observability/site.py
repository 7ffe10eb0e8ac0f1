# -*- test-case-name: tests.observability.test_site -*-
"""The HTTP listener's resource tree and its service.

    /metrics   Prometheus text format (prometheus_client's exposition)
    /healthz   alive
    /readyz    store recovered and Kafka listeners up
    /api/      the management JSON API (L{twisted_kafka.observability.json_api})
    /ui/       the web UI (L{twisted_kafka.observability.ui_resource}); / redirects there

L{http_listener} builds the endpoint of C{[http] listen} (a configuration
error when it is not a valid endpoint string); L{http_service} the service
listening on it, started with the broker's other listeners.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry
from twisted.internet import endpoints
from twisted.web.resource import Resource
from twisted.web.server import Site
from twisted.web.util import Redirect

from twisted_kafka.config import BrokerConfig, ConfigError
from twisted_kafka.observability.health import Healthz, Readyz
from twisted_kafka.observability.json_api import ApiResource
from twisted_kafka.observability.metrics_resource import MetricsResource
from twisted_kafka.observability.ui_resource import UiResource
from twisted_kafka.observability.registry import build_registry
from twisted_kafka.server.listeners import Listener, ListenerService

if TYPE_CHECKING:
    from twisted_kafka.observability.view import BrokerView


def build_root(view: BrokerView, registry: CollectorRegistry | None = None) -> Resource:
    """The resource tree of the HTTP listener.

    @param registry: the Prometheus registry of C{/metrics}; one of
        L{build_registry} by default.
    """
    if registry is None:
        registry = build_registry(view)
    root = Resource()
    root.putChild(b"metrics", MetricsResource(registry))
    root.putChild(b"healthz", Healthz())
    root.putChild(b"readyz", Readyz(view))
    root.putChild(b"api", ApiResource(view))
    root.putChild(b"ui", UiResource())
    root.putChild(b"", Redirect(b"/ui/"))
    return root


def http_listener(config: BrokerConfig, reactor: Any) -> Listener | None:
    """The HTTP listener C{[http] listen} asks for, or C{None} when it is empty.

    @raise ConfigError: when it is not a valid endpoint string.
    """
    description = config.http.listen
    if not description:
        return None
    try:
        endpoint = endpoints.serverFromString(reactor, description)
    except Exception as e:
        reason = (str(e).strip() or type(e).__name__).splitlines()[0]
        raise ConfigError(f"{config.source}: [http] listen = {description}: {reason}") from None
    return Listener(description, endpoint)


class QuietSite(Site):
    """A site that writes no access log line (a scrape every few seconds would fill the log)."""

    noisy = False
    displayTracebacks = False

    def log(self, request: Any) -> None:
        """Log nothing."""


def http_service(listener: Listener, view: BrokerView, reactor: Any) -> ListenerService:
    """The service serving the HTTP resource tree on C{listener}."""
    return ListenerService(listener, QuietSite(build_root(view)), reactor, kind="HTTP")
