# -*- test-case-name: tests.test_tap -*-
"""Tests for L{twisted_kafka.tap} and the twistd dropin: options and the service tree."""

from __future__ import annotations

import os

from twisted.application.service import IServiceMaker
from twisted.internet.testing import MemoryReactorClock
from twisted.logger import Logger, LogLevel, LogPublisher
from twisted.plugin import getPlugins
from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka import tap
from twisted_kafka.server.listeners import ListenerService
from twisted_kafka.groups.coordinator import GroupCoordinator
from twisted_kafka.server.draining import ConnectionDrainService
from twisted_kafka.store.service import StreamStore

from twisted_kafka.testing.tls import write_tls_files


class PluginTests(SynchronousTestCase):
    """The dropin in C{twisted/plugins/} makes C{twistd kafka}."""

    def test_discovered(self) -> None:
        """C{getPlugins(IServiceMaker)} lists C{kafka}, pointing at L{tap}."""
        makers = {maker.tapname: maker for maker in getPlugins(IServiceMaker)}
        self.assertIn("kafka", makers)
        self.assertIsInstance(makers["kafka"].options(), tap.Options)
        self.assertEqual(makers["kafka"].description, "A Kafka-protocol broker")

    def test_no_init_in_dropin_directory(self) -> None:
        """C{twisted/plugins/} has no C{__init__.py} (it would shadow Twisted's)."""
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        self.assertFalse(os.path.exists(os.path.join(root, "twisted", "__init__.py")))
        self.assertFalse(os.path.exists(os.path.join(root, "twisted", "plugins", "__init__.py")))


class OptionsTests(SynchronousTestCase):
    """L{tap.Options} loads the configuration and fails in one line."""

    def parse(self, *argv: str) -> tap.Options:
        """Return options parsed from C{argv} on a memory reactor."""
        options = tap.Options(reactor=MemoryReactorClock())
        options.parseOptions(list(argv))
        return options

    def write(self, text: str) -> str:
        """Write an INI file holding C{text}; return its path."""
        path = self.mktemp()
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def test_defaults(self) -> None:
        """No options: the default configuration and one TCP listener."""
        options = self.parse()
        assert options.config is not None
        self.assertEqual(options.config.main.data_dir, "./kafka-data")
        self.assertEqual([x.description for x in options.listeners],
                         ["tcp:9092:interface=127.0.0.1"])

    def test_options(self) -> None:
        """C{--config}, C{--data-dir} and repeated C{--listen} all take effect."""
        data_dir = self.mktemp()
        config = self.write("[kafka]\nport = 19092\n")
        options = self.parse("--config", config, "--data-dir", data_dir,
                             "--listen", "tcp:1:interface=127.0.0.1", "--listen", "unix:/tmp/x")
        assert options.config is not None
        self.assertEqual(options.config.main.data_dir, data_dir)
        self.assertEqual([x.description for x in options.listeners], [
            "tcp:19092:interface=127.0.0.1", "tcp:1:interface=127.0.0.1", "unix:/tmp/x"])

    def test_config_error_is_one_line(self) -> None:
        """A bad value exits with exactly its one-line message."""
        config = self.write("[kafka]\nport = abc\n")
        exited = self.assertRaises(SystemExit, self.parse, "--config", config)
        self.assertEqual(exited.code, f"{config}: [kafka] port = abc: not an integer")

    def test_unreadable_config(self) -> None:
        """A missing configuration file exits with one line naming it."""
        exited = self.assertRaises(SystemExit, self.parse, "--config", "/nonexistent.ini")
        self.assertEqual(exited.code,
                         "/nonexistent.ini: cannot read configuration: No such file or directory")

    def test_bad_listen(self) -> None:
        """A C{--listen} string that is no endpoint exits with one line naming it."""
        exited = self.assertRaises(SystemExit, self.parse, "--listen", "nonsense:1")
        self.assertTrue(str(exited.code).startswith("listener nonsense:1: "), exited.code)

    def test_open_file_limit_too_low(self) -> None:
        """Stored partitions the hard open-file limit cannot hold exit with one line naming the key."""
        from tests.store.helpers import FakeFileLimit
        from twisted_kafka.store.config import StoreConfig

        data_dir = self.mktemp()
        store = StreamStore(data_dir, StoreConfig(fsync=False), reactor=MemoryReactorClock())
        store.startService()
        store.vhost("/").create_topic("t", 50)
        self.successResultOf(store.stopService())
        config = self.write(f"[main]\ndata_dir = {data_dir}\n[kafka]\nmax_connections = 20\n"
                            f"[store]\nmax_open_sealed_files = 16\n")
        need = 50 + 16 + 64 + 20
        fits = tap.Options(reactor=MemoryReactorClock(), file_limit=FakeFileLimit(100, need))
        fits.parseOptions(["--config", config])
        low = FakeFileLimit(100, need - 1)
        options = tap.Options(reactor=MemoryReactorClock(), file_limit=low)
        exited = self.assertRaises(SystemExit, options.parseOptions, ["--config", config])
        self.assertEqual(
            exited.code,
            f"{config}: [store] max_open_sealed_files = 16: 50 stored partition(s) need {need} "
            f"open files (50 active segments, 16 sealed segment files, 20 for connections, "
            f"64 for the broker), above the open-file limit of {need - 1} (RLIMIT_NOFILE): "
            f"raise it (ulimit -n, systemd LimitNOFILE=) or lower max_open_sealed_files or "
            f"[kafka] max_connections")
        self.assertEqual(low.soft, need - 1)

    def test_unusable_tls_files(self) -> None:
        """TLS files that cannot be used are found while parsing options."""
        files = write_tls_files(self.mktemp())
        config = self.write(f"[kafka]\ntls_port = 19093\n[tls]\ncert = {files.server_cert}\n"
                            f"key = {files.client_key}\n")
        exited = self.assertRaises(SystemExit, self.parse, "--config", config)
        self.assertEqual(exited.code, f"{config}: [tls] key = {files.client_key}: does not "
                                      f"match the certificate in {files.server_cert}")


