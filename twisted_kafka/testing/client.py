# -*- test-case-name: tests.testing.test_helpers -*-
"""A small blocking Kafka client for the test helpers: requests in, dicts out.

L{BlockingClient} speaks the Kafka protocol with this package's own codec
(L{twisted_kafka.protocol.messages}) over plain sockets, so the helpers need
no client library and work against any Kafka-protocol broker (twisted-kafka
or a Kafka cluster named by C{KAFKA_BOOTSTRAP_SERVERS}).  It asks the
bootstrap servers for the cluster's brokers and sends each request to the
node that must answer it (the partition leader, the group coordinator).

The versions used are served by twisted-kafka and by Kafka 2.x to 4.x.
"""

from __future__ import annotations

import itertools
import socket
import struct
from typing import Any, Mapping

from twisted_kafka.errors import ErrorCode
from twisted_kafka.protocol import messages
from twisted_kafka.protocol.compiler import Fields
from twisted_kafka.protocol.headers import (
    RequestHeader,
    encode_request_header,
    response_header_version,
)

PRODUCE = (0, 8)
METADATA = (3, 8)
CREATE_TOPICS = (19, 4)
DELETE_TOPICS = (20, 3)
LIST_OFFSETS = (2, 5)
FETCH = (1, 11)
OFFSET_FETCH = (9, 5)
FIND_COORDINATOR = (10, 2)

_SIZE = struct.Struct(">i")


class KafkaRequestError(Exception):
    """A broker answered a request with an error code.

    @ivar code: the Kafka error code.
    """

    def __init__(self, code: int, what: str) -> None:
        self.code = code
        try:
            name = ErrorCode(code).name
        except ValueError:
            name = f"error {code}"
        super().__init__(f"{what}: {name}")


def check(code: int, what: str) -> None:
    """Raise L{KafkaRequestError} unless C{code} is 0."""
    if code:
        raise KafkaRequestError(code, what)


def parse_bootstrap(bootstrap: str) -> list[tuple[str, int]]:
    """Return the (host, port) pairs of a C{host:port[,host:port...]} string."""
    addresses = []
    for item in bootstrap.split(","):
        item = item.strip()
        if not item:
            continue
        for scheme in ("PLAINTEXT://", "plaintext://"):
            item = item.removeprefix(scheme)
        host, _, port = item.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"not a bootstrap address (host:port): {item!r}")
        addresses.append((host.strip("[]"), int(port)))
    if not addresses:
        raise ValueError("no bootstrap address given")
    return addresses


class _Connection:
    """One blocking connection to one broker."""

    def __init__(self, address: tuple[str, int], timeout: float) -> None:
        self.sock = socket.create_connection(address, timeout=timeout)
        self.correlation = itertools.count(1)

    def request(self, api: tuple[int, int], body: Mapping[str, Any]) -> Fields:
        api_key, version = api
        correlation_id = next(self.correlation)
        payload = (encode_request_header(
            RequestHeader(api_key, version, correlation_id, "twisted-kafka-testing"))
            + messages.request_encoder(api_key, version)(body))
        self.sock.sendall(_SIZE.pack(len(payload)) + payload)
        size = _SIZE.unpack(self._read(4))[0]
        frame = self._read(size)
        if _SIZE.unpack_from(frame)[0] != correlation_id:
            raise ConnectionError("the broker answered out of order")
        pos = 4
        if response_header_version(api_key, version) == 1:
            pos += 1  # an empty tagged-fields section
        return messages.response_decoder(api_key, version)(frame, pos)

    def _read(self, size: int) -> bytes:
        chunks = []
        while size:
            chunk = self.sock.recv(min(size, 1 << 20))
            if not chunk:
                raise ConnectionError("the broker closed the connection")
            chunks.append(chunk)
            size -= len(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        self.sock.close()


class BlockingClient:
    """Requests to a cluster, each sent to the broker that answers it.

    Use as a context manager, or call L{close}.
    """

    def __init__(self, bootstrap: str, timeout: float = 10.0) -> None:
        """
        @param bootstrap: C{host:port[,host:port...]}.
        @param timeout: seconds a connect or a read may take.
        """
        self.bootstrap = parse_bootstrap(bootstrap)
        self.timeout = timeout
        self._connections: dict[tuple[str, int], _Connection] = {}
        self._nodes: dict[int, tuple[str, int]] = {}

    def __enter__(self) -> BlockingClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close every connection."""
        for connection in self._connections.values():
            connection.close()
        self._connections.clear()

    def _connection(self, address: tuple[str, int]) -> _Connection:
        connection = self._connections.get(address)
        if connection is None:
            connection = self._connections[address] = _Connection(address, self.timeout)
        return connection

    def request(self, api: tuple[int, int], body: Mapping[str, Any],
                node: int | None = None) -> Fields:
        """Send C{body} as request C{api} (key, version); return the decoded response.

        @param node: the broker to ask (as Metadata names it); any bootstrap
            server when C{None}.
        """
        addresses = [self._nodes[node]] if node is not None else self.bootstrap
        last: Exception | None = None
        for address in addresses:
            try:
                return self._connection(address).request(api, body)
            except OSError as e:
                self._connections.pop(address, None)
                last = e
        raise ConnectionError(f"no broker answered at {addresses}: {last}")

    def metadata(self, topics: list[str] | None) -> Fields:
        """Return a Metadata response for C{topics} (C{None}: all), never creating one."""
        body = {"topics": None if topics is None else [{"name": t} for t in topics],
                "allow_auto_topic_creation": False}
        response = self.request(METADATA, body)
        self._nodes = {b["node_id"]: (b["host"], b["port"]) for b in response["brokers"]}
        return response

    def coordinator(self, group: str) -> int:
        """Return the node id of C{group}'s coordinator."""
        response = self.request(FIND_COORDINATOR, {"key": group, "key_type": 0})
        check(response["error_code"], f"FindCoordinator {group}")
        self._nodes[response["node_id"]] = (response["host"], response["port"])
        return int(response["node_id"])
