# -*- test-case-name: tests.server.test_addresses -*-
"""Printable forms of transport addresses, for logs."""

from __future__ import annotations

from typing import Any


def describe_address(address: Any) -> str:
    """Return a short printable form of a transport address.

    @param address: a TCP/TLS address (C{host} and C{port}), a unix-socket
        address (C{name}), or anything else (printed with C{str}).
    @return: C{host:port}, C{unix:path} or C{str(address)}.
    """
    host = getattr(address, "host", None)
    port = getattr(address, "port", None)
    if host is not None and port is not None:
        return f"{host}:{port}"
    name = getattr(address, "name", None)
    if name is not None:
        return f"unix:{name.decode() if isinstance(name, bytes) else name}"
    return str(address)
