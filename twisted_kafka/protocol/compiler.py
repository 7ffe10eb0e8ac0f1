# -*- test-case-name: tests.protocol.test_roundtrip -*-
"""Compile a schema (message, version) into plain Python encode/decode functions.

For each (message, version, direction) this module writes the source of one
flat Python function - every field read or written inline, consecutive
fixed-size fields packed or unpacked with a single precompiled
C{struct.Struct}, nested arrays as nested loops - and C{exec}s it once.  The
result is cached, so the cost of generating code is paid once, on first use
(L{compile_all} pays it for every message at once).

Decoders have the signature C{decode(buf: bytes, pos: int) -> dict} and
decode from C{pos} to the end of C{buf} (which must be C{bytes}: a frame
as the connection hands it over):

- every field of the message appears in the dict, with its default when the
  field does not exist in that version, so callers can ignore versions;
- every length and count is checked against the bytes left before anything
  is allocated; any failure, including bytes left over at the end, raises
  L{twisted_kafka.protocol.errors.DecodeError};
- C{records} fields decode to one C{bytes} slice of C{buf} (or C{None})
  in responses; in *requests* they decode to a C{memoryview} of C{buf},
  so a produced batch is never copied between the frame and the disk;
- unknown tagged fields are skipped.

Encoders have the signature C{encode(d: Mapping) -> list[bytes]}: missing
keys take their defaults, keys for fields outside the version are ignored,
arrays may be any sequence, C{None} for a field that is not nullable in that
version is written as its empty value (C{""}, C{b""}, C{[]}), and a tagged
field is written only when it differs from its default.  Small pieces are
joined into one chunk; a C{records} value of L{BIG_RECORDS} bytes or
more becomes a chunk of its own (never copied), so a response can go to
C{transport.writeSequence} as it is, and so does a
L{twisted_kafka.protocol.file_records.FileRecords} value (a range of a file,
for C{os.sendfile}).  Values that do not fit their type raise
L{twisted_kafka.protocol.errors.EncodeError}.
"""

from __future__ import annotations

import struct
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence

from twisted_kafka.protocol import primitives
from twisted_kafka.protocol.errors import DecodeError, EncodeError
from twisted_kafka.protocol.file_records import FileRecords
from twisted_kafka.protocol.schema import (
    BOOL, BYTES, FLOAT64, INT8, INT16, INT32, INT64, RECORDS, STRING, UINT16, UINT32, UUID,
    Array, Field, Message, Struct,
)

#: A decoded message body, or one struct inside it: field name (snake_case, as
#: in L{twisted_kafka.protocol.schema}) to value.  Responders take their
#: request as one and answer with one.
Fields = dict[str, Any]
Decoder = Callable[[bytes, int], Fields]
#: One piece of an encoded message: bytes, or a range of a file (records only).
Chunk = bytes | FileRecords
Encoder = Callable[[Mapping[str, Any]], list[Chunk]]

#: C{records} values at least this long are returned as their own chunk.
BIG_RECORDS = 512

#: struct format character of each fixed-size type.
_FIXED: dict[str, str] = {
    INT8: "b", INT16: "h", UINT16: "H", INT32: "i", UINT32: "I", INT64: "q",
    FLOAT64: "d", BOOL: "?", UUID: "16s",
}
_SIZES: dict[str, int] = {t: struct.calcsize(">" + c) for t, c in _FIXED.items()}


#: Arrays of fixed-size primitives shorter than this use precompiled Structs.
_SMALL_ARRAY = 32
_ARRAY_STRUCTS: dict[tuple[str, str], tuple[struct.Struct, ...]] = {}


def _array_structs(prefix: str, item: str) -> tuple[struct.Struct, ...]:
    """Structs C{>{prefix}{n}{item}} for n < _SMALL_ARRAY (shared by all codecs)."""
    key = (prefix, item)
    table = _ARRAY_STRUCTS.get(key)
    if table is None:
        table = _ARRAY_STRUCTS[key] = tuple(
            struct.Struct(f">{prefix}{n}{item}") for n in range(_SMALL_ARRAY)
        )
    return table


def _is_fixed(field: Field) -> bool:
    """True for a field whose encoding has one fixed size (a C{struct} format)."""
    return type(field) is Field and field.type in _FIXED


