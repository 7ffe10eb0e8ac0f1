# -*- test-case-name: tests.e2e.test_harness -*-
"""Runs the real broker (C{twistd -n kafka}) in a subprocess for end-to-end tests.

L{BrokerProcess} writes an INI file into a directory of its own (data dir,
free ports, optional TLS certificates and unix socket, extra settings),
starts twistd on it from this checkout, waits until it accepts connections,
and stops, kills or restarts it.  Everything the broker prints, its log
included, goes to C{broker.log} in that directory: L{BrokerProcess.log_text}
reads it, and a broker that fails to start raises an error quoting it.

L{BrokerTestMixin} gives each trial test its own broker, always stopped.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from typing import Any, Mapping

from twisted_kafka.testing.settings import ini_text
from twisted_kafka.testing.tls import TlsFiles, write_tls_files

#: The checkout's root: put first on the broker's PYTHONPATH, so the broker
#: runs this checkout's code and twistd finds its dropin.
CHECKOUT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

#: twistd as a program for C{python -c}: C{python -m twisted.scripts.twistd}
#: does nothing (the module has no C{__main__} block).
_TWISTD = "import sys; sys.argv[0] = 'twistd'; from twisted.scripts.twistd import run; run()"

#: The kcat executable, or None; tests needing it skip with L{KCAT_MISSING}.
KCAT = shutil.which("kcat")
KCAT_MISSING = "kcat is not installed (apt-get install kcat)"


class BrokerStartError(Exception):
    """The broker did not come up; the message includes its log."""


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


#: An ApiVersions v0 request (correlation id 1, client id "harness"), framed.
_API_VERSIONS_V0 = struct.pack(">ihhih7s", 2 + 2 + 4 + 2 + 7, 18, 0, 1, 7, b"harness")


def _answers_api_versions(port: int) -> bool:
    """Return whether the broker on C{port} answers an ApiVersions request."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.sendall(_API_VERSIONS_V0)
            return len(s.recv(8)) > 0
    except OSError:
        return False


