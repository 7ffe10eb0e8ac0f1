# -*- test-case-name: tests.testing.test_process -*-
"""A pre-imported process that forks fresh test brokers in milliseconds.

Starting Python and importing Twisted and the broker takes about half a
second; forking a process that has already done so takes a few
milliseconds.  L{ForkServer} starts this module as a program
(C{python -m twisted_kafka.testing.forkserver}) once per test process; the
program imports everything a broker needs (no reactor is installed before a
fork) and then, for each request, forks a child that installs a reactor and
runs an L{InProcessBroker} on the configuration a
L{twisted_kafka.testing.process.KafkaBroker} wrote.

The protocol is one JSON object per line: a request on the server's stdin
(C{directory}, C{tls}, C{port}, C{tls_port}, C{remove}), and the child's pid
on its stdout.  Each child reports through files in its broker's directory:

  - C{broker.ready}: JSON C{{"port": ..., "tls_port": ...}} once listening;
  - C{broker.failed}: why it did not start (also in C{broker.log});
  - C{broker.exit}: its exit status, written by the server once reaped.

Cleanup does not depend on the test process ending well: the server runs
in its own session (Ctrl-C in a terminal reaches only the test process),
and when its stdin closes (the test process exited, however it died) it
stops every child still running (SIGTERM, then SIGKILL after 10 s) and
removes the directories it was asked to.  A child whose server dies gets
SIGTERM from the kernel (Linux) and stops too.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
from typing import IO, Any

READY_FILE = "broker.ready"
FAILED_FILE = "broker.failed"
EXIT_FILE = "broker.exit"
LOG_FILE = "broker.log"

#: How long the server waits for its children to stop before killing them.
STOP_GRACE = 10.0


def _write_atomically(path: str, text: str) -> None:
    """Write C{text} to C{path} so that a reader sees all of it or nothing."""
    partial = path + ".partial"
    with open(partial, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(partial, path)


def _set_parent_death_signal() -> None:
    """Ask the kernel to send SIGTERM when the fork server dies (Linux only)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def run_child(request: dict[str, Any], server_pid: int) -> int:
    """Run one broker in this freshly forked process; return its exit status."""
    directory = request["directory"]
    log_fd = os.open(os.path.join(directory, LOG_FILE), os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.close(log_fd)
    null_fd = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null_fd, 0)
    os.close(null_fd)
    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD):
        signal.signal(number, signal.SIG_DFL)
    _set_parent_death_signal()
    if os.getppid() != server_pid:  # the server died before the call above
        return 1

    from twisted.internet import default

    default.install()
    from twisted.internet import reactor
    from twisted.logger import globalLogBeginner, globalLogPublisher, textFileLogObserver

    from twisted_kafka.testing.inprocess import InProcessBroker

    globalLogBeginner.beginLoggingTo(
        [textFileLogObserver(sys.stdout)], redirectStandardIO=False)
    broker = InProcessBroker.from_directory(
        directory, tls=request["tls"], port=request.get("port"),
        tls_port=request.get("tls_port"), reactor=reactor, log_publisher=globalLogPublisher)
    status = [0]

    def listening(_: object) -> None:
        _write_atomically(os.path.join(directory, READY_FILE),
                          json.dumps({"port": broker.port, "tls_port": broker.tls_port}))

    def failed(reason: Any) -> None:
        message = str(reason.value)
        print(message, flush=True)
        _write_atomically(os.path.join(directory, FAILED_FILE), message)
        status[0] = 1
        reactor.stop()

    reactor.callWhenRunning(
        lambda: broker.start().addCallbacks(listening, failed))
    reactor.addSystemEventTrigger(
        "before", "shutdown", broker.stop)
    reactor.run()
    sys.stdout.flush()
    if request.get("remove") and os.getppid() != server_pid:
        shutil.rmtree(directory, ignore_errors=True)  # orphaned: nobody else will
    return status[0]


def _preload() -> None:
    """Import what a broker runs, without installing a reactor."""
    import twisted.internet.default  # noqa: F401
    import twisted.internet.ssl  # noqa: F401
    import twisted_kafka.apis  # noqa: F401
    import twisted_kafka.broker  # noqa: F401
    import twisted_kafka.server.draining  # noqa: F401
    import twisted_kafka.server.factory  # noqa: F401
    import twisted_kafka.store.service  # noqa: F401
    import twisted_kafka.testing.inprocess  # noqa: F401
    from twisted_kafka.protocol import messages

    messages.compile_all()
    assert "twisted.internet.reactor" not in sys.modules, "a reactor was installed before forking"


