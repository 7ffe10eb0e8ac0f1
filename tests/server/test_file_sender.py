# -*- test-case-name: tests.server.test_file_sender -*-
"""Tests for L{twisted_kafka.server.file_sender}: file ranges sent with sendfile, in order.

Real TCP sockets on the loopback interface under a Twisted TCP transport
whose reactor is a L{MemoryReactorClock}: the tests play the reactor,
calling the transport's C{doWrite} while it asks to write and reading the
client's end, so that full socket buffers (C{EAGAIN}) happen for real.
"""

from __future__ import annotations

import os
import socket
import tempfile

from twisted.internet import interfaces, tcp
from twisted.internet.protocol import Protocol
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.trial.unittest import SynchronousTestCase
from zope.interface import alsoProvides

from twisted_kafka.protocol.file_records import FileRecords
from twisted_kafka.server.file_sender import FileSender
from twisted_kafka.server.reply_queue import ReplyQueue


class _Producer:
    """Stands for the connection: the transport's streaming producer, driving the queue."""

    def __init__(self, queue: ReplyQueue) -> None:
        self.queue = queue
        self.resumed = 0

    def pauseProducing(self) -> None:
        """The transport's buffer is full."""
        self.queue.paused = True

    def resumeProducing(self) -> None:
        """The transport drained: write on."""
        self.resumed += 1
        self.queue.paused = False
        self.queue.write_out()

    def stopProducing(self) -> None:
        """The transport is going away."""


def socket_pair(family: int = socket.AF_INET) -> tuple[socket.socket, socket.socket]:
    """A connected (server side, client side) pair of stream sockets."""
    if family == socket.AF_UNIX:
        return socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    listener = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(listener.getsockname())
    server, _ = listener.accept()
    listener.close()
    return server, client


class FileSenderTests(SynchronousTestCase):
    """Responses with file ranges reach a real socket whole and in order."""

    def setUp(self) -> None:
        """A file of 3 MiB of varied bytes, a TCP transport and its reply queue."""
        self.content = os.urandom(1 << 16) * 48
        handle, path = tempfile.mkstemp()
        self.addCleanup(os.unlink, path)
        os.write(handle, self.content)
        self.file = handle
        self.addCleanup(os.close, handle)
        server, self.client = socket_pair()
        self.addCleanup(self.client.close)
        # small buffers, so that the socket is full long before the range is sent
        server.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 * 1024)
        self.client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        self.client.setblocking(False)
        self.reactor = MemoryReactorClock()
        self.transport = tcp.Server(server, Protocol(), ("127.0.0.1", 1), None, 1, self.reactor)
        self.addCleanup(server.close)
        self.queue = ReplyQueue()
        self.producer = _Producer(self.queue)
        self.transport.registerProducer(self.producer, True)
        self.queue.write = self.transport.writeSequence
        sender = FileSender.for_transport(self.transport)
        assert sender is not None
        self.queue.sender = sender
        self.received = bytearray()

    def respond(self, *chunks: bytes | FileRecords) -> None:
        """Queue a ready response of C{chunks} and write."""
        slot = self.queue.add()
        slot.data = list(chunks)
        slot.ready = True
        self.queue.move_ready()
        self.queue.write_out()

    def read_client(self) -> int:
        """Read what the client's socket holds; return how many bytes."""
        got = 0
        while True:
            try:
                data = self.client.recv(1 << 20)
            except BlockingIOError:
                return got
            if not data:
                return got
            self.received += data
            got += len(data)

    def pump(self, expected: int) -> None:
        """Play the reactor until C{expected} bytes have arrived (or nothing moves)."""
        for _ in range(10_000):
            if self.transport in self.reactor.getWriters():
                self.transport.doWrite()
            if not self.read_client() and self.transport not in self.reactor.getWriters():
                if len(self.received) >= expected:
                    return
                if not self.queue.has_output():
                    break
        self.assertEqual(len(self.received), expected)

    def test_in_order(self) -> None:
        """Bytes before and after a range, and the next response, arrive around it in order."""
        records = FileRecords.of(self.file, 1000, len(self.content) - 2000)
        self.respond(b"head", records, b"tail")
        self.respond(b"next response")
        # the head is still in the transport's buffer: the range waits for it
        self.assertTrue(self.queue.paused)
        self.assertEqual(self.received, b"")
        expected = b"head" + self.content[1000:-1000] + b"tail" + b"next response"
        self.pump(len(expected))
        self.assertEqual(bytes(self.received), expected)
        self.assertRaises(ValueError, lambda: records.fd)
        self.assertFalse(self.queue.has_output())
        # flushed before the range, then at least once for a full socket
        self.assertGreaterEqual(self.producer.resumed, 2)

    def test_two_ranges(self) -> None:
        """Two ranges back to back (two partitions of one Fetch) are sent one after the other."""
        first = FileRecords.of(self.file, 0, 100_000)
        second = FileRecords.of(self.file, 200_000, 100_000)
        self.respond(b"[", first, b"|", second, b"]")
        expected = b"[" + self.content[:100_000] + b"|" + self.content[200_000:300_000] + b"]"
        self.pump(len(expected))
        self.assertEqual(bytes(self.received), expected)

    def test_slow_client(self) -> None:
        """A client that does not read stops the range at EAGAIN; reading lets it finish."""
        records = FileRecords.of(self.file, 0, len(self.content))
        self.respond(records)
        self.transport.doWrite()  # nothing was buffered: the flush resumes at once
        self.assertTrue(self.queue.paused)
        self.assertIn(self.transport, self.reactor.getWriters())
        sent = len(self.content) - records.length
        self.assertGreater(sent, 0)
        self.assertLess(sent, len(self.content))
        # nothing moves while the client does not read
        self.transport.doWrite()
        self.assertEqual(len(self.content) - records.length, sent)
        self.pump(len(self.content))
        self.assertEqual(bytes(self.received), self.content)

    def test_peer_gone(self) -> None:
        """A client that went away aborts the connection instead of raising."""
        records = FileRecords.of(self.file, 0, len(self.content))
        self.client.close()
        self.respond(b"x", records)
        for _ in range(100):
            if self.transport._aborting or self.transport not in self.reactor.getWriters():
                break
            self.transport.doWrite()
        self.assertTrue(self.transport._aborting)
        self.assertTrue(self.queue.paused)


