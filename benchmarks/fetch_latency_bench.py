# -*- test-case-name: tests.e2e.test_harness -*-
"""Fetch latency benchmark: how long each ~1 MB Fetch response takes to arrive.

Run from the repository root::

    python benchmarks/fetch_latency_bench.py [--messages N] [--rounds R]

Fills one partition with N x 10,000 B values (confluent-kafka, client
defaults), then reads it R times from offset 0 with one plain socket: one
Fetch at a time, C{partition_max_bytes} 1 MiB, timing each from the request
sent to the last byte of its response.  Prints p50 / p99 / max and how many
responses took over 20 ms, for a client socket with delayed ACKs (the
kernel's default) and for one with C{TCP_QUICKACK} set before each read.

Why: a response larger than one TCP segment ends with a short segment;
with Nagle's algorithm on the broker's socket that segment waits until the
client ACKs the previous one, and a client delaying its ACKs holds it up to
40 ms.  If slow responses appear only with delayed ACKs, Nagle is the cause;
the broker sets C{TCP_NODELAY} (as Kafka does) so that neither matters.
"""

from __future__ import annotations

import argparse
import socket
import struct
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import BenchmarkError, OurBroker, fill_partition, machine_note, percentile  # noqa: E402
from tests.e2e.clients import FETCH, RawClient, fetch_request  # noqa: E402

SIZE = 10_000
SLOW = 0.020


def read_once(client: RawClient, topic: str, end: int, quickack: bool) -> list[float]:
    """Fetch C{topic}-0 from 0 to C{end}, one request at a time; the seconds each took."""
    times: list[float] = []
    offset = 0
    while offset < end:
        if quickack:
            client.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        started = time.perf_counter()
        response = client.request(FETCH, 11, fetch_request(topic, 0, offset, max_bytes=1 << 20))
        times.append(time.perf_counter() - started)
        records = response["responses"][0]["partitions"][0]["records"] or b""
        if not records:
            raise BenchmarkError(f"no records at offset {offset} of {end}")
        pos = 0
        while pos + 61 <= len(records):
            base, length = struct.unpack_from(">qi", records, pos)
            if pos + 12 + length > len(records):
                break
            (count,) = struct.unpack_from(">i", records, pos + 57)
            offset = base + count
            pos += 12 + length
    return times


def main(argv: list[str] | None = None) -> int:
    """Fill, read back, print the latency figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args(argv)
    print(f"fetch latency, ~1 MiB responses of {SIZE:,} B records ({machine_note()})")
    try:
        with OurBroker() as broker:
            topic = "bench-fetch-latency"
            fill_partition(broker.bootstrap, topic, options.messages, SIZE)
            for quickack in (False, True):
                times: list[float] = []
                for _ in range(options.rounds):
                    with RawClient(broker.bootstrap) as client:
                        times += read_once(client, topic, options.messages, quickack)
                slow = sum(1 for t in times if t > SLOW)
                print(f"client {'TCP_QUICKACK' if quickack else 'delayed ACKs'}: "
                      f"{len(times)} responses, p50 {percentile(times, 0.5) * 1e3:.2f} ms, "
                      f"p99 {percentile(times, 0.99) * 1e3:.2f} ms, "
                      f"max {max(times) * 1e3:.2f} ms, {slow} over {SLOW * 1e3:.0f} ms")
    except BenchmarkError as e:
        print(f"fetch latency benchmark failed: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    if not hasattr(socket, "TCP_QUICKACK"):
        print("TCP_QUICKACK is Linux only", file=sys.stderr)
        sys.exit(2)
    sys.exit(main())