class _Server:
    """The fork server's loop: fork on requests, reap children, clean up at the end."""

    def __init__(self) -> None:
        self.children: dict[int, dict[str, Any]] = {}

    def serve(self) -> None:
        """Answer requests until stdin closes, then stop every child."""
        buffered = b""
        while True:
            readable, _, _ = select.select([0], [], [], 0.02)
            self.reap()
            if not readable:
                continue
            chunk = os.read(0, 65536)
            if not chunk:
                break
            buffered += chunk
            while b"\n" in buffered:
                line, buffered = buffered.split(b"\n", 1)
                self.fork(json.loads(line))
        self.stop_all()

    def fork(self, request: dict[str, Any]) -> None:
        """Fork a child running the broker C{request} describes; answer its pid."""
        sys.stdout.flush()
        server_pid = os.getpid()
        pid = os.fork()
        if pid == 0:
            status = 1
            try:
                status = run_child(request, server_pid)
            except BaseException:
                import traceback

                traceback.print_exc()
                sys.stderr.flush()
            finally:
                os._exit(status)
        self.children[pid] = request
        os.write(1, json.dumps({"pid": pid}).encode() + b"\n")

    def reap(self) -> None:
        """Collect exited children; write each one's C{broker.exit}."""
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            request = self.children.pop(pid, None)
            if request is not None:
                code = os.waitstatus_to_exitcode(status)
                try:
                    _write_atomically(os.path.join(request["directory"], EXIT_FILE), str(code))
                except OSError:
                    pass  # its directory was removed already

    def stop_all(self) -> None:
        """Stop every child (SIGTERM, then SIGKILL); remove the directories asked for."""
        requests = list(self.children.values())
        for pid in list(self.children):
            _signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE
        while self.children and time.monotonic() < deadline:
            time.sleep(0.02)
            self.reap()
        for pid in list(self.children):
            _signal(pid, signal.SIGKILL)
        while self.children:
            time.sleep(0.01)
            self.reap()
        for request in requests:
            if request.get("remove"):
                shutil.rmtree(request["directory"], ignore_errors=True)


def _signal(pid: int, number: int) -> None:
    try:
        os.kill(pid, number)
    except ProcessLookupError:
        pass


class ForkServer:
    """The test process's handle on its fork server (started on first use).

    Thread-safe: one request at a time.
    """

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    @property
    def process(self) -> subprocess.Popen[bytes] | None:
        """The server process, or C{None} before the first request."""
        return self._process

    def _started(self) -> subprocess.Popen[bytes]:
        if self._process is None or self._process.poll() is not None:
            import twisted_kafka

            root = os.path.dirname(os.path.dirname(os.path.abspath(twisted_kafka.__file__)))
            env = dict(os.environ)
            env["PYTHONPATH"] = os.pathsep.join(
                [root] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
            self._process = subprocess.Popen(
                [sys.executable, "-m", "twisted_kafka.testing.forkserver"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
                start_new_session=True, close_fds=True)
        return self._process

    def spawn(self, request: dict[str, Any]) -> int:
        """Fork a broker for C{request}; return its pid.

        @raise RuntimeError: the server is gone (its exit status is named).
        """
        with self._lock:
            process = self._started()
            stdin: IO[bytes] | None = process.stdin
            stdout: IO[bytes] | None = process.stdout
            assert stdin is not None and stdout is not None
            try:
                stdin.write(json.dumps(request).encode() + b"\n")
                stdin.flush()
                line = stdout.readline()
            except OSError:
                line = b""
            if not line:
                status = process.wait()
                raise RuntimeError(f"the test broker fork server exited with status {status}")
            return int(json.loads(line)["pid"])

    def alive(self) -> bool:
        """Whether the server is running."""
        return self._process is not None and self._process.poll() is None

    def close(self, timeout: float = STOP_GRACE + 5) -> None:
        """Close the server's stdin (it stops its children and exits); wait for it."""
        with self._lock:
            process, self._process = self._process, None
            if process is None:
                return
            assert process.stdin is not None and process.stdout is not None
            try:
                process.stdin.close()
            except OSError:
                pass
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            process.stdout.close()


def main() -> None:
    """Run the fork server on stdin/stdout."""
    _preload()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the test process decides when we stop
    _Server().serve()


if __name__ == "__main__":
    main()