def _min_size(field: Field, version: int, flexible: bool) -> int:
    """The fewest bytes an encoding of C{field} can take in C{version}."""
    if isinstance(field, Array):
        return 1 if flexible else 4
    if isinstance(field, Struct):
        if version in field.nullable:
            return 1
        return _struct_min_size(field.fields, version, flexible)
    if field.type in _SIZES:
        return _SIZES[field.type]
    if field.type == STRING:
        return 1 if flexible else 2
    return 1 if flexible else 4  # bytes, records


def _item_min_size(field: Array, version: int, flexible: bool) -> int:
    """The fewest bytes one element of an array can take (at least 1)."""
    if field.fields is not None:
        return max(1, _struct_min_size(field.fields, version, flexible))
    return max(1, _min_size(Field("item", field.of, "0+"), version, flexible))  # type: ignore[arg-type]


def _struct_min_size(fields: Sequence[Field], version: int, flexible: bool) -> int:
    """The fewest bytes an encoding of a struct with C{fields} can take."""
    size = 1 if flexible else 0
    for f in fields:
        if version in f.versions and not f.is_tagged(version):
            size += _min_size(f, version, flexible)
    return size


def _runs(fields: Iterable[Field]) -> list[list[Field]]:
    """Group fields into runs: consecutive fixed-size fields share a run."""
    runs: list[list[Field]] = []
    for f in fields:
        if _is_fixed(f) and runs and _is_fixed(runs[-1][0]):
            runs[-1].append(f)
        else:
            runs.append([f])
    return runs


