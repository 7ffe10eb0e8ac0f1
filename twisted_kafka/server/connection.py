# -*- test-case-name: tests.server.test_connection -*-
"""One client connection: frames in, requests answered in order, responses out.

L{KafkaConnection} is the Twisted protocol.  It splits the input into frames
(L{twisted_kafka.server.framing}), hands each to the
L{twisted_kafka.server.dispatch.RequestDispatcher}, and routes the reply:
a body goes straight into the in-order L{ReplyQueue}; an acks=all reply waits
in the connection's L{SyncBatch}; a long poll in a L{PollWait}; a JoinGroup
or SyncGroup answer for whoever supplies it.  A reply that must wait holds
back the replies after it, never another connection.  While a long poll or
a rebalance is pending, or the transport's write buffer is full, further
requests on this connection are not processed (the socket is not read), so
memory stays bounded.  Across connections, the bytes of incomplete and
held-back requests count against the broker's L{RequestBudget}
(C{queued_max_request_bytes}): past it, a connection needing more stops
reading until bytes are released.  Once a request's first byte has arrived,
the rest must arrive within C{request_completion_timeout_ms} of reading
(time spent paused does not count), or the connection is closed: trickled
bytes keep the idle timer alive, not an incomplete request.

A malformed frame or request, an unknown api key or an unsupported version
(ApiVersions excepted, see KIP-511) is logged with the peer and closes this
connection only.  On an SSL or SASL listener (C{security_protocol}) a
L{ConnectionAuthentication} decides what may be answered before the client
has authenticated (see L{twisted_kafka.server.authentication}).
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any, Callable

from twisted.internet import interfaces, protocol
from twisted.internet.defer import Deferred
from twisted.logger import Logger
from twisted.protocols import policies
from twisted.python.failure import Failure
from zope.interface import implementer

from twisted_kafka.protocol.compiler import Chunk
from twisted_kafka.protocol.errors import EncodeError
from twisted_kafka.protocol.messages import Fields
from twisted_kafka.server.addresses import describe_address
from twisted_kafka.server.authentication import ConnectionAuthentication
from twisted_kafka.server.authorizer import ANONYMOUS, VhostScopedAuthorizer
from twisted_kafka.server.codecs import ResponseFramer
from twisted_kafka.server.dispatch import RequestDispatcher, RequestRefused
from twisted_kafka.server.file_sender import FileSender
from twisted_kafka.server.framing import FrameError, FrameParser
from twisted_kafka.server.long_poll import PollWait
from twisted_kafka.server.reply import AfterSync, CloseAfter, LongPoll, Reply, Waiting
from twisted_kafka.server.reply_queue import ReplyQueue, ReplySlot
from twisted_kafka.server.request_budget import RequestBudget
from twisted_kafka.server.sync_batch import SyncBatch

if TYPE_CHECKING:
    from twisted_kafka.broker import Broker
    from twisted_kafka.store.interfaces import IVhost

#: Most processed-but-unwritten responses on one connection before reading stops.
MAX_PENDING_RESPONSES = 4096


@implementer(interfaces.IPushProducer)
class KafkaConnection(protocol.Protocol, policies.TimeoutMixin):
    """The Kafka protocol on one transport.

    @ivar peer: the client's address, for logs.
    @ivar advertised_host: the host Metadata tells this client.
    @ivar advertised_port: the port Metadata tells this client.
    @ivar vhost: the vhost this connection works in.
    """

    log = Logger()
    #: The transport: TCP, TLS or unix; also an IPushProducer we can pause.
    transport: Any
    #: The listener's security protocol: set by the L{ListenerFactory} of a
    #: SASL listener; a TLS connection left PLAINTEXT is an SSL one.
    security_protocol = "PLAINTEXT"
    #: The connection's authentication on an SSL or SASL listener.
    _authentication: ConnectionAuthentication | None = None

    def __init__(self, broker: "Broker",
                 open_connections: set["KafkaConnection"] | None = None,
                 budget: RequestBudget | None = None,
                 on_lost: Callable[[], object] | None = None) -> None:
        """
        @param broker: the broker whose responders answer this connection.
        @param open_connections: a set this connection is in while it is
            open (the factory's, for draining at shutdown).
        @param budget: the broker-wide budget of request bytes; C{None}
            for none.
        @param on_lost: called once when the connection is lost.
        """
        self.broker = broker
        self._open_connections = open_connections
        self._on_lost = on_lost
        kafka = broker.config.kafka
        self._parser = FrameParser(kafka.max_request_size)
        self._budget = budget
        # Bytes this connection has reserved or holds in the budget.
        self._budgeted = 0
        # Bytes of the frames in the backlog.
        self._backlog_bytes = 0
        # Reading stopped until the budget has room.
        self._budget_blocked = False
        self._request_timeout = kafka.request_completion_timeout_ms / 1000.0
        self._request_timer: Any = None
        self._dispatcher = RequestDispatcher(broker)
        self._replies = ReplyQueue()
        self._syncs = SyncBatch(lambda: self.broker.store.sync(),
                                self._synced, self._sync_failed)
        self._backlog: deque[bytes] = deque()
        self._poll: PollWait | None = None
        self._waiting: ReplySlot | None = None
        self._draining = False
        # Set by drain(): fires when this connection has closed.
        self._drained: Deferred[None] | None = None
        self._reading_paused = False
        self._closed = False
        self.peer = "?"
        self.advertised_host = kafka.advertised_host or kafka.bind
        # Overridden by the local address in connectionMade for TCP/TLS;
        # a unix-socket client is told the TCP (else TLS) listener.
        self.advertised_port = kafka.advertised_port or (
            kafka.port if kafka.port > 0 else kafka.tls_port)
        self.vhost: IVhost | None = None
        #: bytes read from and written to the client (responses' frames are
        #: counted only while the broker keeps request statistics)
        self.bytes_in = 0
        self.bytes_out = 0
        #: when the connection was made (the broker's reactor clock)
        self.connected_at = broker.reactor.seconds()
        self._stats = broker.request_stats
        if self._stats is not None:
            self._replies.observe = self._stats.responded

    @property
    def client_id(self) -> str | None:
        """The client id of the latest request."""
        return self._dispatcher.client_id

    @property
    def client_software(self) -> tuple[str, str] | None:
        """The client's software name and version, if its ApiVersions (v3+) said."""
        return self._dispatcher.client_software

    @property
    def principal(self) -> str:
        """Whom this connection's requests are authorized as."""
        return str(self._dispatcher.principal)

    def callLater(self, delay: float, f: Callable[..., Any], *args: Any) -> Any:
        """Schedule on the broker's reactor (the idle timer of TimeoutMixin)."""
        return self.broker.reactor.callLater(delay, f, *args)

    # -- connection lifecycle -------------------------------------------------

    def connectionMade(self) -> None:
        """Note the peer, pick the advertised address, set TCP_NODELAY, start the idle timer."""
        transport = self.transport
        self._replies.write = transport.writeSequence
        self._replies.sender = FileSender.for_transport(transport)
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
        if (self.security_protocol != "PLAINTEXT"
                or isinstance(self.broker.authorizer, VhostScopedAuthorizer)):
            self._secure()
        if interfaces.ITCPTransport.providedBy(transport):
            # As Kafka does: a response's last segment goes out at once
            # instead of waiting (Nagle) for the ACK of the one before,
            # which a client delays by up to 40 ms.
            transport.setTcpNoDelay(True)
        transport.registerProducer(self, True)
        if kafka.idle_timeout > 0:
            self.setTimeout(kafka.idle_timeout)
        if self._open_connections is not None:
            self._open_connections.add(self)

    def _secure(self) -> None:
        """Authenticate (SSL and SASL listeners) and authorize per vhost and client host."""
        host = getattr(self.transport.getPeer(), "host", "")
        self._peer_host = host if isinstance(host, str) else ""
        if (self.security_protocol == "PLAINTEXT"
                and getattr(self.transport, "getPeerCertificate", None) is not None):
            self.security_protocol = "SSL"
        if self.security_protocol == "PLAINTEXT":
            assert self.vhost is not None
            self._dispatcher.bind(ANONYMOUS, self.vhost.name, self._peer_host)
            return
        certificate = None
        if self.security_protocol == "SSL":
            def certificate() -> str:
                return self.broker.certificate_principal(self.transport)
        auth = ConnectionAuthentication(self.security_protocol, self.peer, self.broker.reactor,
                                        self._authenticated, self.close, certificate)
        self._authentication = self._dispatcher.authentication = auth
        if auth.sasl:
            self._parser.max_size = min(self._parser.max_size,
                                        self.broker.config.security.sasl_max_receive_size)

    def _authenticated(self, principal: str, vhost: str | None) -> None:
        """The client authenticated as C{principal}, in C{vhost} unless C{None}."""
        if vhost is not None:
            self.vhost = self.broker.store.vhost(vhost)
        assert self.vhost is not None
        self._parser.max_size = self.broker.config.kafka.max_request_size
        self._dispatcher.bind(principal, self.vhost.name, self._peer_host)

    def connectionLost(self, reason: Failure = protocol.connectionDone) -> None:
        """Forget pending work: cancel timers and store watches, give back the budget."""
        self._closed = True
        if self._authentication is not None:
            self._authentication.lost()
        self.setTimeout(None)
        self._stop_request_timer()
        self._end_poll()
        self._replies.clear()
        self._clear_backlog()
        self._parser.clear()
        if self._budget is not None:
            self._budget.cancel(self)
            self._account()
        if self._open_connections is not None:
            self._open_connections.discard(self)
        on_lost, self._on_lost = self._on_lost, None
        if on_lost is not None:
            on_lost()
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
        self._clear_backlog()
        self._account()
        self._pause_reading()
        if self._poll is not None:
            self._poll.finish_now()
        self._close_if_drained()
        return drained

    def _close_if_drained(self) -> None:
        """While draining, close once nothing answerable is left to write."""
        if not self._draining or self._closed or self._replies.has_output():
            return
        head = self._replies.head()
        if head is not None and head is not self._waiting:
            return
        self._closed = True
        self._lose_connection()

    def _lose_connection(self) -> None:
        """Close the transport once it has written everything.

        This connection stops being the transport's producer first, and
        reading resumes if it was paused (what arrives is ignored): a TLS
        transport sends its close_notify only after its producer is gone
        and closes when it reads the peer's, so without both a TLS
        connection would stay open until the drain timeout aborted it; and
        a transport whose producer is marked paused (the file sender waits
        that way) would resume it when drained instead of closing.
        """
        self.transport.unregisterProducer()
        if self._reading_paused:
            self._reading_paused = False
            self.transport.resumeProducing()
        self.transport.loseConnection()

    def timeoutConnection(self) -> None:
        """Close a connection idle for longer than C{idle_timeout}."""
        self.log.info("closing idle connection from {peer}", peer=self.peer)
        self._lose_connection()

    def _request_timed_out(self) -> None:
        """Close a connection whose request did not arrive in time."""
        self._request_timer = None
        self.close(f"request incomplete after {self._request_timeout:g} s "
                   f"({self._parser.buffered()} of {self._parser.frame_size()} bytes)")

    def close(self, reason: str) -> None:
        """Log C{reason} with the peer and close this connection."""
        if self._closed:
            return
        self.log.warn("closing connection from {peer}: {reason}", peer=self.peer, reason=reason)
        self._closed = True
        self._end_poll()
        self._lose_connection()

    # -- IPushProducer: the transport's write buffer -----------------------------

    def pauseProducing(self) -> None:
        """The transport's write buffer is full: stop answering new requests."""
        self._replies.paused = True

    def resumeProducing(self) -> None:
        """The transport drained: write more, then go on with held-back requests."""
        self._replies.paused = False
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
        self.bytes_in += len(data)
        self.resetTimeout()
        try:
            frames = self._parser.feed(data)
        except FrameError as e:
            self.close(f"refused frame: {e}")
            return
        if not frames:
            if (self._request_timer is None
                    or self._budgeted != self._parser.frame_size() + self._backlog_bytes):
                self._account()
            return
        # A frame completed: a partial one after it is a new request.
        self._stop_request_timer()
        if self._backlog or self._held():
            self._add_backlog(frames)
            self._pause_reading()
            self._account()
            return
        for i, frame in enumerate(frames):
            self._process(frame)
            if self._closed:
                return
            if self._held() and i + 1 < len(frames):
                self._add_backlog(frames[i + 1 :])
                self._pause_reading()
                break
        self._syncs.request()
        if self._budgeted or self._backlog_bytes or self._parser.frame_size():
            self._account()

    # -- the request budget and the completion timer -----------------------------

    def _add_backlog(self, frames: list[bytes]) -> None:
        self._backlog.extend(frames)
        self._backlog_bytes += sum(map(len, frames))

    def _clear_backlog(self) -> None:
        self._backlog.clear()
        self._backlog_bytes = 0

    def _account(self) -> None:
        """Bring this connection's share of the budget up to date, and its timer.

        It holds the whole size of the frame being collected (once its
        prefix is in) and the held-back frames.  If the budget refuses more,
        the bytes already read are still counted and reading stops until
        the budget wakes this connection.
        """
        budget = self._budget
        parser = self._parser
        if budget is not None:
            want = parser.frame_size() + self._backlog_bytes
            have = self._budgeted
            if want < have:
                self._budgeted = want
                budget.release(have - want)
            elif want > have:
                if budget.reserve(want - have):
                    self._budgeted = want
                elif not self._closed:
                    held = parser.buffered() + self._backlog_bytes
                    if held > have:
                        budget.hold(held - have)
                        self._budgeted = held
                    if not self._budget_blocked:
                        self._budget_blocked = True
                        budget.wait(self, self._budget_woken)
                        self._pause_reading()
                    return
            if self._budget_blocked:
                self._budget_blocked = False
                budget.cancel(self)
                self._resume_reading()
        self._time_request()

    def _budget_woken(self) -> None:
        """The budget has room again: reserve, and read on if that worked."""
        if not self._budget_blocked or self._closed:
            return
        self._budget_blocked = False
        self._account()
        if not self._budget_blocked:
            self._resume_reading()

    def _time_request(self) -> None:
        """Run the completion timer while an incomplete frame is held and read."""
        collecting = (self._parser.frame_size() > 0 and not self._reading_paused
                      and not self._closed)
        if collecting:
            if self._request_timer is None and self._request_timeout > 0:
                self._request_timer = self.broker.reactor.callLater(
                    self._request_timeout, self._request_timed_out)
        else:
            self._stop_request_timer()

    def _stop_request_timer(self) -> None:
        timer, self._request_timer = self._request_timer, None
        if timer is not None and timer.active():
            timer.cancel()

    def _held(self) -> bool:
        """Return whether new requests must wait before being processed."""
        return (
            self._draining
            or self._poll is not None
            or self._waiting is not None
            or self._replies.paused
            or len(self._replies) >= MAX_PENDING_RESPONSES
        )

    def _pause_reading(self) -> None:
        if not self._reading_paused and not self._closed:
            self._reading_paused = True
            self._stop_request_timer()
            self.transport.pauseProducing()

    def _resume_reading(self) -> None:
        """Read again unless held back requests, the budget or a drain keep it paused."""
        if (self._reading_paused and not self._closed and not self._backlog
                and not self._budget_blocked and not self._held()):
            self._reading_paused = False
            self.transport.resumeProducing()
            self._time_request()

    def _drain_backlog(self) -> None:
        """Process held-back frames until held again or none are left."""
        backlog = self._backlog
        processed = False
        while backlog and not self._held() and not self._closed:
            frame = backlog.popleft()
            self._backlog_bytes -= len(frame)
            processed = True
            self._process(frame)
        if not self._closed:
            self._syncs.request()
            if processed:
                self._account()
        self._resume_reading()

    def _process(self, frame: bytes) -> None:
        """Answer one request frame and queue its reply."""
        stats = self._stats
        started = stats.clock() if stats is not None else 0.0
        try:
            assert self.vhost is not None, "a request before connectionMade"
            dispatched = self._dispatcher.dispatch(
                frame, self.vhost, self.peer, self.advertised_host, self.advertised_port)
        except RequestRefused as e:
            self.close(e.reason)
            return
        if stats is None:
            if dispatched is not None:
                self._queue(*dispatched)
            return
        # The header was decoded: its first four bytes are the api key and version.
        api_key = frame[0] << 8 | frame[1]
        if dispatched is None:
            stats.request(api_key, frame[2] << 8 | frame[3], len(frame), _no_response, self)
            return
        reply, frame_of = dispatched
        frame_of = stats.request(api_key, frame[2] << 8 | frame[3], len(frame), frame_of, self)
        self._queue(reply, frame_of, api_key, started)

    # -- output ---------------------------------------------------------------

    def _queue(self, reply: Reply, frame_of: ResponseFramer, api_key: int = -1,
               started: float = 0.0) -> None:
        """Put C{reply} in the ordered reply queue (or wait for it).

        @param api_key: the API answered, when the reply is timed.
        @param started: when its request was taken up.
        """
        slot = self._replies.add(api_key, started)
        if type(reply) is dict:
            data = self._encoded(frame_of, reply)
            if data is None:
                return
            slot.data = data
            slot.ready = True
            self._flush()
        elif isinstance(reply, AfterSync):
            # The body is final already; only its release waits for fsync.
            data = self._encoded(frame_of, reply.response)
            if data is None:
                return
            slot.data = data
            self._syncs.add(slot)
        elif isinstance(reply, LongPoll):
            self._poll = PollWait(slot, reply, frame_of, self.broker.reactor, self._poll_answer)
            self._poll.start()
        elif isinstance(reply, Waiting):
            self._waiting = slot

            def answered(body: Fields) -> None:
                if self._waiting is not slot or self._closed:
                    return
                self._waiting = None
                data = self._encoded(frame_of, body)
                if data is None:
                    return
                slot.data = data
                slot.ready = True
                self._flush()
                self._drain_backlog()

            reply.register(answered)
        elif isinstance(reply, CloseAfter):
            if reply.response is not None:
                data = self._encoded(frame_of, reply.response)
                if data is None:
                    return
                slot.data = data
            slot.ready = True
            slot.close_after = reply.reason
            self._flush()
        else:
            raise TypeError(f"responder returned {reply!r}")

    def _encoded(self, frame_of: ResponseFramer, body: Fields) -> list[Chunk] | None:
        """Return the frame of C{body}; if it cannot be encoded, close and return C{None}.

        A response that does not fit its version's types is a bug or a
        client value we echo; either way it costs one log line and this
        connection, never a traceback.
        """
        try:
            return frame_of(body)
        except EncodeError as e:
            self.close(f"cannot encode response: {e}")
            return None

    def _flush(self) -> None:
        """Move every ready reply at the head of the queue to the output and write."""
        if self._closed:
            return
        replies = self._replies
        if replies.move_ready():
            reason = replies.close_reason
            if reason is not None:
                try:
                    replies.write_all()
                except OSError as e:
                    reason = f"{reason}; reading records failed: {e}"
                self.close(reason)
                return
            self._write_out()
            self.resetTimeout()

    def _write_out(self) -> None:
        """Write queued output until it is gone or the transport pauses us."""
        try:
            self._replies.write_out()
        except OSError as e:
            # a file range could not be read: this response cannot be completed
            self.close(f"reading records failed: {e}")
            return
        if self._draining:
            self._close_if_drained()

    # -- durability: one store sync per connection per fsync round -------------

    def _synced(self) -> None:
        """A sync released its replies: write them, ask for the next round."""
        if not self._closed:
            self._syncs.request()
        self._flush()
        self._drain_backlog()

    def _sync_failed(self, failure: Failure) -> None:
        self.log.failure("fsync failed; closing {peer}", failure, peer=self.peer)
        self.close("storage sync failed")

    # -- long poll ------------------------------------------------------------

    def _poll_answer(self, wait: PollWait, body: Fields) -> None:
        """The long poll has its answer: queue it and go on with held requests."""
        if self._closed:
            return
        self._end_poll()
        data = self._encoded(wait.frame, body)
        if data is None:
            return
        wait.slot.data = data
        wait.slot.ready = True
        self._flush()
        self._drain_backlog()

    def _end_poll(self) -> None:
        wait, self._poll = self._poll, None
        if wait is not None:
            wait.cancel()


def _no_response(body: Fields) -> list[Chunk]:
    """The framer of a request answered with no response (never called)."""
    return []
