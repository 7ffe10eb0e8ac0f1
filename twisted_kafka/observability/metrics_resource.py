# -*- test-case-name: tests.observability.test_site -*-
"""C{/metrics}: the registry in the exposition format the scraper asks for.

prometheus_client writes the text (Prometheus text format, or OpenMetrics
when the C{Accept} header asks for it).  The scrape runs on the reactor
thread, where the broker's state may be read safely (about a millisecond
for a few topics; see benchmarks/request_bench.py C{--metrics}), rather
than in the WSGI thread pool prometheus_client's own Twisted resource uses.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder
from twisted.web.resource import Resource
from twisted.web.server import Request


class MetricsResource(Resource):
    """Serves one registry."""

    isLeaf = True

    def __init__(self, registry: CollectorRegistry) -> None:
        super().__init__()
        self.registry = registry

    def render_GET(self, request: Request) -> bytes:
        """Collect every metric now and encode them."""
        accept = request.getHeader(b"accept")
        encoder, content_type = choose_encoder(accept.decode("latin-1") if accept else "")
        request.setHeader(b"content-type", content_type.encode("ascii"))
        request.setHeader(b"cache-control", b"no-store")
        body: bytes = encoder(self.registry)
        return body