class _Source:
    """Accumulates the lines and constants of one generated function."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.lines: list[str] = []
        self.namespace: dict[str, Any] = {
            "_DecodeError": DecodeError,
            "_EncodeError": EncodeError,
            "_StructError": struct.error,
            "_uvarint": primitives.read_uvarint,
            "_wuvarint": primitives.write_uvarint,
            "_UV": primitives.SMALL_UVARINTS,
            "_unpack_from": struct.unpack_from,
            "_pack": struct.pack,
            "_join": b"".join,
            "_FileRecords": FileRecords,
            "_struct_differs": _struct_differs,
            "_skip_tags": _skip_tags,
            "_fit_message": _fit_message,
        }
        self._counter = 0
        self._structs: dict[str, str] = {}

    def emit(self, indent: int, line: str) -> None:
        """Add one line of source at C{indent} levels."""
        self.lines.append("    " * indent + line)

    def var(self, prefix: str) -> str:
        """A fresh local variable name."""
        self._counter += 1
        return f"{prefix}{self._counter}"

    def struct(self, fmt: str) -> str:
        """The name of a precompiled C{struct.Struct} for C{fmt}."""
        name = self._structs.get(fmt)
        if name is None:
            name = self._structs[fmt] = self.var("_S")
            self.namespace[name] = struct.Struct(fmt)
        return name

    def array_structs(self, prefix: str, item: str) -> str:
        """The name of a table of Structs C{>{prefix}{n}{item}} for small C{n}."""
        name = f"_A{prefix}_{item}"
        if name not in self.namespace:
            self.namespace[name] = _array_structs(prefix, item)
        return name

    def fail(self, indent: int, message: str) -> None:
        """Emit a C{raise DecodeError} with an f-string C{message}."""
        self.emit(indent, f'raise _DecodeError(f"{self.what}: {message}")')

    def build(self, name: str) -> Callable[..., Any]:
        """C{exec} the accumulated source and return the function C{name}."""
        source = "\n".join(self.lines) + "\n"
        code = compile(source, f"<kafka codec {self.what}>", "exec")
        exec(code, self.namespace)
        func = self.namespace[name]
        func.__source__ = source
        return func  # type: ignore[no-any-return]


def _struct_differs(value: Optional[Mapping[str, Any]], default: Mapping[str, Any]) -> bool:
    """True if a tagged struct value differs from its default (so must be written)."""
    if value is None:
        return False
    return any(value.get(k, v) != v for k, v in default.items())


# ---------------------------------------------------------------- decoding


def _skip_tags(buf: bytes, pos: int, what: str) -> int:
    """Skip a tagged-field section none of whose tags are known; return the new offset."""
    try:
        _, pos = primitives.read_tagged_fields(buf, pos)
    except DecodeError as e:
        raise DecodeError(f"{what}: {e}") from None
    return pos


class _DecoderWriter:
    """Generates the body of a decoder for one message version."""

    def __init__(self, src: _Source, version: int, flexible: bool,
                 zero_copy_records: bool = False) -> None:
        self.src = src
        self.version = version
        self.flexible = flexible
        self.zero_copy_records = zero_copy_records

    def uvarint(self, ind: int, target: str) -> None:
        """Read an unsigned varint into C{target} (one-byte fast path inline)."""
        emit = self.src.emit
        emit(ind, f"{target} = buf[pos]")
        emit(ind, f"if {target} < 128:")
        emit(ind + 1, "pos += 1")
        emit(ind, "else:")
        emit(ind + 1, f"{target}, pos = _uvarint(buf, pos)")

    def length(self, ind: int, target: str, fmt: str) -> None:
        """Read a length or count: int16/int32 (C{fmt}), or compact (length + 1)."""
        if self.flexible:
            self.uvarint(ind, target)
            self.src.emit(ind, f"{target} -= 1")
        else:
            self.src.emit(ind, f"{target} = {self.src.struct('>' + fmt)}.unpack_from(buf, pos)[0]")
            self.src.emit(ind, f"pos += {struct.calcsize(fmt)}")

    def null_or_negative(self, ind: int, field: Field, n: str, target: str) -> None:
        """Handle a negative length: null if allowed, else a DecodeError."""
        self.src.emit(ind, f"if {n} < 0:")
        if self.version in field.nullable:
            self.src.emit(ind + 1, f"if {n} != -1:")
            self.src.fail(ind + 2, f"{field.name}: invalid length {{{n}}}")
            self.src.emit(ind + 1, f"{target} = None")
        else:
            self.src.fail(ind + 1, f"{field.name}: null or negative length {{{n}}} for a non-nullable field")

    def sized(self, ind: int, field: Field, ftype: str, target: str) -> None:
        """Decode a string/bytes/records field into C{target}."""
        emit = self.src.emit
        n = self.src.var("n")
        self.length(ind, n, "h" if ftype == STRING else "i")
        self.null_or_negative(ind, field, n, target)
        emit(ind, "else:")
        e = self.src.var("e")
        emit(ind + 1, f"{e} = pos + {n}")
        emit(ind + 1, f"if {e} > end:")
        self.src.fail(ind + 2, f"{field.name}: length {{{n}}} overruns the {{end - pos}} bytes left")
        if ftype == STRING:
            emit(ind + 1, f'{target} = str(buf[pos:{e}], "utf-8")')
        elif ftype == RECORDS and self.zero_copy_records:
            emit(ind + 1, f"{target} = memoryview(buf)[pos:{e}]")
        else:
            emit(ind + 1, f"{target} = buf[pos:{e}]")
        emit(ind + 1, f"pos = {e}")

    def array(self, ind: int, field: Array, target: str) -> None:
        """Decode an array field into C{target}."""
        emit = self.src.emit
        n = self.src.var("n")
        self.length(ind, n, "i")
        self.null_or_negative(ind, field, n, target)
        size = _item_min_size(field, self.version, self.flexible)
        limit = f"{n} * {size}" if size > 1 else n
        emit(ind, f"elif {limit} > end - pos:")
        self.src.fail(ind + 1, f"{field.name}: count {{{n}}} exceeds the {{end - pos}} bytes left")
        emit(ind, "else:")
        ind += 1
        if field.of in _FIXED:
            c = _FIXED[field.of]
            table = self.src.array_structs("", c)
            emit(ind, f"if {n} < {_SMALL_ARRAY}:")
            emit(ind + 1, f"{target} = list({table}[{n}].unpack_from(buf, pos))")
            emit(ind, "else:")
            emit(ind + 1, f'{target} = list(_unpack_from(f">{{{n}}}{c}", buf, pos))')
            emit(ind, f"pos += {n} * {_SIZES[field.of]}")
            return
        emit(ind, f"{target} = []")
        append = self.src.var("append")
        emit(ind, f"{append} = {target}.append")
        emit(ind, f"for _ in range({n}):")
        item = self.src.var("item")
        if field.fields is not None:
            self.struct_body(ind + 1, field.fields, item)
        else:
            self.sized(ind + 1, Field(field.name + "[]", field.of, "0+"), field.of, item)  # type: ignore[arg-type]
        emit(ind + 1, f"{append}({item})")

    def field(self, ind: int, field: Field, target: str) -> None:
        """Decode any non-fixed field into C{target}."""
        if isinstance(field, Array):
            self.array(ind, field, target)
        elif isinstance(field, Struct):
            if self.version in field.nullable:
                self.src.emit(ind, "if buf[pos] >= 128:")
                self.src.emit(ind + 1, "pos += 1")
                self.src.emit(ind + 1, f"{target} = None")
                self.src.emit(ind, "else:")
                self.src.emit(ind + 1, "pos += 1")
                self.struct_body(ind + 1, field.fields, target)
            else:
                self.struct_body(ind, field.fields, target)
        elif field.type in _FIXED:
            fmt = self.src.struct(">" + _FIXED[field.type])
            self.src.emit(ind, f"{target} = {fmt}.unpack_from(buf, pos)[0]")
            self.src.emit(ind, f"pos += {_SIZES[field.type]}")
        else:
            self.sized(ind, field, field.type, target)

    def struct_body(self, ind: int, fields: Sequence[Field], target: str) -> None:
        """Decode a struct's fields at C{pos} and bind the dict to C{target}."""
        emit = self.src.emit
        version = self.version
        values: dict[str, str] = {}
        present = [f for f in fields if version in f.versions and not f.is_tagged(version)]
        for run in _runs(present):
            if _is_fixed(run[0]):
                names = [self.src.var("v") for _ in run]
                fmt = ">" + "".join(_FIXED[f.type] for f in run)
                s = self.src.struct(fmt)
                lhs = ", ".join(names) + ("," if len(names) == 1 else "")
                emit(ind, f"{lhs} = {s}.unpack_from(buf, pos)")
                emit(ind, f"pos += {struct.calcsize(fmt)}")
                for f, v in zip(run, names):
                    values[f.name] = v
            else:
                v = self.src.var("v")
                self.field(ind, run[0], v)
                values[run[0].name] = v
        if self.flexible:
            tagged = sorted(
                (f for f in fields if version in f.versions and f.is_tagged(version)),
                key=lambda f: f.tag,  # type: ignore[arg-type,return-value]
            )
            self.tagged_section(ind, tagged, values)
        items = []
        for f in fields:
            items.append(f'"{f.name}": {values.get(f.name) or repr(f.default)}')
        emit(ind, f"{target} = {{{', '.join(items)}}}")

    def tagged_section(self, ind: int, tagged: list[Field], values: dict[str, str]) -> None:
        """Decode a tagged-field section: known tags into C{values}, the rest skipped."""
        emit = self.src.emit
        if not tagged:
            emit(ind, "if buf[pos]:")
            emit(ind + 1, f'pos = _skip_tags(buf, pos, "{self.src.what}")')
            emit(ind, "else:")
            emit(ind + 1, "pos += 1")
            return
        for f in tagged:
            values[f.name] = self.src.var("t")
            emit(ind, f"{values[f.name]} = {f.default!r}")
        count = self.src.var("tags")
        self.uvarint(ind, count)
        emit(ind, f"if {count}:")
        emit(ind + 1, f"if {count} * 2 > end - pos:")
        self.src.fail(ind + 2, f"tagged field count {{{count}}} exceeds the {{end - pos}} bytes left")
        emit(ind + 1, f"for _ in range({count}):")
        tag, size, tend = self.src.var("tag"), self.src.var("size"), self.src.var("tend")
        self.uvarint(ind + 2, tag)
        self.uvarint(ind + 2, size)
        emit(ind + 2, f"{tend} = pos + {size}")
        emit(ind + 2, f"if {tend} > end:")
        self.src.fail(ind + 3, f"tagged field {{{tag}}} of size {{{size}}} overruns the buffer")
        keyword = "if"
        for f in tagged:
            emit(ind + 2, f"{keyword} {tag} == {f.tag}:")
            self.field(ind + 3, f, values[f.name])
            emit(ind + 3, f"if pos > {tend}:")
            self.src.fail(ind + 4, f"tagged field {f.name} overruns its size")
            keyword = "elif"
        emit(ind + 2, f"pos = {tend}")


