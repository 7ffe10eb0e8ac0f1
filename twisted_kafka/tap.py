# -*- test-case-name: tests.test_tap -*-
"""The twistd plugin's options and service: C{twistd -n kafka}.

L{Options} parses C{--config}, C{--data-dir} and repeatable C{--listen},
then loads and checks the whole configuration (including the TLS files,
every listener string and the open-file limit against the stored
partitions) so that nothing can fail later with a traceback.
L{makeService} builds the broker: a L{BrokerService} whose children are, in
start order, the stream-queue store, the group coordinator, the connection
drainer, one L{ListenerService} per listener, all serving one
L{KafkaServerFactory}, and the HTTP listener when C{[http] listen} is set
(L{twisted_kafka.observability}).  They stop in reverse order, each after the one before
has finished: listeners stop accepting, open connections are answered and
closed, the coordinator stops, and the store stops last.
"""

from __future__ import annotations

from typing import Any, Callable

from twisted.application import service
from twisted.internet.defer import Deferred, maybeDeferred, succeed
from twisted.logger import (
    FilteringLogObserver,
    LogLevel,
    Logger,
    LogLevelFilterPredicate,
    LogPublisher,
    globalLogPublisher,
)
from twisted.python import usage
from twisted.python.failure import Failure

from twisted_kafka.printable import EscapingObserver
from twisted_kafka.config import BrokerConfig, ConfigError, load_config
from twisted_kafka.observability.site import http_listener
from twisted_kafka.server.listeners import Listener, ListenerService, build_listeners
from twisted_kafka.store.descriptors import DescriptorBudget, DescriptorLimitError, FileLimit
from twisted_kafka.store.service import stored_partitions

log = Logger()


class Options(usage.Options):
    """Command-line options of C{twistd kafka}."""

    synopsis = "[--config PATH] [--data-dir PATH] [--listen STRPORT ...]"
    longdesc = (
        "Run a Kafka-protocol broker whose topic partitions are stream queues on "
        "local disk. With no options it listens on tcp:9092:interface=127.0.0.1 and "
        "keeps its data in ./kafka-data. See etc/twisted-kafka.ini for every setting."
    )
    optParameters = [
        ["config", "c", None, "INI configuration file (see etc/twisted-kafka.ini)."],
        ["data-dir", "d", None, "Data directory (overrides [main] data_dir)."],
    ]

    def __init__(self, reactor: Any = None, file_limit: FileLimit | None = None) -> None:
        """
        @param reactor: the reactor listeners are built on; the global one
            when C{None}.
        @param file_limit: the open-file limit checked against the stored
            partitions; this process's C{RLIMIT_NOFILE} when C{None}.
        """
        super().__init__()
        self["listen"] = []
        self.reactor = reactor
        self.file_limit = file_limit
        self.config: BrokerConfig | None = None
        self.listeners: list[Listener] = []
        self.http: Listener | None = None

    def opt_listen(self, description: str) -> None:
        """Add a listener: any Twisted server endpoint string, e.g.
        tcp:9093:interface=0.0.0.0 or unix:/run/kafka.sock (repeatable)."""
        self["listen"].append(description)

    opt_l = opt_listen

    def postOptions(self) -> None:
        """Load and check the configuration and build the listeners.

        A configuration error exits with its one line (a L{SystemExit}): a
        L{usage.UsageError} would make twistd print the whole option usage
        above it, burying the line that says what is wrong.
        """
        if self.reactor is None:
            from twisted.internet import reactor

            self.reactor = reactor
        try:
            self.config = load_config(
                self["config"], data_dir=self["data-dir"], listen=self["listen"])
            check_open_files(self.config, self.file_limit)
            self.listeners = build_listeners(self.config, self.reactor)
            self.http = http_listener(self.config, self.reactor)
        except ConfigError as e:
            raise SystemExit(str(e)) from None


def check_open_files(config: BrokerConfig, limit: FileLimit | None = None) -> None:
    """Check the open-file limit against the partitions stored in the data directory.

    The soft limit is raised toward the hard one as the store will need
    (L{DescriptorBudget.start}).

    @raise ConfigError: naming C{[store] max_open_sealed_files} when even the
        hard limit cannot hold the stored partitions.
    """
    store = config.store
    budget = DescriptorBudget(store.max_open_sealed_files, store.max_connections, limit)
    try:
        budget.start(stored_partitions(config.main.data_dir))
    except DescriptorLimitError as e:
        raise ConfigError(f"{config.source}: [store] max_open_sealed_files = "
                          f"{store.max_open_sealed_files}: {e}") from None


class BrokerService(service.MultiService):
    """The broker's root service.

    Children stop one after another in reverse order, each once the one
    before has finished: every listener has closed its port before the store
    (the first child) is asked to stop.  (A plain L{MultiService} asks them all
    at once.)  While running, log events below C{[main] log_level} are dropped.

    @ivar config: the broker's configuration.
    """

    def __init__(self, config: BrokerConfig, publisher: LogPublisher = globalLogPublisher) -> None:
        super().__init__()
        self.config = config
        self.publisher = publisher
        self._filtered: list[tuple[Any, Any]] = []

    def startService(self) -> None:
        """Filter the log below C{log_level}, then start every child in order."""
        self._filtered = filter_log_level(self.publisher, self.config.main.log_level)
        super().startService()

    def stopService(self) -> Deferred[None]:
        """Stop the children in reverse order, one at a time, then unfilter the log."""
        service.Service.stopService(self)
        stopped: Deferred[Any] = succeed(None)
        for child in reversed(list(self)):
            stopped.addCallback(_stop_child, child)
            stopped.addErrback(_log_stop_failure, child)

        def unfilter(result: object) -> None:
            for original, filtered in self._filtered:
                self.publisher.removeObserver(filtered)
                self.publisher.addObserver(original)
            self._filtered = []

        return stopped.addBoth(unfilter)


