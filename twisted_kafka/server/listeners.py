# -*- test-case-name: tests.server.test_listeners -*-
"""The broker's listening sockets, built from the configuration.

L{build_listeners} turns the C{[kafka]} section into endpoints: plain TCP on
C{port}, TLS on C{tls_port} (with the context from L{server_tls_options}), a
unix socket on C{unix_path}, and every extra C{listeners} / C{--listen}
string through L{serverFromString}.  Each has its security protocol
(Kafka's C{PLAINTEXT}, C{SSL}, C{SASL_PLAINTEXT}, C{SASL_SSL}): the
C{*_security_protocol} keys for the first three, an optional C{PROTOCOL://}
prefix for the strings.  L{ListenerService} listens on one of them, logs one line with the address once listening, and fails start-up
loudly: a port that cannot be bound stops the process with one line naming
the listener (see L{ListenerFailed}).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from twisted.application import service
from twisted.application.internet import StreamServerEndpointService
from twisted.internet import endpoints, error, interfaces
from twisted.internet.defer import CancelledError
from twisted.logger import Logger
from twisted.python.failure import Failure

from twisted_kafka.config import BrokerConfig, ConfigError, split_security_protocol
from twisted_kafka.server.addresses import describe_address
from twisted_kafka.server.factory import ListenerFactory
from twisted_kafka.server.tls import server_tls_options

log = Logger()


class ListenerFailed(SystemExit, Exception):
    """A listener could not start; its text is one line naming the listener.

    It is a L{SystemExit} so that, raised while twistd starts the services,
    the process exits with status 1 printing that one line (no traceback);
    it is also an L{Exception} so that twistd still removes its pid file.
    """


@dataclass(frozen=True)
class Listener:
    """One configured listening socket.

    @ivar description: how the listener is named in logs and errors, in
        endpoint-string syntax (C{tcp:9092:interface=127.0.0.1}).
    @ivar endpoint: the server endpoint to listen on.
    @ivar security_protocol: how its clients authenticate (Kafka's names).
    """

    description: str
    endpoint: interfaces.IStreamServerEndpoint
    security_protocol: str = "PLAINTEXT"


def build_listeners(config: BrokerConfig, reactor: Any) -> list[Listener]:
    """Return the listeners C{config} asks for, in a stable order.

    Order: TCP, TLS, unix socket, then each extra string as given.  The
    first three queue up to C{[kafka] listen_backlog} connections not yet
    accepted; an extra string sets its own C{backlog=}.

    @raise ConfigError: an extra string is not a valid endpoint, the TLS
        files are unusable, or no listener is configured at all.
    """
    kafka = config.kafka
    backlog = kafka.listen_backlog
    listeners = []
    if kafka.port > 0:
        listeners.append(tcp_listener(config, reactor, kafka.port))
    if kafka.tls_port > 0:
        listeners.append(tls_listener(config, reactor, kafka.tls_port))
    if kafka.unix_path:
        listeners.append(Listener(
            f"unix:{kafka.unix_path}:lockfile=1",
            endpoints.UNIXServerEndpoint(
                reactor, kafka.unix_path, backlog=backlog, wantPID=True),
            kafka.unix_security_protocol))
    for description in kafka.listeners:
        try:
            protocol, endpoint_string = split_security_protocol(description)
            endpoint = endpoints.serverFromString(reactor, endpoint_string)
        except Exception as e:
            raise ConfigError(f"listener {description}: {_reason(e)}") from None
        listeners.append(Listener(description, endpoint, protocol))
    if not listeners:
        raise ConfigError(
            f"{config.source}: no listener: set [kafka] port, tls_port, unix_path or "
            "listeners, or give --listen")
    return listeners


def tcp_listener(config: BrokerConfig, reactor: Any, port: int) -> Listener:
    """Return the plain TCP listener on C{[kafka] bind}, port C{port}.

    C{port} may be 0 for a port the kernel picks (the in-process test broker,
    L{twisted_kafka.testing}); C{[kafka] port} itself cannot be 0, which means "off".
    """
    kafka = config.kafka
    tcp_endpoint = endpoints.TCP6ServerEndpoint if ":" in kafka.bind else endpoints.TCP4ServerEndpoint
    return Listener(f"tcp:{port}:interface={kafka.bind}",
                    tcp_endpoint(reactor, port, backlog=kafka.listen_backlog, interface=kafka.bind),
                    kafka.port_security_protocol)


def tls_listener(config: BrokerConfig, reactor: Any, port: int) -> Listener:
    """Return the TLS listener on C{[kafka] bind}, port C{port} (0: the kernel picks)."""
    kafka = config.kafka
    return Listener(
        f"ssl:{port}:interface={kafka.bind}",
        endpoints.SSL4ServerEndpoint(
            reactor, port, server_tls_options(config), backlog=kafka.listen_backlog,
            interface=kafka.bind),
        kafka.tls_port_security_protocol)


def _reason(exception: BaseException) -> str:
    """Return a short one-line reason for C{exception}."""
    if isinstance(exception, error.CannotListenError):
        cause = exception.socketError
        if isinstance(cause, OSError) and cause.strerror:
            return cause.strerror
        return str(cause)
    text = str(exception).strip() or type(exception).__name__
    return text.splitlines()[0]


class ListenerService(StreamServerEndpointService):
    """Listens on one L{Listener}; failing to listen is fatal.

    A failure while the service starts raises L{ListenerFailed}.  A failure
    reported later (an endpoint that listens asynchronously) is logged as
    critical and stops C{reactor}, since a broker missing a listener it was
    configured with should not run.
    """

    def __init__(self, listener: Listener, factory: interfaces.IProtocolFactory,
                 reactor: Any, kind: str = "Kafka") -> None:
        """
        @param factory: the broker's factory; a SASL listener serves it
            through a L{ListenerFactory} naming its security protocol (a
            connection sees for itself that it is TLS).
        @param kind: what the listener serves, for its log line.
        """
        if listener.security_protocol.startswith("SASL_"):
            factory = ListenerFactory(factory, listener.security_protocol)
        super().__init__(listener.endpoint, factory)
        self.listener = listener
        self.kind = kind
        self.reactor = reactor
        self.setName(listener.description)
        self.port: interfaces.IListeningPort | None = None

    def privilegedStartService(self) -> None:
        """Start listening; raise L{ListenerFailed} if that fails at once."""
        service.Service.privilegedStartService(self)
        failures: list[str] = []
        starting = True

        def listening(port: interfaces.IListeningPort) -> interfaces.IListeningPort:
            self.port = port
            log.info("{kind} listener {description} listening on {address}",
                     kind=self.kind, description=self.listener.description,
                     address=describe_address(port.getHost()))
            return port

        def failed(reason: Failure) -> None:
            if reason.check(CancelledError):
                return None
            message = f"listener {self.listener.description}: {_reason(reason.value or Exception('unknown'))}"
            if starting:
                failures.append(message)
            else:
                log.critical("{message}", message=message)
                self.reactor.stop()
            return None

        self._waitingForPort = self.endpoint.listen(self.factory)
        self._waitingForPort.addCallbacks(listening, failed)
        starting = False
        if failures:
            raise ListenerFailed(failures[0])