def compile_decoder(message: Message, version: int, allow_trailing: bool = False) -> Decoder:
    """Generate and compile C{decode(buf, pos) -> dict} for one message version.

    With C{allow_trailing} bytes after the message are ignored instead of
    rejected (for data messages of a newer version than the schema knows).
    """
    what = f"{message.name} v{version}"
    src = _Source(what)
    writer = _DecoderWriter(src, version, message.is_flexible(version),
                            zero_copy_records=message.name.endswith("Request"))
    src.emit(0, "def decode(buf, pos=0):")
    src.emit(1, "end = len(buf)")
    src.emit(1, "try:")
    writer.struct_body(2, message.fields, "result")
    src.emit(1, "except _DecodeError:")
    src.emit(2, "raise")
    src.emit(1, "except (_StructError, IndexError, ValueError) as exc:")
    src.emit(2, f'raise _DecodeError(f"{what}: truncated or malformed at offset {{pos}}: {{exc}}") from None')
    if not allow_trailing:
        src.emit(1, "if pos != end:")
        src.fail(2, "{end - pos} unexpected bytes after the message")
    src.emit(1, "return result")
    decode = src.build("decode")
    decode.__doc__ = f"Decode a {what} body from C{{buf[pos:]}}."
    return decode


# ---------------------------------------------------------------- encoding


