# -*- test-case-name: tests.testing.test_process -*-
"""How long a test suite waits for a broker: the test toolkit's start-up figures.

Each figure runs from asking for a broker to its first answered ApiVersions
request (a real request on a new connection), as a test would see it:

  - first: the first L{KafkaBroker} of a fresh Python process (the fork
    server's own start included), each run in a new process;
  - fresh: each further L{KafkaBroker} of that process (forked by the
    already running fork server), and the time its close takes;
  - in-process: an L{InProcessBroker} started on a running reactor.

Prints the median and the slowest of each.  docs/testing.md quotes them;
issue 17's budget is first < 1 s, fresh < 0.3 s.

    python benchmarks/startup_bench.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import struct
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

#: An ApiVersions v0 request (correlation id 1, client id "bench"), framed.
_API_VERSIONS = struct.pack(">ihhih5s", 2 + 2 + 4 + 2 + 5, 18, 0, 1, 5, b"bench")


def api_versions(port: int) -> None:
    """Send ApiVersions to 127.0.0.1:C{port} and wait for the whole answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(_API_VERSIONS)
        size = struct.unpack(">i", s.recv(4, socket.MSG_WAITALL))[0]
        if len(s.recv(size, socket.MSG_WAITALL)) != size:
            raise ConnectionError("short ApiVersions answer")


def first_broker() -> float:
    """In this (fresh) process: seconds until the first broker answers ApiVersions."""
    started = time.perf_counter()
    from twisted_kafka.testing.process import KafkaBroker

    broker = KafkaBroker().start()
    assert broker.port is not None
    api_versions(broker.port)
    elapsed = time.perf_counter() - started
    broker.close()
    return elapsed


def fresh_brokers(runs: int) -> tuple[list[float], list[float]]:
    """Start C{runs} more brokers one after another; return start and close times."""
    from twisted_kafka.testing.process import KafkaBroker

    KafkaBroker().start().close()  # the fork server is up from here on
    starts, closes = [], []
    for _ in range(runs):
        started = time.perf_counter()
        broker = KafkaBroker().start()
        assert broker.port is not None
        api_versions(broker.port)
        starts.append(time.perf_counter() - started)
        started = time.perf_counter()
        broker.close()
        closes.append(time.perf_counter() - started)
    return starts, closes


def in_process_brokers(runs: int) -> None:
    """Start C{runs} in-process brokers on a running reactor; print their start times.

    (Printed, since C{react} ends the process when the reactor stops.)
    """
    from twisted.internet import reactor
    from twisted.internet.defer import ensureDeferred
    from twisted.internet.task import react
    from twisted.internet.threads import deferToThread

    from twisted_kafka.testing.inprocess import InProcessBroker

    async def run(_: object) -> None:
        for _ in range(runs):
            started = time.perf_counter()
            broker = InProcessBroker(reactor=reactor)
            await broker.start()
            assert broker.port is not None
            await deferToThread(api_versions, broker.port)
            print(time.perf_counter() - started, flush=True)
            await broker.stop()

    react(lambda r: ensureDeferred(run(r)))


def _line(name: str, seconds: list[float]) -> str:
    """Return one figure's line: median and slowest, in milliseconds."""
    return (f"{name:<12} median {statistics.median(seconds) * 1000:7.1f} ms   "
            f"slowest {max(seconds) * 1000:7.1f} ms   ({len(seconds)} runs)")


def main() -> None:
    """Measure and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--mode", choices=["all", "first", "in-process"], default="all",
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mode == "first":
        print(first_broker())
        return
    if args.mode == "in-process":
        in_process_brokers(args.runs)
        return
    firsts = []
    for _ in range(args.runs):
        output = subprocess.run([sys.executable, __file__, "--mode", "first"], check=True,
                                capture_output=True, text=True).stdout
        firsts.append(float(output))
    print(_line("first", firsts))
    starts, closes = fresh_brokers(args.runs)
    print(_line("fresh", starts))
    print(_line("fresh close", closes))
    output = subprocess.run([sys.executable, __file__, "--mode", "in-process",
                             "--runs", str(args.runs)], check=True, capture_output=True,
                            text=True).stdout
    print(_line("in-process", [float(line) for line in output.split()]))


if __name__ == "__main__":
    main()
