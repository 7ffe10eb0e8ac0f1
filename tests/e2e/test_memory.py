# -*- test-case-name: tests.e2e.test_memory -*-
"""Resource tests with real sockets: what slow, incomplete requests cost the real broker.

Many connections each send the size prefix of a large request and then its
bytes as fast as the broker takes them, never the last one.  The broker's
resident memory (C{VmRSS}) must stay near C{queued_max_request_bytes} (plus
one frame) however much the clients offer, every connection must stay open
(held back, not dropped), and once the clients close, the resident memory
must come back (the buffers are released and the heap trimmed).  Nothing here
depends on how fast anything runs: the clients push until the broker stops
reading, and the thresholds are in bytes.

A connection whose request never completes is closed after
C{request_completion_timeout_ms}, even while it keeps trickling bytes, and
a connection past C{max_connections_per_ip} is closed at once while the
others are served.
"""

from __future__ import annotations

import select
import socket
import struct
import time

from twisted.trial.unittest import SynchronousTestCase

from tests.e2e.clients import API_VERSIONS, RawClient
from tests.e2e.harness import BrokerTestMixin

MiB = 1 << 20
#: The size of every incomplete request.
FRAME = 16 * MiB
#: The broker's budget of request bytes.
BUDGET = 64 * MiB
CONNECTIONS = 40
#: How many frames the budget takes in: reservations are granted while any
#: of it is left.
GRANTED = BUDGET // FRAME
#: Allowance for what else a broker allocates while it serves (socket reads
#: of paused connections, the interpreter's own growth).
SLACK = 32 * MiB
#: How long no socket may take a byte before the broker counts as not reading.
STALL = 2.0


def resident_bytes(pid: int) -> int:
    """Return the resident set size of process C{pid}, in bytes."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for process {pid}")


class SlowFrames:
    """Connections each sending one large request, all of it but the last byte.

    @ivar sockets: the connections.
    @ivar remaining: bytes each connection has still to send, while it has some.
    @ivar sent: bytes the broker's side accepted, over all connections.
    """

    def __init__(self, port: int, count: int, frame: int) -> None:
        self.sockets = [socket.create_connection(("127.0.0.1", port)) for _ in range(count)]
        self.remaining: dict[socket.socket, int] = {}
        self._prefix: dict[socket.socket, bytes] = {}
        for sock in self.sockets:
            sock.setblocking(False)
            self.remaining[sock] = 4 + frame - 1
            self._prefix[sock] = struct.pack(">i", frame)
        self._zeros = memoryview(bytes(65536))
        self.sent = 0

    @property
    def finished(self) -> int:
        """How many connections sent everything but their last byte."""
        return len(self.sockets) - len(self.remaining)

    def push(self, timeout: float) -> bool:
        """Send to every connection that can take bytes; return whether any did within C{timeout}."""
        _, writable, _ = select.select([], list(self.remaining), [], timeout)
        moved = False
        for sock in writable:
            prefix = self._prefix.pop(sock, b"")
            data = prefix + bytes(self._zeros[:65536 - len(prefix)]) if prefix else self._zeros
            data = data[:self.remaining[sock]]
            try:
                sent = sock.send(data)
            except BlockingIOError:
                sent = 0
            if prefix and sent < len(prefix):
                self._prefix[sock] = prefix[sent:]
            self.remaining[sock] -= sent
            self.sent += sent
            moved = moved or sent > 0
            if self.remaining[sock] == 0:
                del self.remaining[sock]
        return moved

    def open_count(self) -> int:
        """How many connections the broker has not closed."""
        count = 0
        for sock in self.sockets:
            try:
                if sock.recv(1) == b"":
                    continue
            except BlockingIOError:
                pass
            except OSError:
                continue
            count += 1
        return count

    def close(self) -> None:
        """Close every connection."""
        for sock in self.sockets:
            sock.close()


class RequestBudgetMemoryTests(BrokerTestMixin, SynchronousTestCase):
    """The request budget bounds the broker's memory; the memory comes back."""

    broker_options = {"kafka": {"queued_max_request_bytes": BUDGET,
                                "request_completion_timeout_ms": 0, "idle_timeout": 0}}

    def rss(self) -> int:
        """The broker's resident memory now."""
        assert self.broker.process is not None
        return resident_bytes(self.broker.process.pid)

    def test_slow_large_frames(self) -> None:
        """40 connections offering 16 MiB each grow the broker by about the 64 MiB budget, and it gives the memory back."""
        with RawClient(self.broker.bootstrap) as warm:
            warm.request(API_VERSIONS, 3, {"client_software_name": "e2e",
                                           "client_software_version": "1"})
        baseline = self.rss()
        frames = SlowFrames(self.broker.port, CONNECTIONS, FRAME)
        self.addCleanup(frames.close)
        peak = baseline
        last_moved = time.monotonic()
        # Push until the frames the budget admits are in, then until the
        # broker takes nothing more for STALL seconds.
        while frames.remaining:
            if frames.push(0.5):
                last_moved = time.monotonic()
                peak = max(peak, self.rss())
            elif frames.finished >= GRANTED and time.monotonic() - last_moved > STALL:
                break
            elif time.monotonic() - last_moved > 60:
                self.fail(f"the broker stopped reading after {frames.finished} frames")
        peak = max(peak, self.rss())
        growth = peak - baseline
        self.assertEqual(frames.open_count(), CONNECTIONS, "held-back connections were closed")
        self.assertGreaterEqual(len(frames.remaining), CONNECTIONS - GRANTED - 1)
        self.assertGreater(frames.sent, BUDGET + FRAME)
        self.assertLessEqual(growth, BUDGET + FRAME + SLACK,
                             f"grew {growth / MiB:.1f} MiB for {frames.sent / MiB:.1f} MiB sent")
        self.assertGreaterEqual(growth, BUDGET // 2,
                                f"grew only {growth / MiB:.1f} MiB: the frames were not buffered")
        frames.close()
        deadline = time.monotonic() + 30
        while self.rss() - baseline > SLACK // 2:
            if time.monotonic() > deadline:
                self.fail(f"resident memory still {(self.rss() - baseline) / MiB:.1f} MiB above "
                          f"its {baseline / MiB:.1f} MiB baseline after the connections closed")
            time.sleep(0.1)
        self.assertNotIn("Traceback", self.broker.log_text())