class _EncoderWriter:
    """Generates the body of an encoder for one message version."""

    def __init__(self, src: _Source, version: int, flexible: bool) -> None:
        self.src = src
        self.version = version
        self.flexible = flexible

    def length(self, ind: int, ap: str, n: str, fmt: str) -> None:
        """Write a length or count C{n} (int16/int32 or compact length + 1)."""
        if self.flexible:
            m = self.src.var("m")
            self.src.emit(ind, f"{m} = {n} + 1")
            self.src.emit(ind, f"{ap}(_UV[{m}] if {m} < 128 else _wuvarint({m}))")
        else:
            self.src.emit(ind, f"{ap}({self.src.struct('>' + fmt)}.pack({n}))")

    def null(self, field: Field, fmt: str) -> str:
        """The bytes literal for a null (or, if not nullable, empty) length."""
        nullable = self.version in field.nullable
        if self.flexible:
            return repr(b"\0" if nullable else b"\x01")
        return repr(struct.pack(">" + fmt, -1 if nullable else 0))

    def sized(self, ind: int, field: Field, ftype: str, value: str, ap: str, chunks: Optional[str]) -> None:
        """Encode a string/bytes/records C{value}."""
        emit = self.src.emit
        fmt = "h" if ftype == STRING else "i"
        emit(ind, f"if {value} is None:")
        emit(ind + 1, f"{ap}({self.null(field, fmt)})")
        emit(ind, "else:")
        if ftype == STRING:
            raw = self.src.var("raw")
            emit(ind + 1, f'{raw} = {value}.encode("utf-8")')
            if not self.flexible and field.name.endswith("error_message"):
                # A message quoting a client's long name must still fit int16.
                emit(ind + 1, f"if len({raw}) > {_I16_MAX}:")
                emit(ind + 2, f"{raw} = _fit_message({raw})")
        else:
            raw = value
            if ftype == RECORDS and chunks is not None:
                # a FileRecords stays a range of its file, a chunk of its own
                emit(ind + 1, f"if {raw}.__class__ is not bytes and {raw}.__class__ is not _FileRecords:")
            else:
                emit(ind + 1, f"if {raw}.__class__ is not bytes:")
            emit(ind + 2, f"{raw} = bytes({raw})")
        n = self.src.var("n")
        emit(ind + 1, f"{n} = len({raw})")
        self.length(ind + 1, ap, n, fmt)
        if ftype == RECORDS and chunks is not None:
            emit(ind + 1, f"if {n} >= {BIG_RECORDS} or {raw}.__class__ is _FileRecords:")
            emit(ind + 2, f"{chunks}.append(_join(parts))")
            emit(ind + 2, "parts.clear()")
            emit(ind + 2, f"{chunks}.append({raw})")
            emit(ind + 1, "else:")
            emit(ind + 2, f"{ap}({raw})")
        else:
            emit(ind + 1, f"{ap}({raw})")

    def array(self, ind: int, field: Array, value: str, ap: str, chunks: Optional[str]) -> None:
        """Encode an array C{value} (any sequence, or None)."""
        emit = self.src.emit
        emit(ind, f"if {value} is None:")
        emit(ind + 1, f"{ap}({self.null(field, 'i')})")
        emit(ind, "else:")
        ind += 1
        n = self.src.var("n")
        emit(ind, f"{n} = len({value})")
        if field.of in _FIXED:
            c = _FIXED[field.of]
            table = self.src.array_structs("B" if self.flexible else "i", c)
            count = f"{n} + 1" if self.flexible else n
            emit(ind, f"if {n} < {_SMALL_ARRAY}:")
            emit(ind + 1, f"{ap}({table}[{n}].pack({count}, *{value}))")
            emit(ind, "else:")
            if self.flexible:
                emit(ind + 1, f"{ap}(_wuvarint({n} + 1))")
                emit(ind + 1, f'{ap}(_pack(f">{{{n}}}{c}", *{value}))')
            else:
                emit(ind + 1, f'{ap}(_pack(f">i{{{n}}}{c}", {n}, *{value}))')
            return
        self.length(ind, ap, n, "i")
        item = self.src.var("item")
        emit(ind, f"for {item} in {value}:")
        if field.fields is not None:
            self.struct_body(ind + 1, field.fields, item, ap, chunks)
        else:
            self.sized(ind + 1, Field(field.name, field.of, "0+"), field.of, item, ap, chunks)  # type: ignore[arg-type]

    def field(self, ind: int, field: Field, value: str, ap: str, chunks: Optional[str]) -> None:
        """Encode any non-fixed field from the local C{value}."""
        emit = self.src.emit
        if isinstance(field, Array):
            self.array(ind, field, value, ap, chunks)
        elif isinstance(field, Struct):
            if self.version in field.nullable:
                emit(ind, f"if {value} is None:")
                emit(ind + 1, f'{ap}(b"\\xff")')
                emit(ind, "else:")
                emit(ind + 1, f'{ap}(b"\\x01")')
                self.struct_body(ind + 1, field.fields, value, ap, chunks)
            else:
                emit(ind, f"if {value} is None:")
                emit(ind + 1, f"{value} = {{}}")
                self.struct_body(ind, field.fields, value, ap, chunks)
        elif field.type in _FIXED:
            emit(ind, f"{ap}({self.src.struct('>' + _FIXED[field.type])}.pack({value}))")
        else:
            self.sized(ind, field, field.type, value, ap, chunks)

    def struct_body(self, ind: int, fields: Sequence[Field], source: str, ap: str, chunks: Optional[str]) -> None:
        """Encode a struct's fields read from the mapping in local C{source}."""
        emit = self.src.emit
        version = self.version
        get = self.src.var("get")
        emit(ind, f"{get} = {source}.get")
        present = [f for f in fields if version in f.versions and not f.is_tagged(version)]
        tagged = sorted(
            (f for f in fields if version in f.versions and f.is_tagged(version)),
            key=lambda f: f.tag,  # type: ignore[arg-type,return-value]
        )
        runs = _runs(present)
        # An empty tagged-field section after a fixed run is a pad byte of its format.
        pad_tags = self.flexible and not tagged and bool(runs) and _is_fixed(runs[-1][0])
        for i, run in enumerate(runs):
            if _is_fixed(run[0]):
                fmt = ">" + "".join(_FIXED[f.type] for f in run)
                if pad_tags and i == len(runs) - 1:
                    fmt += "x"
                args = ", ".join(f'{get}("{f.name}", {f.default!r})' for f in run)
                emit(ind, f"{ap}({self.src.struct(fmt)}.pack({args}))")
            else:
                f = run[0]
                v = self.src.var("v")
                emit(ind, f'{v} = {get}("{f.name}", {_encode_default(f)})')
                self.field(ind, f, v, ap, chunks)
        if self.flexible and not pad_tags:
            self.tagged_section(ind, tagged, get, ap)

    def tagged_section(self, ind: int, tagged: list[Field], get: str, ap: str) -> None:
        """Encode the tagged fields that differ from their defaults."""
        emit = self.src.emit
        if not tagged:
            emit(ind, f'{ap}(b"\\x00")')
            return
        conditions = []
        for f in tagged:
            v = self.src.var("t")
            emit(ind, f'{v} = {get}("{f.name}", {_encode_default(f)})')
            conditions.append((f, v, _differs(f, v)))
        emit(ind, f"if {' or '.join(c for _, _, c in conditions)}:")
        tparts = self.src.var("tparts")
        count = self.src.var("ntags")
        emit(ind + 1, f"{tparts} = []")
        emit(ind + 1, f"{count} = 0")
        for f, v, cond in conditions:
            emit(ind + 1, f"if {cond}:")
            sub = self.src.var("sub")
            subap = self.src.var("subap")
            emit(ind + 2, f"{sub} = []")
            emit(ind + 2, f"{subap} = {sub}.append")
            if _is_fixed(f):
                emit(ind + 2, f"{subap}({self.src.struct('>' + _FIXED[f.type])}.pack({v}))")
            else:
                self.field(ind + 2, f, v, subap, None)
            raw = self.src.var("raw")
            emit(ind + 2, f"{raw} = _join({sub})")
            emit(ind + 2, f"{tparts}.append(_wuvarint({f.tag}) + _wuvarint(len({raw})) + {raw})")
            emit(ind + 2, f"{count} += 1")
        emit(ind + 1, f"{ap}(_wuvarint({count}) + _join({tparts}))")
        emit(ind, "else:")
        emit(ind + 1, f'{ap}(b"\\x00")')


