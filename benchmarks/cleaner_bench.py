# -*- test-case-name: tests.test_docs -*-
"""The log cleaner: throughput, CPU per MB, slice lengths, and produce latency during a clean.

Two parts, each a ratio taken in the same run on the same disk:

- C{throughput}: a compacted partition of C{--mb} MB of overwrites (100-byte
  values, batches of 100 records, keys drawn from C{--keys}) is cleaned by
  the store's own L{LogCleaner} in-process (fsync off, the store's slices on
  a fake clock, timed for real). Figures: MB of dirty log cleaned per second
  and CPU seconds per MB, against a plain read + write of the same bytes
  (the segment files copied 1 MiB at a time), and the longest reactor slice.
  Once uncompressed, once lz4.
- C{latency}: the real broker (fsync on) with a compacted topic of C{--mb}
  MB waiting to be cleaned; produce 100 B at 10,000 msg/s (acks=1) to
  another topic, first with the cleaner idle, then while it cleans. Figures:
  p50/p99/p99.9 delivery latency both ways.

librdkafka's mock broker and the peer brokers (noida-db, Tansu) are not
run: none of them has a log cleaner whose work could be timed against ours
from the outside, so the reference here is the disk's own read + write.

Usage: C{python benchmarks/cleaner_bench.py [--mb 32] [--keys 10000] [throughput] [latency]}
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from twisted.internet.task import Clock  # noqa: E402

from benchmarks.common import CLIENT_BASE, OurBroker, percentile  # noqa: E402
from benchmarks.produce_bench import produce  # noqa: E402
from twisted_kafka.records.batch import CODEC_LZ4, CODEC_NONE  # noqa: E402
from twisted_kafka.records.record import build_batch  # noqa: E402
from twisted_kafka.store.config import StoreConfig  # noqa: E402
from twisted_kafka.store.service import StreamStore  # noqa: E402

VALUE = 100
PER_BATCH = 100


class TimedClock(Clock):
    """A fake reactor clock that runs due calls one at a time, timing each (a slice)."""

    def __init__(self) -> None:
        super().__init__()
        self.advance(time.time())
        self.slices: list[float] = []

    def callFromThread(self, f: Callable[..., Any], *args: Any) -> None:
        """Run C{f} now (there are no threads here)."""
        f(*args)

    def turn(self) -> None:
        """Run the calls due now, timing each."""
        now = self.seconds()
        for call in [c for c in self.calls if c.getTime() <= now]:
            self.calls.remove(call)
            call.called = 1
            started = time.perf_counter()
            call.func(*call.args, **call.kw)
            self.slices.append(time.perf_counter() - started)


def fill(rng: random.Random, append: Callable[[bytes], object], total: int, keys: int, codec: int) -> None:
    """Append batches of keyed overwrites until about C{total} bytes were written."""
    written = 0
    while written < total:
        records = [(b"key-%08d" % rng.randrange(keys), rng.randbytes(VALUE), [], 1_700_000_000_000)
                   for _ in range(PER_BATCH)]
        batch = build_batch(records, codec=codec)
        append(batch)
        written += len(batch)


def plain_copy(paths: list[str], directory: str) -> tuple[float, float]:
    """Read C{paths} and write them to one new file, 1 MiB at a time; return (wall, cpu) seconds."""
    target = os.path.join(directory, "plain-copy")
    wall, cpu = time.perf_counter(), time.process_time()
    out = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        for path in paths:
            fd = os.open(path, os.O_RDONLY)
            try:
                while chunk := os.read(fd, 1 << 20):
                    os.write(out, chunk)
            finally:
                os.close(fd)
    finally:
        os.close(out)
    result = time.perf_counter() - wall, time.process_time() - cpu
    os.unlink(target)
    return result


def throughput(mb: int, keys: int, codec: int) -> None:
    """Clean C{mb} MB in-process and print the figures against a plain copy."""
    with tempfile.TemporaryDirectory(prefix="tkafka-cleaner-") as directory:
        clock = TimedClock()
        store = StreamStore(directory, StoreConfig(fsync=False, segment_bytes=16 << 20), reactor=clock)
        store.startService()
        partition = store.vhost("/").create_topic(
            "compacted", 1, {"cleanup.policy": "compact", "min.cleanable.dirty.ratio": "0.01"}).partitions[0]
        fill(random.Random(1), partition.append, mb << 20, keys, codec)
        partition.roll()
        sealed = partition.segments()[:-1]
        dirty = sum(segment.size for segment in sealed)
        copy_wall, copy_cpu = plain_copy([segment.log_path for segment in sealed], directory)
        clock.slices.clear()
        wall, cpu = time.perf_counter(), time.process_time()
        d = store.run_cleaner()
        while not d.called:
            clock.turn()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        after = sum(segment.size for segment in partition.segments()[:-1])
        store.stopService()
    name = "lz4" if codec == CODEC_LZ4 else "uncompressed"
    megabytes = dirty / 1e6
    print(f"\nthroughput, {name}: {megabytes:.1f} MB dirty ({keys} keys) -> {after / 1e6:.2f} MB")
    print(f"  cleaner     {megabytes / wall:8.1f} MB/s  {cpu / megabytes:.4f} CPU s/MB")
    print(f"  plain copy  {megabytes / copy_wall:8.1f} MB/s  {copy_cpu / megabytes:.4f} CPU s/MB")
    print(f"  ours / plain: {copy_wall / wall:.3f}x throughput;"
          f" slices {len(clock.slices)}, p99 {percentile(clock.slices, 0.99) * 1000:.2f} ms,"
          f" longest {max(clock.slices) * 1000:.2f} ms")


def latency(mb: int, keys: int) -> None:
    """Produce at a fixed rate with the cleaner idle, then while it cleans C{mb} MB; print both."""
    from confluent_kafka import Producer
    from confluent_kafka.admin import AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource, NewTopic

    with OurBroker(store={"cleaner_backoff_ms": 200, "segment_bytes": 16 << 20}) as broker:
        admin = AdminClient({"bootstrap.servers": broker.bootstrap})
        configs = {"cleanup.policy": "compact", "min.cleanable.dirty.ratio": "0.99"}
        admin.create_topics([NewTopic("compacted", 1, 1, config=configs)])["compacted"].result(10)
        producer = Producer({**CLIENT_BASE, "statistics.interval.ms": 0, "bootstrap.servers": broker.bootstrap,
                             "linger.ms": 5, "compression.type": "none"})
        rng = random.Random(2)
        written = 0
        while written < mb << 20:
            try:
                producer.produce("compacted", rng.randbytes(VALUE), key=b"key-%08d" % rng.randrange(keys))
                written += VALUE + 12
            except BufferError:
                producer.poll(0.01)
        producer.flush(120)
        producer.produce("compacted", b"roll", key=b"roll")  # after a roll by size, nothing is dirty in the active segment
        producer.flush(10)
        rate: dict[str, Any] = {"acks": 1, "linger.ms": 0}
        idle = produce(broker.bootstrap, broker.pid, "latency-idle", 30_000, 100, rate, rate=10_000)
        resource = ConfigResource("TOPIC", "compacted", incremental_configs=[
            ConfigEntry("min.cleanable.dirty.ratio", "0.01", incremental_operation=AlterConfigOpType.SET)])
        admin.incremental_alter_configs([resource])[resource].result(10)
        busy = produce(broker.bootstrap, broker.pid, "latency-busy", 30_000, 100, rate, rate=10_000)
        with open(broker.process.log_path, encoding="utf-8", errors="replace") as f:
            cleaned = re.findall(r"Cleaned .* in ([0-9.]+) s", f.read())
    print(f"\nlatency: 100 B at 10k msg/s, acks=1, fsync on; {mb} MB compacted topic; passes {cleaned} s")
    for name, run in (("cleaner idle", idle), ("while cleaning", busy)):
        ms = [x * 1000 for x in run.latencies]
        print(f"  {name:15} p50 {percentile(ms, 0.5):6.2f} ms  p99 {percentile(ms, 0.99):6.2f} ms"
              f"  p99.9 {percentile(ms, 0.999):6.2f} ms  broker CPU {run.broker_cpu:.2f} s")
    print(f"  while cleaning / idle p99: {percentile(busy.latencies, 0.99) / percentile(idle.latencies, 0.99):.2f}x")


def main(argv: list[str] | None = None) -> int:
    """Run the chosen parts (both by default)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=int, default=32, help="megabytes of dirty log (default 32)")
    parser.add_argument("--keys", type=int, default=10_000, help="distinct keys (default 10000)")
    parser.add_argument("parts", nargs="*", choices=["throughput", "latency", []], default=[])
    args = parser.parse_args(argv)
    parts = args.parts or ["throughput", "latency"]
    if "throughput" in parts:
        throughput(args.mb, args.keys, CODEC_NONE)
        throughput(args.mb, args.keys, CODEC_LZ4)
    if "latency" in parts:
        latency(args.mb, args.keys)
    return 0


if __name__ == "__main__":
    sys.exit(main())
