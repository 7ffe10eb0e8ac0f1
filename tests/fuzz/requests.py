# -*- test-case-name: tests.fuzz.test_requests -*-
"""Plausible requests of any API and version, and mutations of them.

L{plausible} walks a request schema and fills each field with a value a real
client might send, chosen by the field's type and name (topic names from a
small pool, so requests reach the responders instead of failing at the first
lookup; timeouts short, so nothing waits long; record batches that are
valid).  L{mutate_values} then replaces a few values with boundary ones, and
L{mutate_bytes} damages the encoded body: bit flips, truncation, junk
appended or inserted, a length field set to a boundary.  Everything is drawn
from the C{random.Random} passed in, so a case is reproduced from its seed.
"""

from __future__ import annotations

import random
import struct
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from twisted_kafka.protocol import messages
from twisted_kafka.protocol.schema import (
    BOOL, BYTES, FLOAT64, INT8, INT16, INT32, INT64, RECORDS, STRING, UINT16, UINT32, UUID,
    Array, Field, Struct)
from twisted_kafka.records.batch import compute_crc
from twisted_kafka.records.record import RecordFields, build_batch

#: Values at the edges of each integer type, and the ones code treats specially.
BOUNDARIES: dict[str, tuple[int, ...]] = {
    INT8: (-128, -1, 0, 1, 127),
    INT16: (-32768, -1, 0, 1, 32767),
    UINT16: (0, 1, 65535),
    INT32: (-(2**31), -1, 0, 1, 2**31 - 1, 2**30),
    UINT32: (0, 1, 2**32 - 1),
    INT64: (-(2**63), -3, -2, -1, 0, 1, 2**63 - 1, 2**62),
}


@dataclass(frozen=True)
class Names:
    """The names a fuzzed request may use.

    @ivar topics: existing or creatable topics the fuzzer may touch (never
        the canary's).
    @ivar groups: consumer group ids.
    @ivar doomed: the topics that requests deleting topics or records name
        instead of C{topics}, so that what was written to C{topics} stays
        to be checked.
    """

    topics: tuple[str, ...]
    groups: tuple[str, ...]
    doomed: tuple[str, ...] = ()

    def for_api(self, api_key: int) -> "Names":
        """Return the names requests of C{api_key} may use."""
        if api_key in DESTRUCTIVE and self.doomed:
            return Names(self.doomed, self.groups)
        return self


#: DeleteTopics and DeleteRecords: they would erase what the checks read.
DESTRUCTIVE = frozenset({20, 21})


def _string(rng: random.Random, name: str, names: Names) -> str | None:
    """A plausible value for a string field called C{name}."""
    if name == "transactional_id":
        return rng.choice((None, None, None, "tx-1"))
    if "topic" in name or name in ("name", "resource_name"):
        return rng.choice(names.topics + ("", "x" * rng.choice((1, 249, 250, 300))))
    if "group" in name:
        return rng.choice(names.groups)
    if name == "protocol_type":
        return "consumer"
    if name in ("member_id", "group_instance_id"):
        return rng.choice(("", "member-1"))
    return rng.choice(("", "fuzz", "range", "a.b", "\u00e9t\u00e9", "k" * 40))


def _int(rng: random.Random, ftype: str, name: str) -> int:
    """A plausible value for an integer field called C{name}."""
    if "timeout" in name or "max_wait" in name:
        return rng.choice((0, 10, 100))
    if name in ("partition", "partition_index", "index") or name.endswith("_partition"):
        return rng.choice((0, 1, 2, -1))
    if "partitions" in name or name == "count":
        return rng.choice((1, 2, 3, -1))
    if "replication" in name:
        return rng.choice((-1, 1))
    if "bytes" in name:
        return rng.choice((0, 1, 1 << 10, 1 << 20))
    if ftype == INT64 and "timestamp" in name:
        return rng.choice((-1, -2, -3, int(time.time() * 1000)))
    if ftype == INT64 and "offset" in name:
        return rng.choice((-1, 0, 1, 5, 1000))
    if name == "acks":
        return rng.choice((-1, 0, 1))
    if "epoch" in name or name.endswith("_id") and ftype in (INT32, INT64):
        return rng.choice((-1, 0, 1))
    low, high = {INT8: (0, 5), INT16: (0, 5), UINT16: (0, 5), INT32: (0, 100),
                 UINT32: (0, 100), INT64: (0, 100)}[ftype]
    return rng.randint(low, high)