#: The longest string a non-flexible version can carry (int16 length).
_I16_MAX = 0x7FFF
_ELLIPSIS = "...".encode("utf-8")


def _fit_message(raw: bytes) -> bytes:
    """Cut an over-long UTF-8 error message to fit an int16 length.

    The cut falls on a character boundary and ends with C{...}, so the
    client still gets a valid, recognisably shortened message.
    """
    cut = raw[: _I16_MAX - len(_ELLIPSIS)]
    return cut.decode("utf-8", "ignore").encode("utf-8") + _ELLIPSIS


def _encode_default(field: Field) -> str:
    """Source of the value an encoder uses for a missing key."""
    default = field.default
    if isinstance(default, list):
        return "()"
    if isinstance(default, dict):
        return "None"
    return repr(default)


def _differs(field: Field, value: str) -> str:
    """Source of a condition: is C{value} different from C{field}'s default?"""
    default = field.default
    if default is None:
        return f"{value} is not None"
    if isinstance(default, list):
        return f"({value} is None or len({value}) > 0)"
    if isinstance(default, dict):
        return f"_struct_differs({value}, {default!r})"
    return f"{value} != {default!r}"


def _has_records(fields: Sequence[Field]) -> bool:
    """True if any field, at any depth, is of type records."""
    for f in fields:
        if f.type == RECORDS:
            return True
        sub = getattr(f, "fields", None)
        if sub and _has_records(sub):
            return True
    return False


