# -*- test-case-name: tests.testing.test_inprocess -*-
"""A broker started inside the running process, on its reactor: no subprocess.

L{InProcessBroker} builds the broker's service exactly as C{twistd kafka}
does (L{twisted_kafka.tap.makeService}: store, group coordinator, connection
draining, listeners), from a configuration file the toolkit writes
(L{twisted_kafka.testing.settings}), and starts it on the given reactor with
its listeners on ports the kernel picks (port 0); the bound ports are read
back from the listening ports.  Stopping it runs the broker's clean
shutdown; a directory the broker made for itself is removed.

Use it from Twisted code and trial tests::

    broker = InProcessBroker()
    yield broker.start()
    ...  # clients connect to broker.bootstrap
    yield broker.stop()

Blocking clients (confluent-kafka, kafka-python) and the helpers of
L{twisted_kafka.testing.helpers} must then run in a thread
(C{deferToThread}), since the broker is served by the reactor's thread.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Any, Callable

from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred
from twisted.logger import LogPublisher

from twisted_kafka.config import ConfigError, load_config
from twisted_kafka.server.listeners import ListenerService, tcp_listener, tls_listener
from twisted_kafka.tap import BrokerService, Options, makeService
from twisted_kafka.testing.settings import (
    CONFIG_FILE, BrokerAddresses, BrokerSettings, BrokerStartError, settings_from, write_config)
from twisted_kafka.testing.tls import TlsFiles


class InProcessBroker(BrokerAddresses):
    """One broker served by a reactor of this process.

    @ivar directory: holds C{twisted-kafka.ini}, C{data/} and C{tls/}.
    @ivar port: the plain TCP port once started (kept across restarts).
    @ivar tls_port: the TLS port once started, or C{None} without TLS.
    @ivar tls_files: the generated certificates, or C{None} without TLS.
    @ivar service: the running L{BrokerService}, or C{None}.
    """

    def __init__(self, settings: BrokerSettings | None = None, *, reactor: Any = None,
                 directory: str | None = None, log_publisher: LogPublisher | None = None,
                 **options: Any) -> None:
        """
        @param settings: how the broker is configured; or give its fields
            as keyword C{options} (C{tls=True}, C{partitions=3}, C{store={...}}).
        @param reactor: the reactor serving the broker; the global one by default.
        @param directory: where its files go; by default a new temporary
            directory, removed by L{stop}.
        @param log_publisher: the publisher whose observers the broker's
            C{[main] log_level} filters while it runs; by default a private
            one, so that the process's log observers are left as they are.
        """
        if reactor is None:
            from twisted.internet import reactor as global_reactor

            reactor = global_reactor
        self.settings = settings_from(settings, **options)
        self.reactor = reactor
        self._own_directory = directory is None
        self.directory = os.path.abspath(
            tempfile.mkdtemp(prefix="twisted-kafka-") if directory is None else directory)
        self.log_publisher = LogPublisher() if log_publisher is None else log_publisher
        self.config_path, self.tls_files = write_config(self.directory, self.settings)
        self.port: int | None = None
        self.tls_port: int | None = None
        self.service: BrokerService | None = None

    @classmethod
    def from_directory(cls, directory: str, *, tls: bool, port: int | None = None,
                       tls_port: int | None = None, reactor: Any = None,
                       log_publisher: LogPublisher | None = None) -> InProcessBroker:
        """Return a broker on the configuration already written in C{directory}.

        For a broker whose files another process made (the fork server's
        brokers): the directory is left in place by L{stop}.

        @param tls: whether the configuration has a TLS listener.
        @param port: the TCP port to listen on (C{None}: one the kernel picks).
        @param tls_port: the same for TLS.
        """
        broker = cls.__new__(cls)
        if reactor is None:
            from twisted.internet import reactor as global_reactor

            reactor = global_reactor
        broker.settings = BrokerSettings(tls=tls)
        broker.reactor = reactor
        broker._own_directory = False
        broker.directory = os.path.abspath(directory)
        broker.log_publisher = LogPublisher() if log_publisher is None else log_publisher
        broker.config_path = os.path.join(broker.directory, CONFIG_FILE)
        broker.tls_files = None
        broker.port = port
        broker.tls_port = tls_port
        broker.service = None
        return broker

    def start(self) -> Deferred[InProcessBroker]:
        """Start the broker's service; fire with this broker once it listens.

        A restart (L{start} after L{stop}) uses the same data and ports.
        Fails with L{BrokerStartError} naming the reason (a bad setting, a
        port that cannot be bound, a data directory that cannot be opened).
        """
        return Deferred.fromCoroutine(self._start())

    async def _start(self) -> InProcessBroker:
        if self.service is not None:
            raise RuntimeError("the broker is already running")
        options = Options(self.reactor)
        try:
            options.config = config = load_config(self.config_path)
            listeners = [tcp_listener(config, self.reactor, self.port or 0)]
            if self.settings.tls:
                listeners.append(tls_listener(config, self.reactor, self.tls_port or 0))
        except ConfigError as e:
            raise BrokerStartError(str(e)) from None
        options.listeners = listeners
        root = makeService(options)
        root.publisher = self.log_publisher
        # Service's methods are not annotated upstream.
        privileged_start: Callable[[], None] = root.privilegedStartService
        try:
            privileged_start()
            root.startService()
        except (SystemExit, Exception) as e:
            # A listener that cannot bind is a SystemExit (ListenerFailed):
            # fatal for twistd, an error to report here.
            await _stop_quietly(root)
            raise BrokerStartError(f"broker in {self.directory} did not start: {e}") from None
        # TCP and TLS endpoints listen at once: each listener has its port.
        addresses = [child.port.getHost() for child in root
                     if isinstance(child, ListenerService) and child.port is not None]
        ports = [a.port for a in addresses if isinstance(a, IPv4Address)]
        if len(ports) != len(listeners):
            await _stop_quietly(root)
            raise BrokerStartError(f"broker in {self.directory} did not start listening")
        self.port = ports[0]
        if self.settings.tls:
            self.tls_port = ports[1]
        self.service = root
        return self

    def stop(self) -> Deferred[None]:
        """Stop the broker cleanly (as on SIGTERM); remove its own temporary directory."""
        return Deferred.fromCoroutine(self._stop(remove=True))

    def restart(self) -> Deferred[InProcessBroker]:
        """Stop the broker and start it again on the same data and ports."""
        return Deferred.fromCoroutine(self._restart())

    async def _restart(self) -> InProcessBroker:
        await self._stop(remove=False)
        return await self._start()

    async def _stop(self, remove: bool) -> None:
        service, self.service = self.service, None
        try:
            if service is not None:
                await _stop_quietly(service)
        finally:
            if remove and self._own_directory:
                shutil.rmtree(self.directory, ignore_errors=True)


async def _stop_quietly(service: BrokerService) -> None:
    """Stop C{service} if it is running (its stop logs its own failures)."""
    if service.running:
        await service.stopService()


__all__ = ["BrokerStartError", "InProcessBroker", "TlsFiles"]
