# -*- test-case-name: tests.server.test_file_sender -*-
"""Fetch records straight from the segment file to a plaintext TCP socket (C{os.sendfile}).

Kafka sends Fetch data with C{FileChannel.transferTo}; this is the same: a
L{twisted_kafka.protocol.file_records.FileRecords} chunk of a response goes
from the page cache to the socket without being read into Python.  Only a
plaintext TCP transport qualifies (L{FileSender.for_transport}): TLS must
encrypt the bytes in user space, and unix sockets keep the ordinary path.

The transport stays the only writer of everything else, so the order of
bytes on the connection is kept by never calling C{sendfile} while the
transport still holds buffered bytes: the reply queue writes a response's
bytes before the range through the transport, and the range waits until
the transport has flushed them.  Waiting, for that or because the socket's
buffer is full (C{EAGAIN}), uses Twisted's producer protocol: the sender
marks the connection (the transport's registered streaming producer) as
paused and asks the transport to watch for writability; once its buffer is
empty and the socket writable, the transport calls the connection's
C{resumeProducing}, which goes on writing.  A slow client therefore never
blocks the reactor, and one turn sends at most L{TURN_BYTES} so that a
fast one does not starve the other connections.

This relies on three attributes of C{twisted.internet.abstract.FileDescriptor}
that its documentation describes but that are not in an interface:
C{dataBuffer}/C{offset}/C{_tempDataLen} (what is buffered) and
C{producerPaused} (which makes it resume its producer when drained).
"""

from __future__ import annotations

import os
import socket
from typing import Any

from twisted.internet import interfaces, tcp
from twisted.logger import Logger

from twisted_kafka.protocol.file_records import FileRecords

#: Bytes handed to one C{sendfile} call.
CALL_BYTES = 1 << 20
#: Bytes sent in one reactor turn before letting other connections run.
TURN_BYTES = 4 << 20


class FileSender:
    """Sends file ranges on one plaintext TCP transport, in order with its buffered writes."""

    log = Logger()

    def __init__(self, transport: Any) -> None:
        """
        @param transport: a C{twisted.internet.tcp.Connection} on an IPv4 or
            IPv6 socket, with the connection registered as its streaming
            producer.
        """
        self.transport = transport
        self._socket = transport.socket.fileno()

    @classmethod
    def for_transport(cls, transport: Any) -> FileSender | None:
        """A sender for C{transport} if it is plaintext TCP, else C{None} (read the ranges)."""
        if not hasattr(os, "sendfile") or not isinstance(transport, tcp.Connection):
            return None
        if interfaces.ISSLTransport.providedBy(transport) or getattr(transport, "TLS", False):
            return None
        if transport.socket.family not in (socket.AF_INET, socket.AF_INET6):
            return None
        return cls(transport)

    def buffered(self) -> int:
        """Return the bytes the transport still holds (not yet written to the socket)."""
        t = self.transport
        return len(t.dataBuffer) - t.offset + t._tempDataLen  # type: ignore[no-any-return]

    def send(self, records: FileRecords) -> bool:
        """Send what is left of C{records} now, as far as the socket takes it.

        @return: C{True} once the whole range is sent; C{False} when it must
            wait (the transport will call its producer's C{resumeProducing};
            call again then), or when the connection failed and is being
            aborted (nothing more is to be written).
        """
        if self.buffered():
            self._wait()
            return False
        sent = 0
        while records.length:
            try:
                n = os.sendfile(self._socket, records.fd, records.position,
                                min(records.length, CALL_BYTES))
            except BlockingIOError:
                self._wait()
                return False
            except InterruptedError:
                continue
            except OSError as e:
                self._fail(f"sendfile failed: {e}")
                return False
            if not n:
                self._fail(f"segment file ends {records.length} bytes before its records range")
                return False
            records.advance(n)
            sent += n
            if sent >= TURN_BYTES and records.length:
                self._wait()
                return False
        return True

    def _wait(self) -> None:
        """Have the transport resume its producer once it is drained and writable."""
        t = self.transport
        t.producerPaused = True
        t.startWriting()

    def _fail(self, reason: str) -> None:
        """The response cannot be completed: drop the connection (its client retries)."""
        self.log.info("closing connection from {peer}: {reason}",
                      peer=self.transport.getPeer(), reason=reason)
        self.transport.abortConnection()