def compile_encoder(message: Message, version: int) -> Encoder:
    """Generate and compile C{encode(d) -> list[bytes]} for one message version."""
    what = f"{message.name} v{version}"
    src = _Source(what)
    writer = _EncoderWriter(src, version, message.is_flexible(version))
    chunks = "chunks" if _has_records(message.fields) else None
    src.emit(0, "def encode(message):")
    src.emit(1, "parts = []")
    src.emit(1, "ap = parts.append")
    if chunks:
        src.emit(1, "chunks = []")
    src.emit(1, "try:")
    writer.struct_body(2, message.fields, "message", "ap", chunks)
    src.emit(1, "except (_StructError, TypeError, AttributeError, OverflowError, ValueError) as exc:")
    src.emit(2, f'raise _EncodeError(f"{what}: {{exc}}") from None')
    if chunks:
        src.emit(1, "if chunks:")
        src.emit(2, "if parts:")
        src.emit(3, "chunks.append(_join(parts))")
        src.emit(2, "return chunks")
    src.emit(1, "return [_join(parts)]")
    encode = src.build("encode")
    encode.__doc__ = f"Encode a {what} body as a list of byte chunks."
    return encode


# ---------------------------------------------------------------- cache

_decoders: dict[tuple[int, int, bool], Decoder] = {}
_encoders: dict[tuple[int, int], Encoder] = {}


def decoder(message: Message, version: int, allow_trailing: bool = False) -> Decoder:
    """The (cached) decoder of C{message} at C{version} (see L{compile_decoder})."""
    key = (id(message), version, allow_trailing)
    func = _decoders.get(key)
    if func is None:
        func = _decoders[key] = compile_decoder(message, version, allow_trailing)
    return func


def encoder(message: Message, version: int) -> Encoder:
    """The (cached) encoder of C{message} at C{version}."""
    key = (id(message), version)
    func = _encoders.get(key)
    if func is None:
        func = _encoders[key] = compile_encoder(message, version)
    return func


def compile_all(messages: Iterable[Message]) -> int:
    """Compile the decoder and encoder of every version of C{messages}; return how many."""
    count = 0
    for message in messages:
        for version in range(message.versions.low, message.versions.high + 1):
            decoder(message, version)
            encoder(message, version)
            count += 2
    return count
