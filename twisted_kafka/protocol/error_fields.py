# -*- test-case-name: tests.protocol.test_error_fields -*-
"""Where a response carries error codes, read from the response schemas.

L{error_counter} compiles, once per (API, version), a function that visits
exactly the C{error_code} fields a response body of that version has (the
top-level one, each topic's, each partition's...) and hands each non-zero
code to a callback.  It walks only the arrays that lead to an error code,
so a Fetch response costs one loop over its topics and partitions, never a
look at the records.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from twisted_kafka.protocol.schema import RESPONSES, Array, Field, Struct

#: Visits one response body, calling the callback with each non-zero error code.
ErrorWalk = Callable[[Mapping[str, Any], Callable[[int], object]], None]

_walks: dict[tuple[int, int], ErrorWalk | None] = {}


def error_counter(api_key: int, version: int) -> ErrorWalk | None:
    """Return the error-code walk of responses of C{api_key} C{version}.

    @return: C{None} when such a response has no error code at all (or the
        API has no response schema).
    """
    key = (api_key, version)
    if key in _walks:
        return _walks[key]
    message = RESPONSES.get(api_key)
    walk = None
    if message is not None and version in message.versions:
        walk = _compile(message.fields, version)
    _walks[key] = walk
    return walk


def _compile(fields: Sequence[Field], version: int) -> ErrorWalk | None:
    """Generate the walk of a message's C{fields} in C{version}, or C{None} if it has no error code.

    The walk is one generated function of nested loops (as the codec's
    functions are generated), so that a Metadata response's hundreds of
    partitions cost a loop iteration each, not a function call.
    """
    lines: list[str] = []
    _emit(fields, version, "body", 1, lines, [0])
    if not lines:
        return None
    source = "def walk(body, found):\n" + "\n".join(lines) + "\n"
    namespace: dict[str, Any] = {}
    exec(compile(source, "<error-code walk>", "exec"), namespace)
    walk: ErrorWalk = namespace["walk"]
    return walk


def _emit(fields: Sequence[Field], version: int, name: str, depth: int, lines: list[str],
          counter: list[int]) -> None:
    """Append the lines visiting the error codes of struct C{name} (a local) to C{lines}."""
    pad = "    " * depth
    for field in fields:
        if version not in field.versions:
            continue
        if field.name == "error_code" and type(field) is Field:
            counter[0] += 1
            code = f"c{counter[0]}"
            lines.append(f"{pad}{code} = {name}.get({field.name!r})")
            lines.append(f"{pad}if {code}:")
            lines.append(f"{pad}    found({code})")
        elif isinstance(field, (Array, Struct)) and field.fields is not None:
            inner: list[str] = []
            counter[0] += 1
            item = f"s{counter[0]}"
            _emit(field.fields, version, item, depth + 1, inner, counter)
            if not inner:
                continue
            if isinstance(field, Array):
                lines.append(f"{pad}for {item} in {name}.get({field.name!r}) or ():")
            else:
                lines.append(f"{pad}{item} = {name}.get({field.name!r})")
                lines.append(f"{pad}if {item}:")
            lines.extend(inner)
