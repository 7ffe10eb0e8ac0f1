# -*- test-case-name: tests.records.test_batch -*-
"""Benchmark of produce-side record validation (header-only versus full).

Run from the repository root::

    python benchmarks/records_bench.py [--seconds S]

Prints:

    - C{validate_produce_records(full=False)} on a 16 KiB and a 1 MiB batch,
      in MB/s, next to the raw CRC-32C rate over the same bytes (the header
      check should cost little more than the CRC);
    - C{validate_produce_records(full=True)} on a batch of 1000 records of
      100-byte values for each codec, in records/s (and MB/s of records);
    - L{iter_records} on the same batches, in records/s;
    - the time per 1 MiB batch of each mode, side by side.

These figures pick the default of C{[kafka] record_validation}.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable

from crc32c import crc32c

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from twisted_kafka.records.batch import split_batches, validate_produce_records  # noqa: E402
from twisted_kafka.records.compression import CODEC_NAMES  # noqa: E402
from twisted_kafka.records.record import build_batch, iter_records  # noqa: E402

CAP = 64 << 20


def rate(call: Callable[[], object], seconds: float) -> float:
    """Calls of C{call} per second, over about C{seconds}."""
    call()
    count = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        call()
        count += 1
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - start)


def records_of(count: int, value_size: int) -> list:
    """C{count} records with a 10-byte key, a C{value_size} value, one header."""
    body = (b"0123456789abcdefghij" * (value_size // 20 + 1))[:value_size]
    return [(b"key-%06d" % (i,), body, [("trace", b"%d" % (i,))], 1_700_000_000_000 + i)
            for i in range(count)]


def header_only(seconds: float) -> None:
    """MB/s of the header check against the bare CRC-32C."""
    for label, count in (("16 KiB", 16 * 1024 // 130), ("1 MiB", 1024 * 1024 // 130)):
        data = build_batch(records_of(count, 100))
        view = memoryview(data)
        mb = len(data) / 1e6
        check = rate(lambda: validate_produce_records(data, full=False, max_decompressed=CAP), seconds)
        bare = rate(lambda: crc32c(view[21:]), seconds)
        print(f"header-only  {label:>6} batch ({len(data)} B): {check * mb:9.0f} MB/s"
              f"  ({check:9.0f} batches/s; bare CRC-32C {bare * mb:8.0f} MB/s)")


def full(seconds: float) -> None:
    """records/s of the full check and of iter_records, per codec."""
    count = 1000
    records = records_of(count, 100)
    raw_size = len(build_batch(records)) - 61
    for codec, name in CODEC_NAMES.items():
        data = build_batch(records, codec=codec)
        [(_, _, header)] = split_batches(data)
        check = rate(lambda: validate_produce_records(data, full=True, max_decompressed=CAP), seconds)
        walk = rate(lambda: sum(1 for _ in iter_records(data, header, CAP)), seconds)
        print(f"full {name:>6}: batch {len(data):6d} B for {raw_size} B of records: "
              f"{check * count:9.0f} records/s ({check * raw_size / 1e6:6.1f} MB/s); "
              f"iter_records {walk * count:8.0f} records/s")


def one_mib(seconds: float) -> None:
    """Time per 1 MiB batch (~8000 records of 100 bytes), header-only against full."""
    records = records_of(1024 * 1024 // 130, 100)
    for codec, name in ((0, "none"), (4, "zstd")):
        data = build_batch(records, codec=codec)
        quick = rate(lambda: validate_produce_records(data, full=False, max_decompressed=CAP), seconds)
        slow = rate(lambda: validate_produce_records(data, full=True, max_decompressed=CAP), seconds)
        print(f"1 MiB of records, {name:>4} ({len(data)} B): header-only {1e6 / quick:7.1f} us,"
              f" full {1e3 / slow:6.1f} ms per batch ({quick / slow:.0f}x)")


def main() -> None:
    """Run both benchmarks."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="time per measurement")
    args = parser.parse_args()
    header_only(args.seconds)
    full(args.seconds)
    one_mib(args.seconds)


if __name__ == "__main__":
    main()
