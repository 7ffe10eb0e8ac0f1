# -*- test-case-name: tests.server.test_connection -*-
"""Per-request cost of the broker's Python path, in-process and without a network.

Feeds pre-encoded request frames to a real L{KafkaConnection} over a
C{StringTransport}, backed by a real store in a temporary directory (fsync
off: the disk is measured by store_bench.py), and prints the CPU time per
request for: single-record Produce (acks=1), a 16 KiB Produce, Fetch of one
16 KiB batch, and Metadata for 10 topics.  Network and client costs are left
out on purpose, so the figure moves only when the broker's own code does;
use it before and after a hot-path change, next to produce_bench.py.

With C{--metrics} every case runs on two connections of the same broker,
one counting request statistics (as with C{[http] listen} set, see
docs/metrics.md) and one not, in alternating rounds, and the table gives
both figures and their ratio; then the time of one scrape of C{/metrics}.

    python benchmarks/request_bench.py [--count N] [--profile] [--metrics]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import struct
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from twisted.internet.task import Clock  # noqa: E402
from twisted.internet.testing import StringTransport  # noqa: E402

from twisted_kafka.broker import Broker  # noqa: E402
from twisted_kafka.config import BrokerConfig  # noqa: E402
from twisted_kafka.protocol import headers, messages  # noqa: E402
from twisted_kafka.records.record import build_batch  # noqa: E402
from twisted_kafka.server.factory import KafkaServerFactory  # noqa: E402
from twisted_kafka.store.config import StoreConfig  # noqa: E402
from twisted_kafka.store.service import StreamStore  # noqa: E402


class _Transport(StringTransport):
    """A StringTransport that forgets what was written (no growing buffer)."""

    def writeSequence(self, data: list[bytes]) -> None:
        """Drop the response bytes."""


def frame(api_key: int, version: int, body: dict) -> bytes:
    """Return a framed request."""
    header = headers.encode_request_header(headers.RequestHeader(api_key, version, 1, "bench"))
    payload = header + messages.request_encoder(api_key, version)(body)
    return struct.pack(">i", len(payload)) + payload


def produce(records: bytes) -> bytes:
    """A Produce v9 acks=1 frame for partition 0 of topic "bench"."""
    return frame(0, 9, {"transactional_id": None, "acks": 1, "timeout_ms": 1000, "topic_data": [
        {"name": "bench", "partition_data": [{"index": 0, "records": records}]}]})


def main(argv: list[str]) -> int:
    """Run every case and print µs per request."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=20000)
    parser.add_argument("--profile", action="store_true", help="cProfile the single-record case")
    parser.add_argument("--metrics", action="store_true",
                        help="compare connections with and without request statistics")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds with --metrics")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as data_dir:
        clock = Clock()
        store = StreamStore(data_dir, StoreConfig(fsync=False), reactor=clock)
        store.startService()
        vhost = store.vhost("/")
        vhost.create_topic("bench", 1)
        for i in range(10):
            vhost.create_topic(f"topic-{i}", 3)
        broker = Broker(BrokerConfig(), store, clock)
        connection = KafkaServerFactory(broker).buildProtocol(None)
        connection.makeConnection(_Transport())
        small = produce(build_batch([(None, b"x" * 100, [], 1)]))
        big = produce(build_batch([(None, b"x" * 100, [], 1)] * 150))
        fetch = frame(1, 12, {"max_wait_ms": 0, "min_bytes": 1, "max_bytes": 1 << 20,
                              "session_id": 0, "session_epoch": -1, "topics": [
                                  {"topic": "bench", "partitions": [
                                      {"partition": 0, "fetch_offset": 0,
                                       "partition_max_bytes": 1 << 20}]}]})
        metadata = frame(3, 12, {"topics": None})
        cases = [("Produce, 1 record of 100 B", small), ("Produce, 150 x 100 B", big),
                 ("Fetch, 1 partition", fetch), ("Metadata, 10 topics", metadata)]
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(args.count):
                connection.dataReceived(small)
            profiler.disable()
            pstats.Stats(profiler).sort_stats("tottime").print_stats(20)
        if args.metrics:
            compare_metrics(broker, connection, cases, args.count, args.rounds)
            store.stopService()
            return 0
        print(f"{'request':32} {'µs/request':>12}")
        for name, data in cases:
            count = args.count if "Metadata" not in name else args.count // 10
            started = time.process_time()
            for _ in range(count):
                connection.dataReceived(data)
            elapsed = time.process_time() - started
            print(f"{name:32} {elapsed / count * 1e6:12.1f}")
        store.stopService()
    return 0


def compare_metrics(broker: Broker, plain: object, cases: list[tuple[str, bytes]], count: int,
                    rounds: int) -> None:
    """Print each case's CPU per request without and with request statistics, and one scrape's."""
    from prometheus_client import generate_latest

    from twisted_kafka.observability.registry import build_registry
    from twisted_kafka.observability.view import BrokerView
    from twisted_kafka.server.request_stats import RequestStats

    factory = KafkaServerFactory(broker)
    broker.request_stats = RequestStats()
    counted = factory.buildProtocol(None)
    counted.makeConnection(_Transport())
    broker.request_stats = None
    print(f"{'request':32} {'off µs':>8} {'on µs':>8} {'on/off':>7}")
    for name, data in cases:
        n = count if "Metadata" not in name else count // 10
        totals = {"off": 0.0, "on": 0.0}
        for _ in range(rounds):
            for label, connection in (("off", plain), ("on", counted)):
                started = time.process_time()
                for _ in range(n // rounds):
                    connection.dataReceived(data)  # type: ignore[attr-defined]
                totals[label] += time.process_time() - started
        per = {k: v / (n // rounds * rounds) * 1e6 for k, v in totals.items()}
        print(f"{name:32} {per['off']:8.2f} {per['on']:8.2f} {per['on'] / per['off']:7.3f}")
    broker.request_stats = counted._stats  # type: ignore[attr-defined]
    registry = build_registry(BrokerView(broker, connections=lambda: [counted]))
    started = time.process_time()
    scrapes = 50
    for _ in range(scrapes):
        size = len(generate_latest(registry))
    per_scrape = (time.process_time() - started) / scrapes * 1e3
    print(f"one scrape of /metrics ({size} bytes): {per_scrape:.2f} ms CPU")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