class MakeServiceTests(SynchronousTestCase):
    """L{tap.makeService} builds the store, then one service per listener."""

    def make(self, ini: str) -> tuple[MemoryReactorClock, tap.BrokerService]:
        """Return a memory reactor and the service built from C{ini} on it."""
        path = self.mktemp()
        with open(path, "w", encoding="utf-8") as f:
            f.write(f"[main]\ndata_dir = {self.mktemp()}\n[store]\nfsync = false\n{ini}")
        reactor = MemoryReactorClock()
        options = tap.Options(reactor=reactor)
        options.parseOptions(["--config", path])
        root = tap.makeService(options)
        root.publisher = LogPublisher()
        return reactor, root

    def test_children(self) -> None:
        """The store is the first child; one listener service per configured listener."""
        files = write_tls_files(self.mktemp())
        unix_path = os.path.abspath(self.mktemp())
        reactor, root = self.make(
            f"[kafka]\nport = 19092\ntls_port = 19093\nunix_path = {unix_path}\n"
            f"[tls]\ncert = {files.server_cert}\nkey = {files.server_key}\n")
        children = list(root)  # type: ignore[call-overload]
        self.assertIsInstance(children[0], StreamStore)
        self.assertIsInstance(children[1], GroupCoordinator)
        self.assertIsInstance(children[2], ConnectionDrainService)
        self.assertEqual([type(c) for c in children[3:]], [ListenerService] * 3)
        root.startService()
        try:
            self.assertEqual([(p, i) for p, _, _, i in reactor.tcpServers],
                             [(19092, "127.0.0.1")])
            self.assertEqual([(p, i) for p, _, _, _, i in reactor.sslServers],
                             [(19093, "127.0.0.1")])
            self.assertEqual([a for a, *_ in reactor.unixServers], [unix_path])
            factories = {s[1] for s in reactor.tcpServers + reactor.unixServers}
            factories |= {s[1] for s in reactor.sslServers}
            self.assertEqual(len(factories), 1, "one factory serves every listener")
        finally:
            self.successResultOf(root.stopService())

    def test_default_listener_only(self) -> None:
        """With defaults, only TCP 127.0.0.1:9092 is listened on."""
        reactor, root = self.make("")
        root.startService()
        self.assertEqual([(p, i) for p, _, _, i in reactor.tcpServers], [(9092, "127.0.0.1")])
        self.assertEqual((reactor.sslServers, reactor.unixServers), ([], []))
        self.successResultOf(root.stopService())

    def test_store_starts_first_stops_last(self) -> None:
        """The store starts first and stops last; the group coordinator sits inside it."""
        _, root = self.make("[kafka]\nlisteners = tcp:19094\n")
        calls: list[str] = []
        for child in root:  # type: ignore[attr-defined]
            name = "store" if isinstance(child, StreamStore) else child.name

            def recorder(method, label):  # type: ignore[no-untyped-def]
                def record():  # type: ignore[no-untyped-def]
                    calls.append(label)
                    return method()
                return record

            child.startService = recorder(child.startService, "start " + name)
            child.stopService = recorder(child.stopService, "stop " + name)
        root.startService()
        self.successResultOf(root.stopService())
        self.assertEqual(calls, [
            "start store", "start groups", "start connections",
            "start tcp:9092:interface=127.0.0.1", "start tcp:19094", "stop tcp:19094",
            "stop tcp:9092:interface=127.0.0.1", "stop connections", "stop groups",
            "stop store"])


