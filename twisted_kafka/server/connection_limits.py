# -*- test-case-name: tests.server.test_connection_limits -*-
"""How many client connections the broker keeps open, in all and per address.

Kafka's C{max.connections} and C{max.connections.per.ip}: a connection over
either limit is closed as soon as it is accepted, with one log line.  A
unix-socket connection has no IP address, so it counts toward the total only.
"""

from __future__ import annotations

from typing import Any


def peer_ip(address: Any) -> str | None:
    """Return the IP address of a peer C{address}, or C{None} (a unix socket)."""
    host = getattr(address, "host", None)
    return host if isinstance(host, str) and host else None


class ConnectionLimits:
    """Counts open connections; refuses those over a limit.

    @ivar max_connections: most open connections (0: no limit).
    @ivar max_per_ip: most open connections from one IP address (0: no limit).
    @ivar open: the connections counted now.
    """

    def __init__(self, max_connections: int, max_per_ip: int) -> None:
        self.max_connections = max_connections
        self.max_per_ip = max_per_ip
        self.open = 0
        self._per_ip: dict[str, int] = {}

    def admit(self, address: Any) -> str | None:
        """Count a new connection from C{address}, or return why it is refused."""
        if 0 < self.max_connections <= self.open:
            return f"max_connections ({self.max_connections}) reached"
        ip = peer_ip(address)
        if ip is not None:
            count = self._per_ip.get(ip, 0)
            if 0 < self.max_per_ip <= count:
                return f"max_connections_per_ip ({self.max_per_ip}) reached for {ip}"
            self._per_ip[ip] = count + 1
        self.open += 1
        return None

    def release(self, address: Any) -> None:
        """A connection L{admit} counted has closed."""
        self.open -= 1
        ip = peer_ip(address)
        if ip is not None:
            count = self._per_ip.get(ip, 0) - 1
            if count > 0:
                self._per_ip[ip] = count
            else:
                self._per_ip.pop(ip, None)
