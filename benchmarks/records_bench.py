# -*- test-case-name: tests.records.test_batch -*-
"""Benchmark of produce-side record validation (header-only versus full).

Run from the repository root::

    python benchmarks/records_bench.py [--seconds S]

Prints:

    - the default validation (C{record_validation = records}: header, CRC
      and the record walk) per batch, per record and per byte, for batches
      of 1 to 8000 records of 100 bytes and of 10 KB records, next to the
      bare CRC-32C over the same bytes;
    - per codec, on 1000 records of 100 bytes: the default walk, the C{full}
      check and L{iter_records}, in records/s.
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


def same_sized(count: int, value_size: int) -> list:
    """C{count} keyless records of C{value_size}, 5 ms apart at most (a producer's linger)."""
    return [(None, bytes(value_size), [], 1_700_000_000_000 + i % 5) for i in range(count)]


def per_record(seconds: float) -> None:
    """The default validation's cost per record and per byte, against the bare CRC-32C.

    Rows marked C{same} hold same-sized records, walked column-wise
    (records/stride_walk.py); the others, of varying sizes, record by record.
    """
    cases = [(count, size, "vary") for count, size in
             ((1, 100), (10, 100), (160, 100), (8000, 100), (100, 10_000))]
    cases += [(160, 100, "same"), (8000, 100, "same"), (100, 8000, "same")]
    for count, size, shape in cases:
        make = same_sized if shape == "same" else records_of
        data = build_batch(make(count, size))
        view = memoryview(data)
        check = rate(lambda: validate_produce_records(data, full=False, max_decompressed=CAP),
                     seconds)
        bare = rate(lambda: crc32c(view[21:]), seconds)
        cost = 1e6 / check
        print(f"records {shape} {count:5d} x {size:6d} B ({len(data):8d} B): {cost:9.2f} us per batch,"
              f" {cost / count:6.3f} us per record, {cost * 1e3 / len(data):6.3f} ns per byte"
              f" (bare CRC-32C {1e9 / bare / len(data):6.3f} ns per byte)")


def by_codec(seconds: float) -> None:
    """records/s of the default walk, the full check and iter_records, per codec."""
    count = 1000
    records = records_of(count, 100)
    raw_size = len(build_batch(records)) - 61
    for codec, name in CODEC_NAMES.items():
        data = build_batch(records, codec=codec)
        [(_, _, header)] = split_batches(data)
        quick = rate(lambda: validate_produce_records(data, full=False, max_decompressed=CAP),
                     seconds)
        check = rate(lambda: validate_produce_records(data, full=True, max_decompressed=CAP), seconds)
        walk = rate(lambda: sum(1 for _ in iter_records(data, header, CAP)), seconds)
        print(f"{name:>6}: batch {len(data):6d} B for {raw_size} B of records: records "
              f"{quick * count:9.0f} records/s, full {check * count:9.0f} records/s "
              f"({check * raw_size / 1e6:6.1f} MB/s); iter_records {walk * count:8.0f} records/s")


def main() -> None:
    """Run both benchmarks."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="time per measurement")
    args = parser.parse_args()
    per_record(args.seconds)
    by_codec(args.seconds)


if __name__ == "__main__":
    main()
