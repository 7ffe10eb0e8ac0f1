# -*- test-case-name: tests.store.test_partition -*-
"""Benchmark of the stream-queue store's append path against a plain write loop.

Run from the repository root::

    python benchmarks/store_bench.py [--mib 256] [--fsync-mib 32] [--repeat 3] [--dir DIR]

For 16 KiB and 1 MiB record batches, with fsync off and on, it appends the
same batch bytes through L{PartitionLog.append} and, as the baseline, with a
plain C{os.write} loop into one file in the same directory (same disk):

- fsync off: appends only (page cache), MB/s;
- fsync on x1: every batch is made durable before the next one is written
  (the store: C{append} then waiting for C{StreamStore.sync()}, i.e. a real
  fsync round in the store's fsync thread; the baseline: C{os.write} +
  C{os.fdatasync}), MB/s. The hardest case: each round pays two thread
  wake-ups (to the fsync thread and back to the reactor) that the blocking
  baseline does not;
- fsync on x8: eight writers, each appending one batch and waiting for
  C{sync()} before its next (acks=all producers in parallel: group commit
  shares rounds), against the baseline doing one C{fdatasync} per eight
  batches (the same number of fsyncs per byte).

Each figure is the best of C{--repeat} interleaved runs; the ratio
store/plain is what matters on a shared machine (target: at least 0.8).
Benchmarks assert nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from twisted.internet import defer, reactor  # noqa: E402

from twisted_kafka.records.record import build_batch  # noqa: E402
from twisted_kafka.store.config import StoreConfig  # noqa: E402
from twisted_kafka.store.service import StreamStore  # noqa: E402

#: Concurrent writers of the group-commit profile.
WRITERS = 8

KIB = 1024
MIB = 1024 * KIB


def make_batch(size: int) -> bytes:
    """One uncompressed batch of about C{size} bytes (1 KiB records)."""
    count = max(1, size // (KIB + 16))
    value = b"x" * (size // count - 80)
    batch = build_batch([(b"key", value, [], 1_700_000_000_000)] * count)
    return batch


def plain(directory: str, batch: bytes, total: int, fsync: bool, writers: int = 1) -> float:
    """Seconds to write C{total} bytes of C{batch} with os.write (+ one fdatasync per C{writers} batches)."""
    path = os.path.join(directory, "plain.log")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    count = total // len(batch)
    start = time.perf_counter()
    for i in range(1, count + 1):
        os.write(fd, batch)
        if fsync and i % writers == 0:
            os.fdatasync(fd)
    elapsed = time.perf_counter() - start
    os.close(fd)
    os.unlink(path)
    return elapsed


@defer.inlineCallbacks
def store_run(directory: str, batch: bytes, total: int, fsync: bool, writers: int = 1):  # type: ignore[no-untyped-def]
    """Seconds to append C{total} bytes of C{batch} through the store.

    With fsync, C{writers} producers each append one batch and wait for
    C{sync()} before the next, concurrently (group commit shares rounds).
    """
    data_dir = os.path.join(directory, "store")
    store = StreamStore(data_dir, StoreConfig(fsync=fsync), reactor=reactor)
    store.startService()
    log = store.vhost("/").create_topic("bench", 1).partitions[0]
    yield store.sync()
    count = total // len(batch)
    append = log.append

    @defer.inlineCallbacks
    def writer(batches: int):  # type: ignore[no-untyped-def]
        for _ in range(batches):
            append(batch)
            yield store.sync()

    start = time.perf_counter()
    if fsync:
        yield defer.gatherResults([writer(count // writers) for _ in range(writers)])
    else:
        for _ in range(count):
            append(batch)
    elapsed = time.perf_counter() - start
    yield store.stopService()
    shutil.rmtree(data_dir)
    return elapsed


@defer.inlineCallbacks
def main(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    """Run every profile and print the table."""
    directory = tempfile.mkdtemp(prefix="store-bench-", dir=args.dir)
    rows = []
    try:
        for size, label in ((16 * KIB, "16 KiB"), (MIB, "1 MiB")):
            batch = make_batch(size)
            for fsync, writers in ((False, 1), (True, 1), (True, WRITERS)):
                total = (args.fsync_mib if fsync else args.mib) * MIB
                total -= total % (len(batch) * writers)
                best_plain = best_store = float("inf")
                for _ in range(args.repeat):
                    best_plain = min(best_plain, plain(directory, batch, total, fsync, writers))
                    best_store = min(best_store, (yield store_run(directory, batch, total, fsync, writers)))
                written = (total // len(batch)) * len(batch)
                mode = f"on x{writers}" if fsync else "off"
                rows.append((label, mode, written / best_plain / MIB, written / best_store / MIB))
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    print(f"{'batch':>8} {'fsync':>7} {'plain MB/s':>11} {'store MB/s':>11} {'ratio':>6}")
    for label, mode, plain_rate, store_rate in rows:
        print(f"{label:>8} {mode:>7} {plain_rate:11.1f} {store_rate:11.1f} {store_rate / plain_rate:6.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=256, help="MiB written per run with fsync off")
    parser.add_argument("--fsync-mib", type=int, default=32, help="MiB written per run with fsync on")
    parser.add_argument("--repeat", type=int, default=3, help="runs per profile (best is kept)")
    parser.add_argument("--dir", default=None, help="where to write (default: the temp dir)")
    options = parser.parse_args()

    def run() -> None:
        d = main(options)
        d.addErrback(lambda f: f.printTraceback())
        d.addBoth(lambda _: reactor.stop())  # type: ignore[call-overload, misc]

    reactor.callWhenRunning(run)  # type: ignore[attr-defined]
    reactor.run()  # type: ignore[attr-defined, misc]
