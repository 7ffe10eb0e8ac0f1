# -*- test-case-name: tests.protocol.test_roundtrip -*-
"""Build populated sample messages from a schema, for round-trip tests and benchmarks.

:func:`sample` fills every field that exists in a version with a value that
differs from its default (so a codec that dropped or swapped a field would be
caught); with ``nulls=True`` every field nullable in that version is ``None``
instead.  :func:`project` keeps only the fields that exist in a version, to
compare what went in with what came out.
"""

from __future__ import annotations

from typing import Any, Sequence

from twisted_kafka.protocol.schema import (
    BOOL, BYTES, FLOAT64, INT8, INT16, INT32, INT64, RECORDS, STRING, UINT16, UINT32, UUID,
    Array, Field, Message, Struct,
)

_VALUES: dict[str, Any] = {
    INT8: -5, INT16: -300, UINT16: 65000, INT32: -70000, UINT32: 4000000000,
    INT64: -(2**40) - 3, FLOAT64: 2.5, BOOL: True, UUID: bytes(range(1, 17)),
    BYTES: b"\x00\x01bytes", RECORDS: b"\x00records\xff",
}


def _primitive(ftype: str, name: str, index: int) -> Any:
    """A non-default value of a primitive type (strings carry the field name)."""
    if ftype == STRING:
        return f"{name}-{index}-\u00e9"
    value = _VALUES[ftype]
    if ftype in (INT32, INT64, INT16):
        return value - index
    return value


def sample(message: Message, version: int, nulls: bool = False, items: int = 2) -> dict:
    """A populated dict for ``message`` at ``version``."""
    return _struct(message.fields, version, nulls, items, 0)


def _struct(fields: Sequence[Field], version: int, nulls: bool, items: int, index: int) -> dict:
    out: dict[str, Any] = {}
    for f in fields:
        if version not in f.versions:
            continue
        if nulls and version in f.nullable:
            out[f.name] = None
        elif isinstance(f, Array):
            if f.fields is not None:
                out[f.name] = [
                    _struct(f.fields, version, nulls, items, i) for i in range(items)
                ]
            else:
                out[f.name] = [_primitive(f.of, f.name, i) for i in range(items)]  # type: ignore[arg-type]
        elif isinstance(f, Struct):
            out[f.name] = _struct(f.fields, version, nulls, items, index)
        else:
            out[f.name] = _primitive(f.type, f.name, index)
    return out


def project(fields: Sequence[Field], version: int, value: Any) -> Any:
    """Keep only the fields of ``value`` that exist in ``version`` (recursively)."""
    if value is None:
        return None
    out = {}
    for f in fields:
        if version not in f.versions:
            continue
        v = value[f.name]
        sub = getattr(f, "fields", None)
        if sub is not None and v is not None:
            v = [project(sub, version, x) for x in v] if isinstance(f, Array) else project(sub, version, v)
        elif isinstance(v, (list, tuple)):
            v = list(v)
        out[f.name] = v
    return out