class ForTransportTests(SynchronousTestCase):
    """Only plaintext TCP sends with sendfile."""

    def transport(self, family: int) -> tcp.Server:
        """A TCP transport over a new socket of C{family}."""
        server, client = socket_pair(family)
        self.addCleanup(server.close)
        self.addCleanup(client.close)
        return tcp.Server(server, Protocol(), ("127.0.0.1", 1), None, 1, MemoryReactorClock())

    def test_tcp(self) -> None:
        """IPv4 TCP gets a sender."""
        self.assertIsInstance(FileSender.for_transport(self.transport(socket.AF_INET)), FileSender)

    def test_unix(self) -> None:
        """A unix socket keeps the ordinary path."""
        self.assertIsNone(FileSender.for_transport(self.transport(socket.AF_UNIX)))

    def test_tls(self) -> None:
        """A TLS transport (in-kernel bytes would be plaintext) keeps the ordinary path."""
        transport = self.transport(socket.AF_INET)
        alsoProvides(transport, interfaces.ISSLTransport)
        self.assertIsNone(FileSender.for_transport(transport))

    def test_other(self) -> None:
        """Anything else (a wrapper, a test transport) keeps the ordinary path."""
        self.assertIsNone(FileSender.for_transport(StringTransport()))


class WithoutSenderTests(SynchronousTestCase):
    """Without a sender, file ranges are read into bytes in their place."""

    def test_read_in_place(self) -> None:
        """The transport gets the range's bytes between the others, and the range is closed."""
        handle, path = tempfile.mkstemp()
        self.addCleanup(os.unlink, path)
        os.write(handle, b"0123456789")
        records = FileRecords(handle, 2, 5)
        transport = StringTransport()
        queue = ReplyQueue()
        queue.write = transport.writeSequence
        slot = queue.add()
        slot.data = [b"<", records, b">"]
        slot.ready = True
        queue.move_ready()
        queue.write_out()
        self.assertEqual(transport.value(), b"<23456>")
        self.assertRaises(ValueError, lambda: records.fd)

    def test_clear_closes(self) -> None:
        """Ranges still queued when the connection goes are closed."""
        handle, path = tempfile.mkstemp()
        self.addCleanup(os.unlink, path)
        records = FileRecords(handle, 0, 0)
        queue = ReplyQueue()
        slot = queue.add()
        slot.data = [records]
        queue.clear()
        self.assertRaises(ValueError, lambda: records.fd)
