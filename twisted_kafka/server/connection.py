# -*- test-case-name: tests.server.test_connection -*-
"""One client connection: frames in, responders called in order, responses out.

L{KafkaConnection} parses frames with L{FrameParser}, decodes each request's
header and body with the codec, calls the registered responder synchronously
and writes the encoded response.  Responses go out in request order: a reply
that must wait (an acks=all produce waiting for fsync, a fetch long-poll) holds
back the replies after it, never another connection.  While a long poll is
pending, or the transport's write buffer is full, further requests on this
connection are not processed (the socket is not read), so memory stays bounded.

A malformed frame or request, an unknown api key or an unsupported version
(ApiVersions excepted, see KIP-511) is logged with the peer and closes this
connection only.
"""

from __future__ import annotations

import struct
from collections import deque
from typing import TYPE_CHECKING, Any, Callable

from twisted.internet import interfaces, protocol
from twisted.internet.defer import Deferred, DeferredList, succeed
from twisted.logger import Logger
from twisted.protocols import policies
from twisted.python.failure import Failure
from zope.interface import implementer

from twisted_kafka.protocol import headers as wire_headers
from twisted_kafka.protocol import messages
from twisted_kafka.protocol.errors import DecodeError
from twisted_kafka.server.context import RequestContext
from twisted_kafka.server.framing import FrameError, FrameParser
from twisted_kafka.server.reply import AfterSync, CloseAfter, LongPoll, Waiting

if TYPE_CHECKING:
    from twisted_kafka.broker import Broker

_SIZE = struct.Struct(">i")
API_VERSIONS_KEY = 18
#: Bytes of response chunks handed to the transport in one writeSequence.
WRITE_BATCH = 256 * 1024
#: Most processed-but-unwritten responses on one connection before reading stops.
MAX_PENDING_RESPONSES = 4096

_Codec = tuple[Callable[[bytes, int], dict], Callable[[dict], list[bytes]]]
#: (api key, version) -> (request decoder, response encoder), filled on first use.
_codecs: dict[tuple[int, int], _Codec] = {}


def codec_for(api_key: int, version: int) -> _Codec:
    """Return the request decoder and response encoder of one API version."""
    codec = _codecs.get((api_key, version))
    if codec is None:
        codec = (messages.request_decoder(api_key, version),
                 messages.response_encoder(api_key, version))
        _codecs[(api_key, version)] = codec
    return codec


class _Slot:
    """A response position in the connection's ordered output queue."""

    __slots__ = ("data", "ready", "close_after")

    def __init__(self) -> None:
        self.data: list[bytes] = []
        self.ready = False
        self.close_after: str | None = None


class _Poll:
    """The state of the long poll currently holding a connection."""

    __slots__ = ("slot", "poll", "unsubscribes", "timer", "wake_scheduled", "encode")

    def __init__(self, slot: _Slot, poll: LongPoll, encode: Callable[[dict], list[bytes]]) -> None:
        self.slot = slot
        self.poll = poll
        self.encode = encode
        self.unsubscribes: list[Callable[[], None]] = []
        self.timer: Any = None
        self.wake_scheduled = False


def describe_address(address: Any) -> str:
    """Return a short printable form of a transport address."""
    host = getattr(address, "host", None)
    port = getattr(address, "port", None)
    if host is not None and port is not None:
        return f"{host}:{port}"
    name = getattr(address, "name", None)
    if name is not None:
        return f"unix:{name.decode() if isinstance(name, bytes) else name}"
    return str(address)


