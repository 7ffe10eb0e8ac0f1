# -*- test-case-name: tests.apis.test_api_versions -*-
"""ApiVersions (api key 18), versions 0-4: what this broker serves.

The answer lists exactly the registry's APIs and ranges.  A version newer
than we serve gets, as KIP-511 says, a v0 body with UNSUPPORTED_VERSION and
our ranges (the connection encodes it as v0, header v0), so that a client can
retry with a version we know.  From v3 the client's software name and version
must match Kafka's pattern, else INVALID_REQUEST.
"""

from __future__ import annotations

import re

from twisted_kafka.errors import ErrorCode
from twisted_kafka.protocol.headers import API_VERSIONS_KEY
from twisted_kafka.protocol.messages import Fields
from twisted_kafka.server.context import RequestContext
from twisted_kafka.server.registry import ResponderRegistry

API_KEY = API_VERSIONS_KEY
MIN_VERSION = 0
MAX_VERSION = 4

_SOFTWARE = re.compile(r"[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?")


def api_keys(registry: ResponderRegistry) -> list[Fields]:
    """Return the C{api_keys} array advertising every served API."""
    return [
        {"api_key": s.api_key, "min_version": s.min_version, "max_version": s.max_version}
        for s in registry.served()
    ]


def respond(request: Fields, context: RequestContext) -> Fields:
    """Answer an ApiVersions request."""
    registry = context.broker.registry
    if context.api_version > MAX_VERSION:
        return {
            "error_code": ErrorCode.UNSUPPORTED_VERSION,
            "api_keys": api_keys(registry),
        }
    if context.api_version >= 3:
        name = request.get("client_software_name", "")
        version = request.get("client_software_version", "")
        if not (_SOFTWARE.fullmatch(name) and _SOFTWARE.fullmatch(version)):
            return {"error_code": ErrorCode.INVALID_REQUEST, "api_keys": []}
    return {
        "error_code": ErrorCode.NONE,
        "api_keys": api_keys(registry),
        "throttle_time_ms": 0,
    }


def register(registry: ResponderRegistry) -> None:
    """Serve ApiVersions."""
    registry.register(API_KEY, "ApiVersions", MIN_VERSION, MAX_VERSION, respond)