def closed_within(sock: socket.socket, seconds: float, trickle: bool = False) -> bool:
    """Return whether the broker closes C{sock} within C{seconds} (sending a byte a second with C{trickle})."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        readable, _, _ = select.select([sock], [], [], 0.5 if trickle else 1.0)
        if readable:
            try:
                if sock.recv(1) == b"":
                    return True
            except ConnectionResetError:
                return True
        if trickle:
            try:
                sock.send(b"\0")
            except (BrokenPipeError, ConnectionResetError):
                return True
    return False


class ConnectionClosingTests(BrokerTestMixin, SynchronousTestCase):
    """Incomplete requests and connections past the limits are closed; the others are served."""

    broker_options = {"kafka": {"request_completion_timeout_ms": 1000, "idle_timeout": 600,
                                "max_connections_per_ip": 3}}

    def test_incomplete_request_closed(self) -> None:
        """A request that never completes is closed though bytes keep trickling in; a whole one on another connection is answered."""
        with socket.create_connection(("127.0.0.1", self.broker.port)) as slow, \
                RawClient(self.broker.bootstrap) as other:
            slow.sendall(struct.pack(">i", 1000) + b"\0\x12")
            self.assertTrue(closed_within(slow, 30, trickle=True))
            response = other.request(API_VERSIONS, 3, {"client_software_name": "e2e",
                                                       "client_software_version": "1"})
            self.assertEqual(response["error_code"], 0)
        log = self.broker.log_text()
        self.assertIn("request incomplete after 1 s", log)
        self.assertNotIn("Traceback", log)

    def test_per_ip_limit(self) -> None:
        """The connection past max_connections_per_ip is closed at once; the ones before it are served."""
        clients = [RawClient(self.broker.bootstrap) for _ in range(3)]
        try:
            with socket.create_connection(("127.0.0.1", self.broker.port)) as extra:
                self.assertTrue(closed_within(extra, 30))
            for client in clients:
                response = client.request(API_VERSIONS, 3, {"client_software_name": "e2e",
                                                            "client_software_version": "1"})
                self.assertEqual(response["error_code"], 0)
        finally:
            for client in clients:
                client.close()
        log = self.broker.log_text()
        self.assertIn("max_connections_per_ip (3) reached for 127.0.0.1", log)
        self.assertNotIn("Traceback", log)