class BrokerProcess:
    """One broker process on its own data directory and ports.

    @ivar directory: holds C{twisted-kafka.ini}, C{data/}, C{broker.log} and
        the TLS files.
    @ivar port: the plain TCP port.
    @ivar tls_port: the TLS port, or C{None}.
    @ivar tls_files: the generated CA, server and client certificates, or
        C{None} without TLS.
    @ivar unix_path: the unix socket path, or C{None}.
    @ivar process: the running C{subprocess.Popen}, or C{None}.
    """

    def __init__(self, directory: str, *, tls: bool = False, client_auth: str = "none",
                 unix: bool = False, main: Mapping[str, Any] | None = None,
                 kafka: Mapping[str, Any] | None = None,
                 store: Mapping[str, Any] | None = None,
                 http: Mapping[str, Any] | None = None,
                 extra_args: tuple[str, ...] = (),
                 open_files: int | None = None) -> None:
        """
        @param directory: a directory for this broker (created if missing).
        @param tls: also listen with TLS, on certificates made for the test.
        @param client_auth: C{[tls] client_auth} (C{none}, C{optional},
            C{required}); the CA is the generated one.
        @param unix: also listen on a unix socket.
        @param main: extra C{[main]} settings.
        @param kafka: extra C{[kafka]} settings (override the generated ones).
        @param store: extra C{[store]} settings.
        @param http: C{[http]} settings (the HTTP listener of metrics and the API).
        @param extra_args: more arguments after C{kafka --config INI}.
        @param open_files: run the broker with this open-file limit
            (C{RLIMIT_NOFILE}, soft and hard), as C{ulimit -n} would; it
            can be changed (L{open_files}) before a restart.
        """
        self.directory = os.path.abspath(directory)
        os.makedirs(self.directory, exist_ok=True)
        self.data_dir = os.path.join(self.directory, "data")
        self.config_path = os.path.join(self.directory, "twisted-kafka.ini")
        self.log_path = os.path.join(self.directory, "broker.log")
        self.port = free_port()
        self.tls_port: int | None = free_port() if tls else None
        self.tls_files: TlsFiles | None = None
        self.unix_path: str | None = None
        self._socket_dir: str | None = None
        self.extra_args = extra_args
        self.open_files = open_files
        self.process: subprocess.Popen[bytes] | None = None
        sections: dict[str, dict[str, Any]] = {
            "main": {"data_dir": self.data_dir, **(main or {})},
            "kafka": {"bind": "127.0.0.1", "port": self.port},
            "tls": {},
            "store": dict(store or {}),
        }
        if http:
            sections["http"] = dict(http)
        if tls:
            self.tls_files = write_tls_files(os.path.join(self.directory, "tls"))
            sections["kafka"]["tls_port"] = self.tls_port
            sections["tls"] = {"cert": self.tls_files.server_cert,
                               "key": self.tls_files.server_key,
                               "client_auth": client_auth}
            if client_auth != "none":
                sections["tls"]["ca"] = self.tls_files.ca_cert
        if unix:
            # A short directory: unix socket paths are limited to ~100 bytes.
            self._socket_dir = tempfile.mkdtemp(prefix="tkafka-")
            self.unix_path = os.path.join(self._socket_dir, "kafka.sock")
            sections["kafka"]["unix_path"] = self.unix_path
        sections["kafka"].update(kafka or {})
        with open(self.config_path, "w", encoding="utf-8") as f:
            f.write(ini_text(sections))

    @property
    def bootstrap(self) -> str:
        """The plain TCP bootstrap address, C{127.0.0.1:port}."""
        return f"127.0.0.1:{self.port}"

    @property
    def tls_bootstrap(self) -> str:
        """The TLS bootstrap address, C{127.0.0.1:tls_port}."""
        if self.tls_port is None:
            raise ValueError("this broker has no TLS listener")
        return f"127.0.0.1:{self.tls_port}"

    def command(self) -> list[str]:
        """Return the broker's command line."""
        program = _TWISTD
        if self.open_files is not None:
            # Set before anything else runs, so the whole broker process
            # lives under it, as under a shell's ulimit -n.
            program = (f"import resource; resource.setrlimit(resource.RLIMIT_NOFILE, "
                       f"({self.open_files}, {self.open_files})); {_TWISTD}")
        return [sys.executable, "-c", program, "-n", "--pidfile=", "kafka",
                "--config", self.config_path, *self.extra_args]

    def launch(self) -> subprocess.Popen[bytes]:
        """Start the process without waiting for it to listen."""
        if self.process is not None and self.process.poll() is None:
            raise RuntimeError("the broker is already running")
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            [CHECKOUT] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
        env["PYTHONUNBUFFERED"] = "1"
        with open(self.log_path, "ab") as log:
            log.write(f"=== {' '.join(self.command()[3:])}\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                self.command(), cwd=self.directory, env=env, stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT)
        return self.process

    def start(self, timeout: float = 20.0) -> None:
        """Start the broker and wait until it answers a Kafka request on its TCP port.

        Accepting a connection is not enough: twistd binds the ports before
        the store opens and before the reactor runs (and handles signals), so
        only an answer shows the broker is serving.

        @raise BrokerStartError: the process exited, or did not listen within
            C{timeout} seconds (it is killed then); the message quotes the log.
        """
        process = self.launch()
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise BrokerStartError(
                    f"broker exited with status {process.returncode} before listening; "
                    f"log:\n{self.log_text()}")
            if _answers_api_versions(self.port):
                return
            if time.monotonic() > deadline:
                self.kill()
                raise BrokerStartError(
                    f"broker did not listen on {self.bootstrap} within {timeout} s; "
                    f"log:\n{self.log_text()}")
            time.sleep(0.05)

    def wait(self, timeout: float = 20.0) -> int:
        """Wait for the process to exit by itself; return its exit status."""
        assert self.process is not None
        return self.process.wait(timeout)

    def stop(self, timeout: float = 20.0) -> int | None:
        """Stop the broker with SIGTERM and wait; SIGKILL if it hangs.

        @return: its exit status (C{-SIGTERM} after a clean shutdown: twistd
            re-raises the signal that stopped it), or C{None} if it was not
            running.
        """
        process = self.process
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                raise BrokerStartError(
                    f"broker ignored SIGTERM for {timeout} s; log:\n{self.log_text()}") from None
        return process.returncode

    def kill(self) -> None:
        """Kill the broker with SIGKILL (no clean shutdown) and reap it."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def restart(self, timeout: float = 20.0) -> None:
        """Stop (if running) and start again on the same data dir and ports."""
        self.stop()
        self.start(timeout)

    def close(self) -> None:
        """Stop the broker (killing it if it will not stop) and remove the socket dir."""
        try:
            self.stop()
        finally:
            self.kill()
            if self._socket_dir is not None:
                shutil.rmtree(self._socket_dir, ignore_errors=True)

    def log_text(self) -> str:
        """Return everything the broker has printed so far, every run of it."""
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""


class BrokerTestMixin:
    """Starts a fresh broker for each test as C{self.broker}; always stops it.

    Set C{broker_options} on the test case class (keyword arguments of
    L{BrokerProcess}) to configure it, e.g. C{{"tls": True}}.  Mix in before
    the trial test case class.
    """

    broker_options: Mapping[str, Any] = {}
    broker: BrokerProcess

    def setUp(self) -> Any:
        """Start this test's broker."""
        result = super().setUp()  # type: ignore[misc]
        self.broker = BrokerProcess(self.mktemp(), **self.broker_options)  # type: ignore[attr-defined]
        self.addCleanup(self.broker.close)  # type: ignore[attr-defined]
        self.broker.start()
        return result
