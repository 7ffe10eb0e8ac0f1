# -*- test-case-name: tests.protocol -*-
"""Time the wire codec: Metadata responses with 100 topics, Produce requests.

Run from the repository root: ``python benchmarks/codec_bench.py``.  Prints
operations per second for each case; not part of the test suite.
"""

from __future__ import annotations

import sys
import timeit
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from twisted_kafka.protocol import headers, messages  # noqa: E402


def metadata_response(topics: int = 100, partitions: int = 3) -> dict:
    """A Metadata response body like a 3-broker cluster's with ``topics`` topics."""
    return {
        "throttle_time_ms": 0,
        "brokers": [{"node_id": i, "host": f"broker-{i}.example", "port": 9092, "rack": None} for i in range(3)],
        "cluster_id": "twisted-kafka-cluster",
        "controller_id": 0,
        "topics": [
            {
                "error_code": 0,
                "name": f"topic-{t:04d}",
                "topic_id": t.to_bytes(16, "big"),
                "is_internal": False,
                "partitions": [
                    {"error_code": 0, "partition_index": p, "leader_id": p % 3, "leader_epoch": 0,
                     "replica_nodes": [0, 1, 2], "isr_nodes": [0, 1, 2], "offline_replicas": []}
                    for p in range(partitions)
                ],
                "topic_authorized_operations": -2147483648,
            }
            for t in range(topics)
        ],
    }


def produce_request(records: bytes) -> dict:
    """A Produce request body with one partition carrying ``records``."""
    return {
        "transactional_id": None, "acks": -1, "timeout_ms": 30000,
        "topic_data": [{"name": "bench", "partition_data": [{"index": 0, "records": records}]}],
    }


def rate(func: Callable[[], object], seconds: float = 0.5) -> float:
    """Operations per second of ``func``, from the best of three runs."""
    number = 1
    while timeit.timeit(func, number=number) < seconds / 10:
        number *= 2
    best = min(timeit.repeat(func, number=number, repeat=3))
    return number / best


def main() -> None:
    """Run every case and print its rate."""
    messages.compile_all()
    cases: list[tuple[str, Callable[[], object]]] = []

    meta = metadata_response()
    for version in (1, 12):
        encode = messages.response_encoder(3, version)
        raw = b"".join(encode(meta))
        decode = messages.response_decoder(3, version)
        cases.append((f"Metadata v{version} response encode, 100 topics ({len(raw)} B)", lambda e=encode: e(meta)))
        cases.append((f"Metadata v{version} response decode, 100 topics", lambda d=decode, r=raw: d(r, 0)))

    for version, size in ((9, 16384), (9, 1 << 20), (3, 16384)):
        request = produce_request(b"r" * size)
        encode_request = messages.request_encoder(0, version)
        header = headers.encode_request_header(headers.RequestHeader(0, version, 1, "bench"))
        frame = header + encode_request(request)
        decode = messages.request_decoder(0, version)

        def decode_frame(frame: bytes = frame, decode: Callable = decode) -> object:
            header, offset = headers.decode_request_header(frame)
            return decode(frame, offset)

        cases.append((f"Produce v{version} request header+body decode, {size} B records", decode_frame))
        cases.append((f"Produce v{version} request encode, {size} B records", lambda e=encode_request, r=request: e(r)))

    produce_response = {"responses": [{"name": "bench", "partition_responses": [{"index": 0, "base_offset": 42}]}]}
    encode = messages.response_encoder(0, 9)
    cases.append(("Produce v9 response encode, 1 partition", lambda: encode(produce_response)))
    metadata_request = messages.request_encoder(3, 12)({"topics": [{"name": "bench"}]})
    decode_metadata = messages.request_decoder(3, 12)
    cases.append(("Metadata v12 request decode, 1 topic", lambda: decode_metadata(metadata_request, 0)))

    for name, func in cases:
        print(f"{name:62s} {rate(func):>12,.0f} ops/s")


if __name__ == "__main__":
    main()
