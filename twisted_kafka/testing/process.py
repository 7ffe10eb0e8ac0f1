# -*- test-case-name: tests.testing.test_process -*-
"""A test broker in a process of its own, for any test suite (pytest, unittest).

L{KafkaBroker} writes the broker's configuration into a temporary directory,
has the fork server (L{twisted_kafka.testing.forkserver}) fork a process
serving it, and waits until it listens::

    with KafkaBroker(partitions=3) as broker:
        producer = Producer({"bootstrap.servers": broker.bootstrap})
        ...

A broker that cannot start raises L{BrokerStartError} at once with the tail
of its log.  Every broker is stopped, and its directory removed, by
L{KafkaBroker.close}, by the C{with} block, at interpreter exit (Ctrl-C
included), and by the fork server if this process dies without any of them.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import signal
import tempfile
import threading
import time
from typing import Any

from twisted_kafka.testing import forkserver
from twisted_kafka.testing.settings import (
    BrokerAddresses, BrokerSettings, BrokerStartError, settings_from, write_config)

#: How many of the log's last lines a start error quotes.
LOG_TAIL_LINES = 30

_server = forkserver.ForkServer()
_live: set[KafkaBroker] = set()
_live_lock = threading.Lock()


class KafkaBroker(BrokerAddresses):
    """One broker process on a temporary directory, ports chosen by the kernel.

    @ivar settings: its L{BrokerSettings}.
    @ivar directory: holds C{twisted-kafka.ini}, C{data/}, C{broker.log} and
        C{tls/}; removed by L{close}.
    @ivar port: the plain TCP port, once started (kept across restarts).
    @ivar tls_port: the TLS port, or C{None}.
    @ivar tls_files: the generated certificates (CA, server, clients), or C{None}.
    @ivar pid: the running process's id, or C{None}.
    """

    def __init__(self, settings: BrokerSettings | None = None, *,
                 directory: str | None = None, **options: Any) -> None:
        """
        @param settings: how the broker is configured; or give its fields
            as keyword C{options} (C{tls=True}, C{partitions=3},
            C{kafka={"auto_create_topics": False}}, C{store={...}}).
        @param directory: where its files go (kept by L{close}); by default
            a new temporary directory that L{close} removes.
        """
        self.settings = settings_from(settings, **options)
        self._own_directory = directory is None
        self.directory = os.path.abspath(
            tempfile.mkdtemp(prefix="twisted-kafka-") if directory is None else directory)
        self.log_path = os.path.join(self.directory, forkserver.LOG_FILE)
        self.port: int | None = None
        self.tls_port: int | None = None
        self.pid: int | None = None
        self._exit_status: int | None = None
        with _live_lock:
            _live.add(self)
        try:
            self.config_path, self.tls_files = write_config(self.directory, self.settings)
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> KafkaBroker:
        """Start the broker (if not running); C{with} closes it."""
        if self.pid is None:
            try:
                self.start()
            except BaseException:
                self.close()
                raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _file(self, name: str) -> str:
        return os.path.join(self.directory, name)

    def start(self, timeout: float = 20.0) -> KafkaBroker:
        """Start the broker; return once it listens (with the store open).

        A restart uses the same data directory and ports.

        @raise BrokerStartError: it exited, or did not listen within
            C{timeout} seconds (it is killed then); the message quotes the
            tail of its log.
        """
        if self.pid is not None:
            raise RuntimeError("the broker is already running")
        for name in (forkserver.READY_FILE, forkserver.FAILED_FILE, forkserver.EXIT_FILE):
            if os.path.exists(self._file(name)):
                os.remove(self._file(name))
        self._exit_status = None
        try:
            self.pid = _server.spawn({
                "directory": self.directory, "tls": self.settings.tls, "port": self.port,
                "tls_port": self.tls_port, "remove": self._own_directory})
        except RuntimeError as e:
            raise BrokerStartError(str(e)) from None
        deadline = time.monotonic() + timeout
        pause = 0.001
        while True:
            ready = self._read(forkserver.READY_FILE)
            if ready is not None:
                ports = json.loads(ready)
                self.port, self.tls_port = ports["port"], ports["tls_port"]
                return self
            if self._exited() or self._read(forkserver.FAILED_FILE) is not None:
                status = self.wait(timeout=5)
                raise BrokerStartError(
                    f"the test broker in {self.directory} exited with status {status} "
                    f"before listening; {self.log_tail()}")
            if time.monotonic() > deadline:
                self.kill()
                raise BrokerStartError(
                    f"the test broker in {self.directory} did not listen within {timeout} s; "
                    f"{self.log_tail()}")
            time.sleep(pause)
            pause = min(pause * 2, 0.02)

    def _read(self, name: str) -> str | None:
        try:
            with open(self._file(name), encoding="utf-8") as f:
                return f.read()
        except FileNotFoundError:
            return None

    def _exited(self) -> bool:
        """Whether the process has exited (its status is then known)."""
        if self._exit_status is None and self.pid is not None:
            status = self._read(forkserver.EXIT_FILE)
            if status is not None:
                self._exit_status = int(status)
            elif not _server.alive():
                self._exit_status = -signal.SIGKILL  # went with the server
        return self._exit_status is not None

    def wait(self, timeout: float = 20.0) -> int:
        """Wait for the process to exit; return its status (C{-N}: killed by signal N).

        @raise TimeoutError: it is still running after C{timeout} seconds.
        """
        deadline = time.monotonic() + timeout
        while not self._exited():
            if time.monotonic() > deadline:
                raise TimeoutError(f"the test broker (pid {self.pid}) is still running")
            time.sleep(0.005)
        self.pid = None
        assert self._exit_status is not None
        return self._exit_status

    def _signal(self, number: int) -> None:
        if self.pid is not None and not self._exited():
            try:
                os.kill(self.pid, number)
            except ProcessLookupError:
                pass

    def stop(self, timeout: float = 20.0) -> int | None:
        """Stop the broker cleanly (SIGTERM) and wait; SIGKILL if it hangs.

        @return: its exit status, or C{None} if it was not running.
        @raise TimeoutError: it did not stop within C{timeout} seconds (it
            is killed then); the message quotes the tail of its log.
        """
        if self.pid is None:
            return None
        self._signal(signal.SIGTERM)
        try:
            return self.wait(timeout)
        except TimeoutError:
            self.kill()
            raise TimeoutError(
                f"the test broker did not stop within {timeout} s of SIGTERM; "
                f"{self.log_tail()}") from None

    def kill(self) -> None:
        """Kill the broker with SIGKILL (no clean shutdown) and wait for it."""
        if self.pid is not None:
            self._signal(signal.SIGKILL)
            self.wait()

    def restart(self, timeout: float = 20.0) -> KafkaBroker:
        """Stop the broker (if running) and start it again on the same data and ports."""
        self.stop()
        return self.start(timeout)

    def close(self) -> None:
        """Stop the broker (killing it if it will not stop); remove its own directory."""
        try:
            self.stop()
        finally:
            self.kill()
            if self._own_directory:
                shutil.rmtree(self.directory, ignore_errors=True)
            with _live_lock:
                _live.discard(self)

    def log_text(self) -> str:
        """Return everything the broker has logged, every run of it."""
        return self._read(forkserver.LOG_FILE) or ""

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        """Return C{"last lines of broker.log:"} and the log's last C{lines} lines."""
        tail = self.log_text().splitlines()[-lines:]
        if not tail:
            return f"{self.log_path} is empty"
        return f"last lines of {self.log_path}:\n" + "\n".join(tail)


def close_all() -> None:
    """Close every broker still open, then the fork server (run at exit)."""
    with _live_lock:
        brokers = list(_live)
    for broker in brokers:
        try:
            broker.close()
        except Exception:
            pass
    _server.close()


atexit.register(close_all)
