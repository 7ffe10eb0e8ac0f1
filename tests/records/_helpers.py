# -*- test-case-name: tests.records.test_batch -*-
"""Helpers for the records tests: forging batches field by field.

Malformed-input tests need batches that are wrong in exactly one way and
right in every other, above all with a correct CRC-32C, so that the check
under test is the one that fires.
"""

from __future__ import annotations

import random
import struct

from twisted_kafka.errors import ErrorCode, KafkaError
from twisted_kafka.records.batch import (
    CRC_OFFSET,
    HEADER_SIZE,
    LOG_OVERHEAD,
    RECORD_COUNT_OFFSET,
    compute_crc,
)
from twisted_kafka.records.record import build_batch
from twisted_kafka.records.record_format import write_varint

SAMPLE_RECORDS = [
    (b"key-%d" % (i,), b"value-%d " % (i,) * 20, [("trace", b"%d" % (i,)), ("empty", None)],
     1_700_000_000_000 + i * 7)
    for i in range(5)
]


def sample_batch(codec: int = 0, **kwargs: object) -> bytes:
    """A valid five-record batch written with C{codec}."""
    return build_batch(SAMPLE_RECORDS, codec=codec, **kwargs)  # type: ignore[arg-type]


def fix_crc(batch: bytearray, pos: int = 0) -> bytearray:
    """Recompute the CRC-32C of the batch at C{pos} in place; return C{batch}."""
    struct.pack_into(">I", batch, pos + CRC_OFFSET, compute_crc(batch, pos))
    return batch


def patched(batch: bytes, offset: int, fmt: str, value: int, *, crc: bool = True) -> bytes:
    """C{batch} with the field at C{offset} set to C{value}, CRC fixed unless told."""
    out = bytearray(batch)
    struct.pack_into(">" + fmt, out, offset, value)
    if crc:
        fix_crc(out)
    return bytes(out)


def with_payload(batch: bytes, payload: bytes, record_count: int | None = None) -> bytes:
    """C{batch}'s header over a new records section, lengths and CRC fixed.

    @param record_count: if given, also sets recordCount and lastOffsetDelta.
    """
    out = bytearray(batch[:HEADER_SIZE]) + payload
    struct.pack_into(">i", out, 8, len(out) - LOG_OVERHEAD)
    if record_count is not None:
        struct.pack_into(">i", out, 23, record_count - 1)
        struct.pack_into(">i", out, RECORD_COUNT_OFFSET, record_count)
    return bytes(fix_crc(out))


def raw_record(*fields: int | bytes) -> bytes:
    """A length-prefixed record body from varints (ints) and raw bytes."""
    body = bytearray()
    for field in fields:
        if isinstance(field, int):
            write_varint(field, body)
        else:
            body += field
    out = bytearray()
    write_varint(len(body), out)
    return bytes(out + body)


def error_code(call: object, *args: object, **kwargs: object) -> ErrorCode:
    """The code of the L{KafkaError} that C{call(*args, **kwargs)} raises.

    @raise AssertionError: if it raises nothing or something else.
    """
    try:
        call(*args, **kwargs)  # type: ignore[operator]
    except KafkaError as e:
        return e.code
    raise AssertionError(f"{call!r} raised no KafkaError")


def mutate(rng: random.Random, data: bytes) -> bytes:
    """C{data} with one byte flipped, dropped or inserted at a place C{rng} picks."""
    out = bytearray(data)
    at = rng.randrange(len(out))
    action = rng.randrange(3)
    if action == 0:
        out[at] ^= 1 << rng.randrange(8)
    elif action == 1:
        del out[at]
    else:
        out.insert(at, rng.randrange(256))
    return bytes(out)