def _batch(rng: random.Random) -> bytes:
    """A valid record batch of a few records, sometimes compressed."""
    now = int(time.time() * 1000)
    count = rng.choice((1, 2, 5))
    records: list[RecordFields] = [(f"k{i}".encode(), rng.randbytes(rng.choice((0, 10, 100))), [], now + i)
               for i in range(count)]
    return build_batch(records, codec=rng.choice((0, 0, 1, 3)))


def _damaged_batch(rng: random.Random) -> bytes:
    """A batch with a sound header and CRC whose records lie about themselves.

    The header's record count or last offset delta is changed, or the records
    section replaced by junk (for a compressed batch: a gzip magic and
    garbage), and the length and CRC are fixed so that only a walk of the
    records can tell.
    """
    batch = bytearray(_batch(rng))
    how = rng.randrange(4)
    if how == 0:
        struct.pack_into(">i", batch, 57, rng.choice((0, 2, 3, 2**31 - 1, -1)))
    elif how == 1:
        struct.pack_into(">i", batch, 23, rng.choice((0, 5, 2**31 - 1, -1)))
    elif how == 2:
        del batch[61:]
        batch += rng.randbytes(rng.randint(1, 80))
    else:
        struct.pack_into(">h", batch, 21, 1)  # gzip
        del batch[61:]
        batch += b"\x1f\x8b\x08\x00" + rng.randbytes(rng.randint(0, 40))
    struct.pack_into(">i", batch, 8, len(batch) - 12)
    struct.pack_into(">I", batch, 17, compute_crc(batch))
    return bytes(batch)


def _primitive(rng: random.Random, ftype: str, name: str, names: Names) -> Any:
    """A plausible value of a primitive type for a field called C{name}."""
    if ftype == STRING:
        return _string(rng, name, names)
    if ftype == BOOL:
        return rng.random() < 0.5
    if ftype == FLOAT64:
        return rng.choice((0.0, 1.5))
    if ftype == UUID:
        return rng.choice((bytes(16), rng.randbytes(16)))
    if ftype == BYTES:
        return rng.choice((b"", rng.randbytes(rng.randint(1, 40))))
    if ftype == RECORDS:
        return _damaged_batch(rng) if rng.random() < 0.2 else _batch(rng)
    return _int(rng, ftype, name)


def _value(rng: random.Random, field: Field, version: int, names: Names, depth: int) -> Any:
    """A plausible value for C{field} in C{version}."""
    if version in field.nullable and rng.random() < 0.1:
        return None
    if isinstance(field, Array):
        count = rng.choice((0, 1, 1, 2, 3)) if depth < 4 else 0
        if field.fields is not None:
            return [_fields(rng, field.fields, version, names, depth + 1) for _ in range(count)]
        assert field.of is not None
        return [_primitive(rng, field.of, field.name, names) for _ in range(count)]
    if isinstance(field, Struct):
        return _fields(rng, field.fields, version, names, depth + 1)
    return _primitive(rng, field.type, field.name, names)


def _fields(rng: random.Random, fields: Sequence[Field], version: int, names: Names,
            depth: int) -> dict:
    """A dict with a plausible value for every field of C{fields} in C{version}."""
    return {f.name: _value(rng, f, version, names, depth)
            for f in fields if version in f.versions}


def plausible(rng: random.Random, api_key: int, version: int, names: Names) -> dict:
    """Return a request body for C{api_key} C{version} as a client might send it."""
    message = messages.SCHEMAS[api_key]
    return _fields(rng, message.fields, version, names.for_api(api_key), 0)


def _leaves(value: Any, fields: Sequence[Field], version: int,
            out: list[tuple[dict, Field]]) -> None:
    """Collect (containing dict, field) for every primitive field in C{value}."""
    for f in fields:
        if version not in f.versions or value.get(f.name) is None:
            continue
        if isinstance(f, Array) and f.fields is not None:
            for item in value[f.name]:
                _leaves(item, f.fields, version, out)
        elif isinstance(f, Struct):
            _leaves(value[f.name], f.fields, version, out)
        elif not isinstance(f, Array):
            out.append((value, f))