def _stop_child(_: object, child: service.IService) -> Deferred[Any]:
    stop: Callable[[], Any] = child.stopService
    return maybeDeferred(stop)


def _log_stop_failure(reason: Failure, child: service.IService) -> None:
    log.failure("stopping {name} failed", reason, name=child.name or type(child).__name__)


def filter_log_level(publisher: LogPublisher, level: str) -> list[tuple[Any, Any]]:
    """Wrap each observer of C{publisher} so that it sees nothing below C{level}.

    Each also sees client strings escaped (L{EscapingObserver}).

    twistd attaches its log observer before the services start and offers a
    plugin no way to filter it, so the observers present are replaced by
    filtered ones.  Returns (original, filtered) pairs to undo it.
    """
    predicate = LogLevelFilterPredicate(defaultLogLevel=LogLevel.levelWithName(level))
    pairs = []
    for observer in list(getattr(publisher, "_observers", ())):
        filtered = FilteringLogObserver(EscapingObserver(observer), [predicate])
        publisher.removeObserver(observer)
        publisher.addObserver(filtered)
        pairs.append((observer, filtered))
    return pairs


def _credentials(config: BrokerConfig) -> Any:
    """Read the users file now, so that an unreadable one stops start-up with one line."""
    from twisted_kafka.security.credentials import CredentialStore
    from twisted_kafka.store.metafile import MetadataFileError

    try:
        return CredentialStore.in_directory(config.main.data_dir, config.security.users_file,
                                            durable=config.store.fsync)
    except (MetadataFileError, OSError, ValueError, KeyError) as e:
        raise SystemExit(f"{config.source}: [security] users_file: cannot read users: {e}") from None


def _authorizer(config: BrokerConfig) -> tuple[Any, Any]:
    """Return the ACL store and authorizer C{[security] authorizer} asks for, or C{None}s."""
    if config.security.authorizer != "acl":
        return None, None
    from twisted_kafka.security.acl_authorizer import AclAuthorizer
    from twisted_kafka.security.acl_store import AclStore
    from twisted_kafka.store.metafile import MetadataFileError

    try:
        store = AclStore.in_directory(config.main.data_dir, config.security.acls_file,
                                      durable=config.store.fsync)
    except (MetadataFileError, OSError) as e:
        raise SystemExit(f"{config.source}: [security] acls_file: cannot read ACLs: {e}") from None
    return store, AclAuthorizer(store, frozenset(config.security.super_users),
                                config.security.allow_everyone_if_no_acl_found,
                                config.kafka.default_vhost)


def makeService(options: Options) -> BrokerService:
    """Return the broker service described by C{options} (already parsed)."""
    from twisted_kafka.broker import Broker
    from twisted_kafka.server.draining import ConnectionDrainService
    from twisted_kafka.server.factory import KafkaServerFactory
    from twisted_kafka.store.service import StreamStore

    config = options.config
    assert config is not None, "makeService needs parsed options"
    root = BrokerService(config)
    store = StreamStore(config.main.data_dir, config.store, reactor=options.reactor)
    store.setServiceParent(root)
    acls, authorizer = _authorizer(config)
    broker = Broker(config, store, options.reactor, credentials=_credentials(config),
                    authorizer=authorizer, acls=acls)
    # After the store: the group coordinator loads committed offsets at
    # start-up and stops (cancelling its timers) before the store closes.
    broker.groups.setName("groups")
    broker.groups.setServiceParent(root)
    factory = KafkaServerFactory(broker)
    # Stops after the listeners and before the coordinator and the store:
    # in-flight requests are answered while the store can still fsync.
    ConnectionDrainService(factory).setServiceParent(root)
    services = []
    for listener in options.listeners:
        kafka_listener = ListenerService(listener, factory, options.reactor)
        kafka_listener.setServiceParent(root)
        services.append(kafka_listener)
    if options.http is not None:
        # Last: it starts once the Kafka listeners listen and stops first.
        _serve_http(options.http, broker, factory, services, options.reactor).setServiceParent(root)
    return root


def _serve_http(listener: Listener, broker: Any, factory: Any, kafka_listeners: list[ListenerService],
                reactor: Any) -> service.IService:
    """The HTTP listener's service; from now on the broker's connections keep request statistics."""
    from twisted_kafka.observability.site import http_service
    from twisted_kafka.observability.view import BrokerView
    from twisted_kafka.server.request_stats import RequestStats

    broker.request_stats = RequestStats()
    http = broker.config.http
    view = BrokerView(
        broker,
        connections=lambda: list(factory.connections),
        listeners=lambda: [(s.listener.description, s.port is not None) for s in kafka_listeners],
        max_partition_series=http.max_partition_series,
        max_peek_records=http.max_peek_records,
    )
    return http_service(listener, view, reactor)