class LogLevelTests(SynchronousTestCase):
    """C{[main] log_level} filters what the observers see while the broker runs."""

    def test_filter_and_restore(self) -> None:
        """At C{warn}, info events are dropped; stopping restores the observers."""
        publisher = LogPublisher()
        seen: list[str] = []
        publisher.addObserver(lambda event: seen.append(event["log_format"]))
        log = Logger(observer=publisher)
        pairs = tap.filter_log_level(publisher, "warn")
        log.info("dropped")
        log.warn("kept")
        self.assertEqual(seen, ["kept"])
        self.assertEqual(len(pairs), 1)
        for original, filtered in pairs:
            publisher.removeObserver(filtered)
            publisher.addObserver(original)
        log.debug("unfiltered")
        self.assertEqual(seen, ["kept", "unfiltered"])

    def test_client_strings_escaped(self) -> None:
        """The filtered observers see client strings escaped, on one line."""
        publisher = LogPublisher()
        seen: list[object] = []
        publisher.addObserver(lambda event: seen.append(event["group"]))
        log = Logger(observer=publisher)
        tap.filter_log_level(publisher, "info")
        log.info("group {group}", group="g\x00\n")
        self.assertEqual(seen, ["g\\x00\\x0a"])

    def test_broker_service_applies_level(self) -> None:
        """L{tap.BrokerService} filters while running and not after stopping."""
        from twisted_kafka.config import BrokerConfig, MainConfig

        publisher = LogPublisher()
        seen: list[LogLevel] = []
        publisher.addObserver(lambda event: seen.append(event["log_level"]))
        log = Logger(observer=publisher)
        root = tap.BrokerService(BrokerConfig(main=MainConfig(log_level="info")), publisher)
        root.startService()
        log.debug("dropped")
        log.info("kept")
        self.successResultOf(root.stopService())
        log.debug("after")
        self.assertEqual(seen, [LogLevel.info, LogLevel.debug])


class StopOrderTests(SynchronousTestCase):
    """L{tap.BrokerService} stops each child only after the later ones have stopped."""

    def test_waits_for_listeners(self) -> None:
        """The first child (the store) stops only once a slow listener has closed."""
        from twisted.application.service import Service
        from twisted.internet.defer import Deferred

        from twisted_kafka.config import BrokerConfig

        calls: list[str] = []
        closing: Deferred[None] = Deferred()

        class Store(Service):
            def stopService(self) -> None:
                calls.append("store")

        class SlowListener(Service):
            def stopService(self) -> Deferred[None]:
                calls.append("listener")
                return closing

        root = tap.BrokerService(BrokerConfig(), LogPublisher())
        Store().setServiceParent(root)
        SlowListener().setServiceParent(root)
        root.startService()
        stopped = root.stopService()
        self.assertEqual(calls, ["listener"])
        self.assertNoResult(stopped)
        closing.callback(None)
        self.assertEqual(calls, ["listener", "store"])
        self.successResultOf(stopped)
