# -*- test-case-name: tests.observability.test_health -*-
"""C{/healthz} and C{/readyz}: for orchestrators and load balancers.

C{/healthz} answers 200 whenever the process serves HTTP at all (the reactor
turns).  C{/readyz} answers 200 once the store has opened and recovered
every log and every Kafka listener is listening, and 503 with the reasons
otherwise (also while the broker stops).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from twisted.web.resource import Resource
from twisted.web.server import Request

if TYPE_CHECKING:
    from twisted_kafka.observability.view import BrokerView


def _plain(request: Request, code: int, text: str) -> bytes:
    request.setResponseCode(code)
    request.setHeader(b"content-type", b"text/plain; charset=utf-8")
    request.setHeader(b"cache-control", b"no-store")
    return text.encode("utf-8")


class Healthz(Resource):
    """Alive: 200 C{ok}."""

    isLeaf = True

    def render_GET(self, request: Request) -> bytes:
        """Answer that the process is alive."""
        return _plain(request, 200, "ok\n")


class Readyz(Resource):
    """Ready: 200 C{ready} once the store is recovered and the listeners are up, else 503."""

    isLeaf = True

    def __init__(self, view: BrokerView) -> None:
        super().__init__()
        self.view = view

    def render_GET(self, request: Request) -> bytes:
        """Answer whether the broker can serve clients now."""
        ready, problems = self.view.ready()
        if ready:
            return _plain(request, 200, "ready\n")
        return _plain(request, 503, "".join(f"{p}\n" for p in problems))
