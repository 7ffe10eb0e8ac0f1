# -*- test-case-name: tests.server.test_codecs -*-
"""The per-(api key, version) codec cache and response framing.

Compiled codecs come from L{twisted_kafka.protocol.messages}; this module
keeps the pair a connection needs for each API version (request decoder,
response encoder) so the request path looks it up with one dict access.
"""

from __future__ import annotations

import struct
from typing import Callable

from twisted_kafka.protocol import headers as wire_headers
from twisted_kafka.protocol import messages
from twisted_kafka.protocol.compiler import Chunk
from twisted_kafka.protocol.messages import Fields

_SIZE = struct.Struct(">i")

RequestDecoder = Callable[[bytes, int], Fields]
ResponseEncoder = Callable[[Fields], list[Chunk]]
#: Turns a response body into the chunks of one whole response frame.
ResponseFramer = Callable[[Fields], list[Chunk]]
Codec = tuple[RequestDecoder, ResponseEncoder]

#: (api key, version) -> (request decoder, response encoder), filled on first use.
_codecs: dict[tuple[int, int], Codec] = {}


def codec_for(api_key: int, version: int) -> Codec:
    """Return the request decoder and response encoder of one API version.

    @param api_key: the API's number.
    @param version: a version the schema defines for it.
    @return: C{(decode, encode)}: C{decode(frame, offset)} returns the request
        body, C{encode(body)} the response body's chunks.
    """
    codec = _codecs.get((api_key, version))
    if codec is None:
        codec = (messages.request_decoder(api_key, version),
                 messages.response_encoder(api_key, version))
        _codecs[(api_key, version)] = codec
    return codec


def response_framer(correlation_id: int, api_key: int, version: int) -> ResponseFramer:
    """Return a function framing one response body: size prefix, header, body.

    @param correlation_id: the request's correlation id, echoed in the header.
    @param api_key: the API answered (it picks the response header version).
    @param version: the version the body is encoded with.
    """
    response_header = wire_headers.response_header(correlation_id, api_key, version)
    encode = codec_for(api_key, version)[1]

    def frame_of(body: Fields) -> list[Chunk]:
        chunks = encode(body)
        size = len(response_header)
        for c in chunks:
            size += len(c)
        return [_SIZE.pack(size), response_header, *chunks]

    return frame_of