def mutate_values(rng: random.Random, api_key: int, version: int, request: dict) -> dict:
    """Set one to three primitive fields of C{request} (in place) to boundary values."""
    leaves: list[tuple[dict, Field]] = []
    _leaves(request, messages.SCHEMAS[api_key].fields, version, leaves)
    for _ in range(min(len(leaves), rng.randint(1, 3))):
        container, field = rng.choice(leaves)
        if field.type in BOUNDARIES:
            container[field.name] = rng.choice(BOUNDARIES[field.type])
        elif field.type == STRING:
            container[field.name] = rng.choice(("", "\x00", "a\n", ".", "..", "x" * 32000,
                                                "x" * 32767, "x" * 40000, "\u00ff" * 300))
        elif field.type in (BYTES, RECORDS):
            container[field.name] = rng.choice((b"", rng.randbytes(rng.randint(1, 200)),
                                                _batch(rng)[: rng.randint(0, 70)]))
    return request


def _flip(rng: random.Random, body: bytearray) -> None:
    """Flip one to four random bits."""
    for _ in range(rng.randint(1, 4)):
        body[rng.randrange(len(body))] ^= 1 << rng.randrange(8)


def _truncate(rng: random.Random, body: bytearray) -> None:
    """Cut the body short."""
    del body[rng.randrange(len(body)):]


def _append(rng: random.Random, body: bytearray) -> None:
    """Add junk at the end."""
    body.extend(rng.randbytes(rng.randint(1, 64)))


def _insert(rng: random.Random, body: bytearray) -> None:
    """Insert junk in the middle."""
    at = rng.randrange(len(body) + 1)
    body[at:at] = rng.randbytes(rng.randint(1, 16))


def _boundary(rng: random.Random, body: bytearray) -> None:
    """Overwrite two or four bytes with a boundary integer (a length or count)."""
    size, fmt = rng.choice(((2, ">h"), (4, ">i")))
    if len(body) < size:
        return
    value = rng.choice(BOUNDARIES[INT16 if size == 2 else INT32])
    struct.pack_into(fmt, body, rng.randrange(len(body) - size + 1), value)


def _varint(rng: random.Random, body: bytearray) -> None:
    """Insert a long or huge unsigned varint (a compact length or count)."""
    at = rng.randrange(len(body) + 1)
    body[at:at] = rng.choice((b"\xff\xff\xff\xff\x0f", b"\x80" * 6 + b"\x01", b"\xfe\xff\x7f"))


BYTE_MUTATIONS: tuple[Callable[[random.Random, bytearray], None], ...] = (
    _flip, _truncate, _append, _insert, _boundary, _varint)


def mutate_bytes(rng: random.Random, body: bytes) -> bytes:
    """Return C{body} damaged by one or two byte-level mutations."""
    damaged = bytearray(body)
    for _ in range(rng.randint(1, 2)):
        if damaged:
            rng.choice(BYTE_MUTATIONS)(rng, damaged)
        else:
            _append(rng, damaged)
    return bytes(damaged)


@dataclass(frozen=True)
class Case:
    """One fuzz case: what to send and how it was made.

    @ivar seed: the seed that reproduces it (L{make_case}).
    @ivar api_key: the API.
    @ivar version: the version in the request header.
    @ivar body: the encoded (and maybe damaged) request body.
    @ivar how: which mutations made it, for the failure message.
    """

    seed: int
    api_key: int
    version: int
    body: bytes
    how: str


def make_case(seed: int, apis: Sequence[tuple[int, int, int]], names: Names) -> Case:
    """Return the case of C{seed}: a plausible request of one of C{apis}, mutated.

    @param apis: (api key, lowest, highest version) the broker advertises and
        the codec knows.
    """
    rng = random.Random(seed)
    api_key, low, high = rng.choice(apis)
    version = rng.randint(low, high)
    request = plausible(rng, api_key, version, names)
    how = []
    if rng.random() < 0.5:
        mutate_values(rng, api_key, version, request)
        how.append("values")
    try:
        body = messages.request_encoder(api_key, version)(request)
    except Exception:  # a boundary value the encoder refuses: damage bytes instead
        request = plausible(rng, api_key, version, names)
        body = messages.request_encoder(api_key, version)(request)
        how = []
    if not how or rng.random() < 0.5:
        body = mutate_bytes(rng, body)
        how.append("bytes")
    if rng.random() < 0.03:
        version = rng.choice((high + 1, -1, 0x7FFF))
        how.append("version")
    return Case(seed, api_key, version, body, "+".join(how))
