# -*- test-case-name: tests.server.test_registry -*-
"""The table of Kafka APIs this broker serves: api key -> versions -> responder.

ApiVersions is answered from this table, so what is advertised is exactly what
is registered.  A responder is a plain synchronous callable taking the decoded
request body and a L{twisted_kafka.server.context.RequestContext}, returning
the response body (a dict), C{None} for no response, or one of the deferral
markers in L{twisted_kafka.server.reply} that the connection resolves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from twisted_kafka.protocol.messages import Fields
from twisted_kafka.server.authorizer import Need

if TYPE_CHECKING:
    from twisted_kafka.server.context import RequestContext
    from twisted_kafka.server.reply import Reply

#: A responder: the decoded request body and its context in, the reply out.
Responder = Callable[[Fields, "RequestContext"], "Reply"]


@dataclass(frozen=True)
class ServedApi:
    """One registered API.

    @ivar api_key: Kafka's number for the API.
    @ivar name: Kafka's name for it, for logs.
    @ivar min_version: the lowest version advertised.
    @ivar max_version: the highest version advertised and served.
    @ivar responder: the callable answering requests.
    @ivar needs: the permissions a request needs (see
        L{twisted_kafka.server.authorizer}); empty for APIs any client may
        call (ApiVersions).
    """

    api_key: int
    name: str
    min_version: int
    max_version: int
    responder: Responder
    needs: tuple[Need, ...] = ()

    def serves(self, version: int) -> bool:
        """Return whether C{version} is within the advertised range."""
        return self.min_version <= version <= self.max_version


class ResponderRegistry:
    """Maps api keys to the L{ServedApi} that answers them."""

    def __init__(self) -> None:
        self._apis: dict[int, ServedApi] = {}

    def register(self, api_key: int, name: str, min_version: int, max_version: int,
                 responder: Responder, needs: tuple[Need, ...] = ()) -> None:
        """Serve C{api_key} versions C{min_version}..C{max_version} with C{responder}.

        @param needs: the permissions a request needs, asked of the
            authorizer before C{responder} is called.
        """
        if api_key in self._apis:
            raise ValueError(f"api key {api_key} ({name}) registered twice")
        if min_version > max_version:
            raise ValueError(f"{name}: min version {min_version} > max {max_version}")
        self._apis[api_key] = ServedApi(api_key, name, min_version, max_version, responder,
                                         tuple(needs))

    def get(self, api_key: int) -> ServedApi | None:
        """Return the registration for C{api_key}, or C{None} if it is not served."""
        return self._apis.get(api_key)

    def served(self) -> list[ServedApi]:
        """Return every registered API, ordered by api key."""
        return [self._apis[k] for k in sorted(self._apis)]
