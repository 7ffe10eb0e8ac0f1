# -*- test-case-name: tests.e2e.test_observability -*-
"""What metrics collection costs the broker: produce and consume with the HTTP listener off and on.

Runs the same workload against fresh brokers with C{[http] listen} unset
(connections count nothing) and set, with C{/metrics} scraped every
C{--scrape-interval} seconds (1 s: fifteen times Prometheus's default)
while it runs, in alternating rounds, and prints the broker's CPU per
message for the produce and the consume phase and the ratio on/off:

- produce: confluent-kafka, C{--count} x 100 B, linger.ms 5, acks=1, one partition;
- consume: a confluent-kafka consumer reads them all back from partition 0
  (assigned, committing automatically in its group).

    python benchmarks/metrics_bench.py [--count N] [--rounds R] [--scrape-interval S]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402

from common import CpuClock  # noqa: E402
from tests.e2e.harness import BrokerProcess, free_port  # noqa: E402


def scraper(port: int, interval: float, stop: threading.Event) -> threading.Thread:
    """A thread fetching /metrics every C{interval} seconds until C{stop} is set."""

    def run() -> None:
        while not stop.wait(interval):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
                response.read()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


#: CPU milliseconds of one scrape, measured on each broker with metrics on before its workload.
SCRAPE_MS: list[float] = []
#: Wall seconds of each consume phase.
CONSUME_SECONDS: list[float] = []


def scrape_cost(pid: int, port: int, scrapes: int = 20) -> float:
    """Broker CPU milliseconds per scrape of /metrics, back to back."""
    clock = CpuClock(pid)
    for _ in range(scrapes):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
            response.read()
    return clock.elapsed() / scrapes * 1e3


def one_run(metrics: bool, count: int, interval: float) -> tuple[float, float]:
    """Broker CPU µs per message of the produce and the consume phase, on a fresh broker."""
    directory = tempfile.mkdtemp(prefix="tkafka-metrics-bench-")
    http_port = free_port()
    broker = BrokerProcess(os.path.join(directory, "broker"),
                           http={"listen": f"tcp:{http_port}:interface=127.0.0.1"} if metrics else None)
    stop = threading.Event()
    try:
        broker.start()
        assert broker.process is not None
        pid = broker.process.pid
        if metrics:
            SCRAPE_MS.append(scrape_cost(pid, http_port))
            scraper(http_port, interval, stop)
        producer = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 5, "acks": 1})
        producer.produce("bench", b"warm-up")
        producer.flush(30)
        value = b"x" * 100
        clock = CpuClock(pid)
        for _ in range(count):
            while True:
                try:
                    producer.produce("bench", value)
                    break
                except BufferError:
                    producer.poll(0.01)
        producer.flush(60)
        produce_cpu = clock.elapsed()
        consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "bench",
                             "auto.offset.reset": "earliest", "enable.auto.commit": True})
        consumer.assign([TopicPartition("bench", 0, 0)])
        clock = CpuClock(pid)
        started = time.monotonic()
        read = 0
        deadline = time.monotonic() + 120
        while read < count + 1 and time.monotonic() < deadline:
            read += len(consumer.consume(10000, timeout=0.5))
        consume_cpu = clock.elapsed()
        CONSUME_SECONDS.append(time.monotonic() - started)
        consumer.close()
        return produce_cpu / count * 1e6, consume_cpu / count * 1e6
    finally:
        stop.set()
        broker.close()
        shutil.rmtree(directory, ignore_errors=True)


def main(argv: list[str]) -> int:
    """Alternate runs with metrics off and on; print µs per message and the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=1000000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--scrape-interval", type=float, default=1.0)
    args = parser.parse_args(argv)
    results: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
    for _ in range(args.rounds):
        for metrics in (False, True):
            results[metrics].append(one_run(metrics, args.count, args.scrape_interval))
            print(f"  metrics {'on ' if metrics else 'off'}: produce {results[metrics][-1][0]:.2f} µs/msg, "
                  f"consume {results[metrics][-1][1]:.2f} µs/msg", flush=True)
    print(f"{'phase':10} {'off µs/msg':>11} {'on µs/msg':>10} {'on/off':>7}   (min and median of {args.rounds};"
          " the minimum is the least disturbed by other processes)")
    for i, phase in enumerate(("produce", "consume")):
        off = sorted(r[i] for r in results[False])
        on = sorted(r[i] for r in results[True])
        for label, pick in (("min", 0), ("median", len(off) // 2)):
            print(f"{phase + ' ' + label:16} {off[pick]:11.3f} {on[pick]:10.3f} {on[pick] / off[pick]:7.3f}")
    scrape = sorted(SCRAPE_MS)[len(SCRAPE_MS) // 2]
    wall = sorted(CONSUME_SECONDS)[len(CONSUME_SECONDS) // 2]
    print(f"one scrape of /metrics: {scrape:.2f} ms of broker CPU (median); a consume phase lasts "
          f"{wall:.1f} s (median), so scrapes every {args.scrape_interval:g} s cost about "
          f"{scrape * wall / args.scrape_interval / args.count * 1e3:.4f} µs/msg of it")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
