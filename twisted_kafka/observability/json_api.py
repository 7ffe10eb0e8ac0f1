# -*- test-case-name: tests.observability.test_json_api -*-
"""The management JSON API under C{/api/}: one leaf resource routing on the path.

    GET    /api/overview
    GET    /api/vhosts
    GET    /api/connections
    GET    /api/vhosts/<vhost>/topics?match=&offset=&limit=&internal=
    POST   /api/vhosts/<vhost>/topics                {"name", "partitions", "configs"}
    GET    /api/vhosts/<vhost>/topics/<topic>
    DELETE /api/vhosts/<vhost>/topics/<topic>
    GET    /api/vhosts/<vhost>/topics/<topic>/partitions/<n>/records?offset=|timestamp=&limit=
    GET    /api/vhosts/<vhost>/groups
    GET    /api/vhosts/<vhost>/groups/<group>
    POST   /api/vhosts/<vhost>/groups/<group>/reset  {"topic", "partitions", "to", "value"}

Path segments are percent-decoded (the default vhost C{/} is C{%2F}).
Answers are JSON; a refusal is C{{"error": NAME, "message": ...}} with 400
(Kafka's error name for what the admin APIs refuse), 404, 405 or 415.  A
POST must carry C{Content-Type: application/json}, so that a page on
another origin cannot post a form to it.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Callable

from twisted.internet.defer import Deferred
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Request

from twisted_kafka.errors import KafkaError
from twisted_kafka.observability import api_actions, api_views
from twisted_kafka.observability.api_views import NotFound

if TYPE_CHECKING:
    from twisted_kafka.observability.view import BrokerView

#: The default page size of topic lists.
DEFAULT_LIMIT = 100


class BadRequest(Exception):
    """A parameter or body that cannot be used (HTTP 400)."""


def _segments(request: Request) -> list[str]:
    segments = [s.decode("utf-8", "replace") for s in request.postpath or []]
    while segments and segments[-1] == "":
        segments.pop()
    return segments


def _arg(request: Request, name: str) -> str | None:
    values = (request.args or {}).get(name.encode())
    return values[0].decode("utf-8", "replace") if values else None


def _int_arg(request: Request, name: str, default: int | None = None,
             minimum: int | None = None) -> int | None:
    raw = _arg(request, name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{name} must be an integer, not {raw!r}") from None
    if minimum is not None and value < minimum:
        raise BadRequest(f"{name} must be at least {minimum}")
    return value


def _body(request: Request) -> dict[str, Any]:
    content_type = (request.getHeader(b"content-type") or b"").split(b";")[0].strip()
    if content_type != b"application/json":
        raise _Unsupported("the body must be application/json")
    assert request.content is not None
    try:
        body = json.loads(request.content.read() or b"{}")
    except ValueError as e:
        raise BadRequest(f"the body is not JSON: {e}") from None
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    return body


class _Unsupported(Exception):
    """A POST body that is not JSON (HTTP 415)."""


class _NotAllowed(Exception):
    """The path exists but not with this method (HTTP 405)."""


class ApiResource(Resource):
    """Routes every C{/api/...} request (see the module docstring)."""

    isLeaf = True
    log = Logger()

    def __init__(self, view: BrokerView) -> None:
        super().__init__()
        self.view = view

    def render(self, request: Request) -> bytes | int:
        """Answer C{request} with JSON (or later, for an action that waits for fsync)."""
        method = (request.method or b"GET").decode("ascii", "replace")
        try:
            result = self._route(method, _segments(request), request)
        except NotFound as e:
            return self._json(request, 404, {"error": "NOT_FOUND", "message": str(e)})
        except BadRequest as e:
            return self._json(request, 400, {"error": "BAD_REQUEST", "message": str(e)})
        except _Unsupported as e:
            return self._json(request, 415, {"error": "UNSUPPORTED_MEDIA_TYPE", "message": str(e)})
        except _NotAllowed as e:
            return self._json(request, 405, {"error": "METHOD_NOT_ALLOWED", "message": str(e)})
        except KafkaError as e:
            return self._json(request, 400, api_views.kafka_error(e))
        if isinstance(result, Deferred):
            result.addCallbacks(lambda answer: self._finish(request, 200, answer), lambda f: self._failed(request, f))
            return NOT_DONE_YET
        return self._json(request, 200, result)

    def _finish(self, request: Request, code: int, answer: Any) -> None:
        request.write(self._json(request, code, answer))
        request.finish()

    def _failed(self, request: Request, failure: Failure) -> None:
        if failure.check(KafkaError):
            value = failure.value
            assert isinstance(value, KafkaError)
            self._finish(request, 400, api_views.kafka_error(value))
        else:
            self.log.failure("management API request failed", failure)
            self._finish(request, 500, {"error": "INTERNAL", "message": "internal error"})

    def _json(self, request: Request, code: int, body: Any) -> bytes:
        request.setResponseCode(code)
        request.setHeader(b"content-type", b"application/json; charset=utf-8")
        request.setHeader(b"cache-control", b"no-store")
        request.setHeader(b"x-content-type-options", b"nosniff")
        return json.dumps(body, ensure_ascii=True).encode("ascii")

    def _route(self, method: str, path: list[str], request: Request) -> Any:
        view = self.view

        def only(allowed: str, answer: Callable[[], Any]) -> Any:
            if method != allowed:
                raise _NotAllowed(f"{method} not allowed here (use {allowed})")
            return answer()

        if path == ["overview"]:
            return only("GET", lambda: api_views.overview(view))
        if path == ["vhosts"]:
            return only("GET", lambda: api_views.vhosts(view))
        if path == ["connections"]:
            return only("GET", lambda: api_views.connections(view))
        if len(path) >= 3 and path[0] == "vhosts":
            vhost, kind, rest = path[1], path[2], path[3:]
            if kind == "topics":
                return self._topics(method, vhost, rest, request)
            if kind == "groups":
                return self._groups(method, vhost, rest, request)
        raise NotFound(f"no such API: /api/{'/'.join(path)}")

    def _topics(self, method: str, vhost: str, rest: list[str], request: Request) -> Any:
        view = self.view
        if not rest:
            if method == "GET":
                return api_views.topics(
                    view, vhost, _arg(request, "match") or "",
                    _int_arg(request, "offset", 0, 0) or 0,
                    min(_int_arg(request, "limit", DEFAULT_LIMIT, 1) or DEFAULT_LIMIT, 1000),
                    _arg(request, "internal") in ("1", "true", "yes"))
            if method == "POST":
                body = _body(request)
                name = body.get("name")
                partitions = body.get("partitions", -1)
                configs = body.get("configs", {})
                if not isinstance(name, str) or not isinstance(partitions, int) or not isinstance(configs, dict) \
                        or not all(isinstance(k, str) and isinstance(v, str) for k, v in configs.items()):
                    raise BadRequest('expected {"name": string, "partitions": integer, '
                                     '"configs": {string: string}}')
                api_actions.create_topic(view, api_views.find_vhost(view, vhost), name, partitions, configs)
                return api_views.topic(view, vhost, name)
            raise _NotAllowed(f"{method} not allowed here (use GET or POST)")
        name = rest[0]
        if len(rest) == 1:
            if method == "GET":
                return api_views.topic(view, vhost, name)
            if method == "DELETE":
                found = api_views.find_vhost(view, vhost)
                api_views.find_topic(view, vhost, name)
                api_actions.delete_topic(view, found, name)
                return {"deleted": name}
            raise _NotAllowed(f"{method} not allowed here (use GET or DELETE)")
        if len(rest) == 4 and rest[1] == "partitions" and rest[3] == "records":
            try:
                partition = int(rest[2])
            except ValueError:
                raise NotFound(f"no partition {rest[2]!r}") from None
            return self._only_get(method, lambda: api_views.records(
                view, vhost, name, partition, _int_arg(request, "offset"),
                _int_arg(request, "timestamp"),
                _int_arg(request, "limit", 50, 1) or 50))
        raise NotFound("no such API")

    def _groups(self, method: str, vhost: str, rest: list[str], request: Request) -> Any:
        view = self.view
        if not rest:
            return self._only_get(method, lambda: api_views.groups(view, vhost))
        if len(rest) == 1:
            return self._only_get(method, lambda: api_views.group(view, vhost, rest[0]))
        if len(rest) == 2 and rest[1] == "reset":
            if method != "POST":
                raise _NotAllowed(f"{method} not allowed here (use POST)")
            body = _body(request)
            topic, to = body.get("topic"), body.get("to")
            partitions, value = body.get("partitions"), body.get("value")
            if not isinstance(topic, str) or not isinstance(to, str) \
                    or not (partitions is None or (isinstance(partitions, list)
                                                   and all(isinstance(p, int) for p in partitions))) \
                    or not (value is None or isinstance(value, int)):
                raise BadRequest('expected {"topic": string, "to": "earliest"|"latest"|"offset"|"timestamp", '
                                 '"partitions": [integer] (optional), "value": integer (optional)}')
            found = api_views.find_vhost(view, vhost)
            d = api_actions.reset_offsets(view, found, rest[0], topic, partitions, to, value)
            return d.addCallback(lambda _: api_views.group(view, vhost, rest[0]))
        raise NotFound("no such API")

    def _only_get(self, method: str, answer: Callable[[], Any]) -> Any:
        if method != "GET":
            raise _NotAllowed(f"{method} not allowed here (use GET)")
        return answer()