@implementer(interfaces.IPushProducer)
class KafkaConnection(protocol.Protocol, policies.TimeoutMixin):
    """The Kafka protocol on one transport."""

    log = Logger()
    #: The transport: TCP, TLS or unix; also an IPushProducer we can pause.
    transport: Any

    def __init__(self, broker: "Broker") -> None:
        self.broker = broker
        kafka = broker.config.kafka
        self._parser = FrameParser(kafka.max_request_size)
        self._slots: deque[_Slot] = deque()
        self._backlog: deque[bytes] = deque()
        self._poll: _Poll | None = None
        self._waiting: _Slot | None = None
        self._draining = False
        self._unsynced: list[_Slot] = []
        # Response bytes ready to go, waiting for room in the transport.
        self._out: deque[bytes] = deque()
        # Set by drain(): fires when this connection has closed.
        self._drained: Deferred[None] | None = None
        self._sync_call: Any = None
        self._write_paused = False
        self._reading_paused = False
        self._closed = False
        self.peer = "?"
        self.advertised_host = kafka.advertised_host or kafka.bind
        # Overridden by the local address in connectionMade for TCP/TLS;
        # a unix-socket client is told the TCP (else TLS) listener.
        self.advertised_port = kafka.advertised_port or (
            kafka.port if kafka.port > 0 else kafka.tls_port)
        self.vhost: Any = None

    def callLater(self, delay: float, f: Callable[..., Any], *args: Any) -> Any:
        """Schedule on the broker's reactor (the idle timer of TimeoutMixin)."""
        return self.broker.reactor.callLater(delay, f, *args)

    # -- connection lifecycle -------------------------------------------------

    def connectionMade(self) -> None:
        """Note the peer, pick the advertised address, start the idle timer."""
        transport = self.transport
        self.peer = describe_address(transport.getPeer())
        kafka = self.broker.config.kafka
        local = transport.getHost()
        local_host = getattr(local, "host", None)
        if not kafka.advertised_host and local_host and local_host not in ("0.0.0.0", "::"):
            self.advertised_host = local_host
        local_port = getattr(local, "port", None)
        if not kafka.advertised_port and local_port:
            self.advertised_port = local_port
        self.vhost = self.broker.store.vhost(kafka.default_vhost)
        transport.registerProducer(self, True)
        if kafka.idle_timeout > 0:
            self.setTimeout(kafka.idle_timeout)
        factory = getattr(self, "factory", None)
        if isinstance(factory, KafkaServerFactory):
            factory.connections.add(self)

    def connectionLost(self, reason: Failure = protocol.connectionDone) -> None:
        """Forget pending work: cancel timers and store watches."""
        self._closed = True
        self.setTimeout(None)
        self._end_poll()
        self._slots.clear()
        self._backlog.clear()
        factory = getattr(self, "factory", None)
        if isinstance(factory, KafkaServerFactory):
            factory.connections.discard(self)
        drained, self._drained = self._drained, None
        if drained is not None:
            drained.callback(None)

    # -- shutdown ---------------------------------------------------------------

    def drain(self) -> Deferred[None]:
        """Answer what is in flight, then close; fires once the connection is gone.

        No further request is read or processed (a client retries anything
        unanswered after it reconnects).  A pending long poll is answered at
        once with what there is, responses waiting for fsync go out when the
        store's round ends, and then the connection closes after the
        transport has written everything.  A JoinGroup/SyncGroup that is
        still waiting for its rebalance is not answered: the connection
        closes after the responses before it.
        """
        if self._drained is None:
            self._drained = Deferred()
        drained = self._drained
        if self._closed:
            self._drained = None
            drained.callback(None)
            return drained
        self._draining = True
        self._backlog.clear()
        self._pause_reading()
        state = self._poll
        if state is not None:
            self._poll_answer(state, state.poll.retry(True))
        self._close_if_drained()
        return drained

    def _close_if_drained(self) -> None:
        """While draining, close once nothing answerable is left to write."""
        if not self._draining or self._closed or self._out:
            return
        slots = self._slots
        if slots and slots[0] is not self._waiting:
            return
        self._closed = True
        self.transport.loseConnection()

    def timeoutConnection(self) -> None:
        """Close a connection idle for longer than C{idle_timeout}."""
        self.log.info("closing idle connection from {peer}", peer=self.peer)
        self.transport.loseConnection()

    def close(self, reason: str) -> None:
        """Log C{reason} with the peer and close this connection."""
        if self._closed:
            return
        self.log.warn("closing connection from {peer}: {reason}", peer=self.peer, reason=reason)
        self._closed = True
        self._end_poll()
        self.transport.loseConnection()

    # -- IPushProducer: the transport's write buffer -----------------------------

    def pauseProducing(self) -> None:
        """The transport's write buffer is full: stop answering new requests."""
        self._write_paused = True

    def resumeProducing(self) -> None:
        """The transport drained: write more, then go on with held-back requests."""
        self._write_paused = False
        if self._closed:
            return
        self._write_out()
        self._drain_backlog()

    def stopProducing(self) -> None:
        """The transport is going away."""
        self._closed = True

    # -- input ----------------------------------------------------------------

    def dataReceived(self, data: bytes) -> None:
        """Split C{data} into frames and process them in order."""
        if self._closed:
            return
        self.resetTimeout()
        try:
            frames = self._parser.feed(data)
        except FrameError as e:
            self.close(f"refused frame: {e}")
            return
        if not frames:
            return
        if self._backlog or self._held():
            self._backlog.extend(frames)
            self._pause_reading()
            return
        for i, frame in enumerate(frames):
            self._process(frame)
            if self._closed:
                return
            if self._held() and i + 1 < len(frames):
                self._backlog.extend(frames[i + 1 :])
                self._pause_reading()
                break
        if self._unsynced and self._sync_call is None:
            self._request_sync()

    def _held(self) -> bool:
        """Return whether new requests must wait before being processed."""
        return (
            self._draining
            or self._poll is not None
            or self._waiting is not None
            or self._write_paused
            or len(self._slots) >= MAX_PENDING_RESPONSES
        )

    def _pause_reading(self) -> None:
        if not self._reading_paused and not self._closed:
            self._reading_paused = True
            self.transport.pauseProducing()

    def _drain_backlog(self) -> None:
        """Process held-back frames until held again or none are left."""
        backlog = self._backlog
        while backlog and not self._held() and not self._closed:
            self._process(backlog.popleft())
        if self._unsynced and self._sync_call is None and not self._closed:
            self._request_sync()
        if not backlog and self._reading_paused and not self._closed and not self._held():
            self._reading_paused = False
            self.transport.resumeProducing()

    def _process(self, frame: bytes) -> None:
        """Decode one request frame, call its responder, queue the reply."""
        try:
            header, body_offset = wire_headers.decode_request_header(frame)
        except DecodeError as e:
            self.close(f"malformed request header: {e}")
            return
        api_key = header.api_key
        version = header.api_version
        served = self.broker.registry.get(api_key)
        if served is None:
            self.close(f"unknown api key {api_key} (version {version})")
            return
        encode_version = version
        if not served.serves(version):
            if api_key != API_VERSIONS_KEY:
                self.close(
                    f"unsupported version {version} of {served.name} (api key {api_key}); "
                    f"served {served.min_version}-{served.max_version}"
                )
                return
            # KIP-511: answer with a v0 body carrying UNSUPPORTED_VERSION.
            request: dict = {}
            encode_version = 0
        else:
            try:
                request = codec_for(api_key, version)[0](frame, body_offset)
            except DecodeError as e:
                self.close(f"malformed {served.name} v{version} request: {e}")
                return
        context = RequestContext(
            broker=self.broker,
            vhost=self.vhost,
            api_key=api_key,
            api_version=version,
            correlation_id=header.correlation_id,
            client_id=header.client_id,
            peer=self.peer,
            advertised_host=self.advertised_host,
            advertised_port=self.advertised_port,
            connection=self,
        )
        try:
            reply = served.responder(request, context)
        except Exception:
            self.log.failure(
                "{api} v{version} responder failed for {peer}",
                api=served.name, version=version, peer=self.peer,
            )
            self.close(f"internal error answering {served.name} v{version}")
            return
        self._queue(header.correlation_id, api_key, encode_version, reply)

    # -- output ---------------------------------------------------------------

    def _queue(self, correlation_id: int, api_key: int, version: int, reply: Any) -> None:
        """Put C{reply} in the ordered output queue (or wait for it)."""
        if reply is None:
            return
        response_header = wire_headers.response_header(correlation_id, api_key, version)
        encode = codec_for(api_key, version)[1]

        def frame_of(body: dict) -> list[bytes]:
            chunks = encode(body)
            size = len(response_header)
            for c in chunks:
                size += len(c)
            return [_SIZE.pack(size), response_header, *chunks]

        slot = _Slot()
        self._slots.append(slot)
        if type(reply) is dict:
            slot.data = frame_of(reply)
            slot.ready = True
            self._flush()
        elif isinstance(reply, AfterSync):
            # The body is final already; only its release waits for fsync.
            slot.data = frame_of(reply.response)
            self._unsynced.append(slot)
        elif isinstance(reply, LongPoll):
            self._start_poll(slot, reply, frame_of)
        elif isinstance(reply, Waiting):
            self._waiting = slot

            def answered(body: dict) -> None:
                if self._waiting is not slot or self._closed:
                    return
                self._waiting = None
                slot.data = frame_of(body)
                slot.ready = True
                self._flush()
                self._drain_backlog()

            reply.register(answered)
        elif isinstance(reply, CloseAfter):
            if reply.response is not None:
                slot.data = frame_of(reply.response)
            slot.ready = True
            slot.close_after = reply.reason
            self._flush()
        else:
            raise TypeError(f"responder returned {reply!r}")

    # -- durability: one store sync per connection per fsync round -------------

    def _request_sync(self) -> None:
        """Ask the store for an fsync covering every response now waiting for one.

        Called once the requests of a read have been processed, so that one
        fsync round covers all of them.  A sync requested now covers every
        append made before it, so it releases exactly the slots waiting at
        this moment; slots added while it runs wait for the next request,
        made as soon as this one fires.  This keeps one Deferred per
        connection per fsync round, however many acks=all requests the round
        covers.
        """
        covered, self._unsynced = self._unsynced, []
        d = self._sync_call = self.broker.store.sync()
        d.addCallbacks(self._synced, self._sync_failed, callbackArgs=(covered,))

    def _synced(self, _: object, covered: list[_Slot]) -> None:
        self._sync_call = None
        for slot in covered:
            slot.ready = True
        if self._unsynced and not self._closed:
            self._request_sync()
        self._flush()
        self._drain_backlog()

    def _sync_failed(self, failure: Failure) -> None:
        self._sync_call = None
        self.log.failure("fsync failed; closing {peer}", failure, peer=self.peer)
        self.close("storage sync failed")

    def _flush(self) -> None:
        """Move every ready response at the head of the queue to the output.

        Responses leave through L{_write_out}, which hands the transport only
        what its buffer takes before it asks us to pause: a large Fetch
        response is written partition by partition as the socket drains,
        never copied into the transport's buffer whole.
        """
        if self._closed:
            return
        slots = self._slots
        out = self._out
        moved = False
        while slots and slots[0].ready:
            slot = slots.popleft()
            if slot.data:
                out.extend(slot.data)
                moved = True
            if slot.close_after is not None:
                # The last words: write them whatever the flow control says.
                self.transport.writeSequence(list(out))
                out.clear()
                self.close(slot.close_after)
                return
        if moved:
            self._write_out()
            self.resetTimeout()

    def _write_out(self) -> None:
        """Write queued output until it is gone or the transport pauses us."""
        out = self._out
        write = self.transport.writeSequence
        while out and not self._write_paused:
            if len(out) == 1:
                write([out.popleft()])
                break
            batch = []
            size = 0
            while out and size < WRITE_BATCH:
                chunk = out.popleft()
                batch.append(chunk)
                size += len(chunk)
            write(batch)
        if self._draining:
            self._close_if_drained()

    # -- long poll ------------------------------------------------------------

    def _start_poll(self, slot: _Slot, poll: LongPoll,
                    encode: Callable[[dict], list[bytes]]) -> None:
        state = _Poll(slot, poll, encode)
        self._poll = state
        for partition in poll.partitions:
            state.unsubscribes.append(partition.watch(self._poll_woken))
        state.timer = self.broker.reactor.callLater(
            max(poll.timeout_ms, 0) / 1000.0, self._poll_expired
        )

    def _poll_woken(self) -> None:
        """A watched partition got an append: re-check soon (coalesced)."""
        state = self._poll
        if state is None or state.wake_scheduled:
            return
        state.wake_scheduled = True
        self.broker.reactor.callLater(0, self._poll_check, state)

    def _poll_check(self, state: _Poll) -> None:
        if self._poll is not state:
            return
        state.wake_scheduled = False
        self._poll_answer(state, state.poll.retry(False))

    def _poll_expired(self) -> None:
        state = self._poll
        if state is None:
            return
        state.timer = None
        self._poll_answer(state, state.poll.retry(True))

    def _poll_answer(self, state: _Poll, body: dict | None) -> None:
        if body is None or self._closed:
            return
        self._end_poll()
        state.slot.data = state.encode(body)
        state.slot.ready = True
        self._flush()
        self._drain_backlog()

    def _end_poll(self) -> None:
        state = self._poll
        if state is None:
            return
        self._poll = None
        for unsubscribe in state.unsubscribes:
            unsubscribe()
        if state.timer is not None and state.timer.active():
            state.timer.cancel()


class KafkaServerFactory(protocol.Factory):
    """Builds a L{KafkaConnection} for each accepted client.

    @ivar connections: the connections currently open, for L{drain}.
    """

    noisy = False

    def __init__(self, broker: "Broker") -> None:
        self.broker = broker
        self.connections: set[KafkaConnection] = set()

    def drain(self, timeout: float) -> Deferred[None]:
        """Drain every open connection (see L{KafkaConnection.drain}).

        Fires once all have closed; connections still open after
        C{timeout} seconds are aborted.
        """
        connections = list(self.connections)
        if not connections:
            return succeed(None)
        done = DeferredList([c.drain() for c in connections], consumeErrors=True)

        def abort() -> None:
            for connection in list(self.connections):
                connection.log.warn("aborting connection from {peer}: still busy at shutdown",
                                    peer=connection.peer)
                connection.transport.abortConnection()

        timer = self.broker.reactor.callLater(timeout, abort)

        def finished(_: object) -> None:
            if timer.active():
                timer.cancel()

        done.addCallback(finished)
        return done  # type: ignore[return-value]

    def buildProtocol(self, addr: Any) -> KafkaConnection:
        """Return a connection bound to the broker."""
        connection = KafkaConnection(self.broker)
        connection.factory = self
        return connection
