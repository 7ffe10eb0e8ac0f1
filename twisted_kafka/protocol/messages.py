# -*- test-case-name: tests.protocol.test_roundtrip -*-
"""The codec's public interface: encoders and decoders by API key and version.

Request and response *bodies* only; headers are in
L{twisted_kafka.protocol.headers}.  Decoded messages are plain dicts keyed
by the snake_case field names of L{twisted_kafka.protocol.schema} (see
L{twisted_kafka.protocol.compiler} for what decoders and encoders accept
and return).  Functions are compiled on first use and cached (about 0.3 ms
each); L{compile_all} compiles every one, for tests and benchmarks.

Consumer-protocol *data* messages (C{ConsumerProtocolSubscription},
C{ConsumerProtocolAssignment}: the bytes inside JoinGroup/SyncGroup) start
with their own int16 version: L{data_decoder}/L{data_encoder} work
on the body after it, L{decode_data}/L{encode_data} include it.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from twisted_kafka.protocol import compiler, schema
from twisted_kafka.protocol.compiler import Chunk
from twisted_kafka.protocol.compiler import Fields as Fields  # re-exported for responders
from twisted_kafka.protocol.errors import DecodeError, UnknownMessage
from twisted_kafka.protocol.file_records import FileRecords
from twisted_kafka.protocol.primitives import INT16
from twisted_kafka.protocol.schema import Message

#: Request schema of every API the codec knows, by API key (C{.valid_versions}
#: gives its version range).
SCHEMAS: dict[int, Message] = schema.REQUESTS
#: Response schema of every API the codec knows, by API key.
RESPONSE_SCHEMAS: dict[int, Message] = schema.RESPONSES
#: Data message schemas, by name.
DATA_SCHEMAS: dict[str, Message] = schema.DATA


def _lookup(table: Mapping[Any, Message], key: Any, version: int) -> Message:
    """The schema for C{key} if it has C{version}, else UnknownMessage."""
    message = table.get(key)
    if message is None:
        raise UnknownMessage(f"no schema for {key!r}")
    if version not in message.versions:
        raise UnknownMessage(
            f"{message.name} has no version {version} "
            f"(known: {message.versions.low}-{message.versions.high})"
        )
    return message


def request_decoder(api_key: int, version: int) -> Callable[[bytes, int], Fields]:
    """C{decode(buf, offset) -> dict} for a request body from C{offset} to the end."""
    decode = compiler.decoder(_lookup(SCHEMAS, api_key, version), version)
    if api_key == METADATA_KEY and SCHEMAS[api_key].is_flexible(version):
        return _quirks.setdefault(version, _tolerate_librdkafka_null_topics(decode))
    return decode


METADATA_KEY = 3
_quirks: dict[int, Callable[[bytes, int], Fields]] = {}
_FOUR_ZEROS = b"\0\0\0\0"


def _tolerate_librdkafka_null_topics(
    decode: Callable[[bytes, int], Fields],
) -> Callable[[bytes, int], Fields]:
    """Wrap a flexible Metadata request decoder to accept librdkafka's null topics.

    librdkafka (up to at least 2.16, confluentinc/librdkafka#5049) writes the
    null topics array of a flexible Metadata request ("all topics") as the
    4-byte int32 placeholder C{00 00 00 00} instead of the one-byte compact
    null C{00}.  A correct body that starts with four zero bytes is exactly
    four bytes long (null topics, two false booleans, no tagged fields), so a
    longer body starting with four zero bytes can only be this bug: it is
    decoded as if the placeholder were the single byte it stands for.
    """

    def decode_metadata(buf: bytes, pos: int = 0) -> Fields:
        if len(buf) - pos > 4 and buf[pos:pos + 4] == _FOUR_ZEROS:
            return decode(b"".join((buf[:pos + 1], buf[pos + 4:])), pos)
        return decode(buf, pos)

    decode_metadata.__doc__ = decode.__doc__
    return decode_metadata


def response_decoder(api_key: int, version: int) -> Callable[[bytes, int], Fields]:
    """C{decode(buf, offset) -> dict} for a response body (tests and clients)."""
    return compiler.decoder(_lookup(RESPONSE_SCHEMAS, api_key, version), version)


def response_encoder(api_key: int, version: int) -> Callable[[Mapping[str, Any]], list[Chunk]]:
    """C{encode(dict) -> list[Chunk]} for a response body (big records, and file ranges, are their own chunk)."""
    return compiler.encoder(_lookup(RESPONSE_SCHEMAS, api_key, version), version)


def request_encoder(api_key: int, version: int) -> Callable[[Mapping[str, Any]], bytes]:
    """C{encode(dict) -> bytes} for a request body (tests, benchmarks, clients)."""
    encode = compiler.encoder(_lookup(SCHEMAS, api_key, version), version)

    def encode_request(message: Mapping[str, Any]) -> bytes:
        return joined(encode(message))

    encode_request.__doc__ = encode.__doc__
    return encode_request


def joined(chunks: list[Chunk]) -> bytes:
    """The bytes of encoded C{chunks}, a file range's read from its file."""
    if len(chunks) == 1:
        only = chunks[0]
        if isinstance(only, bytes):
            return only
    return b"".join(c.read() if isinstance(c, FileRecords) else c for c in chunks)


def is_flexible_request(api_key: int, version: int) -> bool:
    """True if this request version uses the flexible encoding (request header v2)."""
    message = SCHEMAS.get(api_key)
    return message is not None and message.is_flexible(version)


def data_decoder(name: str, version: int) -> Callable[[bytes, int], Fields]:
    """C{decode(buf, offset) -> dict} for a data message body (after its int16 version)."""
    return compiler.decoder(_lookup(DATA_SCHEMAS, name, version), version)


def data_encoder(name: str, version: int) -> Callable[[Mapping[str, Any]], bytes]:
    """C{encode(dict) -> bytes} for a data message body (without its int16 version)."""
    encode = compiler.encoder(_lookup(DATA_SCHEMAS, name, version), version)

    def encode_data_body(message: Mapping[str, Any]) -> bytes:
        return joined(encode(message))

    return encode_data_body


def decode_data(name: str, buf: bytes) -> tuple[int, Fields]:
    """Decode a whole data message (int16 version, then body) into C{(version, dict)}.

    As Kafka does, a version newer than the newest known one is read with the
    newest schema (new versions only append fields) and the bytes it does not
    know at the end are ignored.
    """
    message = DATA_SCHEMAS.get(name)
    if message is None:
        raise UnknownMessage(f"no data message {name!r}")
    if len(buf) < 2:
        raise DecodeError(f"{name}: missing version")
    version = INT16.unpack_from(buf, 0)[0]
    if version < message.versions.low:
        raise DecodeError(f"{name}: unsupported version {version}")
    if version > message.versions.high:
        return version, compiler.decoder(message, message.versions.high, True)(buf, 2)
    return version, compiler.decoder(message, version)(buf, 2)


def encode_data(name: str, version: int, message: Mapping[str, Any]) -> bytes:
    """Encode a whole data message: int16 version, then body."""
    return INT16.pack(version) + data_encoder(name, version)(message)


def compile_all() -> int:
    """Compile every encoder and decoder now; return how many functions were built."""
    return compiler.compile_all(
        list(SCHEMAS.values()) + list(RESPONSE_SCHEMAS.values()) + list(DATA_SCHEMAS.values())
    )
