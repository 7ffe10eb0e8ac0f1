# -*- test-case-name: tests.e2e.test_produce -*-
"""Real clients driving the real broker: produce, read back, compare byte for byte.

Records are L{Outgoing} (what a test sends) and L{Stored} (what a broker
acknowledged or a consumer read: topic, partition, offset, key, value,
headers, timestamp).  L{make_records} builds a few thousand varied ones (null
and empty keys and values, binary bytes, repeated and null-valued headers,
explicit timestamps out of order).  One producer function per client
(L{produce_confluent}, L{produce_kafka_python}, L{produce_aiokafka},
L{produce_kcat}) sends them to one partition and returns what was
acknowledged, in send order; L{read_partition} reads a partition back with a
named client; L{assert_same_records} compares two lists byte for byte.

L{RawClient} speaks the wire protocol over a plain socket with the project's
codec, for what a client library will not send (malformed batches) or hides
(error codes, long-poll timing of one request).
"""

from __future__ import annotations

import asyncio
import random
import socket
import struct
import subprocess
import time
from typing import Any, Callable, Iterable, NamedTuple, Sequence

from twisted.trial.unittest import SynchronousTestCase

from tests.e2e.harness import KCAT, BrokerProcess
from tests.e2e.shared import shared_broker
from twisted_kafka.protocol import headers as wire_headers
from twisted_kafka.protocol import messages
from twisted_kafka.protocol.primitives import read_tagged_fields

#: What a header is: a name and a value that may be null.
Header = tuple[str, "bytes | None"]

#: The clients L{read_partition} knows.
CONSUMERS = ("confluent", "kafka-python", "aiokafka", "kcat")
#: Compression codecs by the name every client uses.
CODECS = ("none", "gzip", "snappy", "lz4", "zstd")
#: librdkafka (confluent-kafka, kcat) logs only critical events: reconnection
#: chatter after a restart or a dropped connection would bury test output.
QUIET = {"log_level": 2}
#: kcat's delimiters between key and value, and between records (kcat -P).
KCAT_KEY_DELIMITER = b"\x1f"
KCAT_RECORD_DELIMITER = b"\x1e"
#: kcat -C output per record: a line of numbers, the key and value bytes, the
#: headers as kcat prints them, and an end marker (header values are bytes).
KCAT_FORMAT = r"%o %T %K %S\n%k%s%h\x01\x02kcat-end\x02\x01"
KCAT_END = b"\x01\x02kcat-end\x02\x01"
#: The one pseudo-header of a record read by kcat: its headers as printed.
KCAT_HEADERS = "kcat %h"


class Outgoing(NamedTuple):
    """A record to send; C{timestamp} C{None} lets the client stamp it."""

    key: bytes | None
    value: bytes | None
    headers: tuple[Header, ...]
    timestamp: int | None


class Stored(NamedTuple):
    """A record as acknowledged or as read back.

    C{offset} is -1 when the producer could not know it (acks=0, kcat);
    C{timestamp} is C{None} when the client stamped it and did not say.
    """

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[Header, ...]
    timestamp: int | None


def codec_tests(prefix: str, doc: str) -> Callable[[type], type]:
    """Class decorator: add a test per codec calling C{self.check_codec(codec)}.

    The tests are named C{test_<prefix>_<codec>}; C{doc} is their docstring,
    with C{{codec}} replaced by the codec's name.
    """
    def add(cls: type) -> type:
        for codec in CODECS:
            def test(self: Any, codec: str = codec) -> None:
                self.check_codec(codec)
            test.__name__ = f"test_{prefix}_{codec}"
            test.__doc__ = doc.format(codec=codec)
            setattr(cls, test.__name__, test)
        return cls
    return add


class SharedBrokerCase(SynchronousTestCase):
    """A test case whose class shares one broker, started on first use.

    Set C{broker_options} (keyword arguments of L{BrokerProcess}) on the
    class.  Tests that kill or restart their broker use L{BrokerTestMixin}.
    """

    broker_options: dict[str, Any] = {}

    @property
    def broker(self) -> BrokerProcess:
        """The broker of this test class."""
        cls = type(self)
        return shared_broker(f"{cls.__module__}.{cls.__qualname__}", **self.broker_options)

    def topic_name(self) -> str:
        """Return a topic name of this test's own (from its method name)."""
        return self.id().rsplit(".", 1)[-1].replace("_", "-")


class ProduceFailed(AssertionError):
    """A producer reported delivery failures (or did not finish in time)."""


def make_records(count: int, tag: str, *, null_header_values: bool = True,
                 kcat_safe: bool = False, base_timestamp: int | None = None) -> list[Outgoing]:
    """Return C{count} varied records, the same for the same arguments.

    Keys carry C{tag} and the record's index, so every record is unique.
    Values are null (every 7th), empty, small or up to a few KiB, random or
    repetitive (so codecs have something to compress).  Headers are absent,
    one, or several with a repeated name; timestamps are explicit, an hour
    old (retention keeps them), and not monotonic.

    @param null_header_values: include null header values (kafka-python
        cannot send them).
    @param kcat_safe: records C{kcat -P} can send: no delimiter bytes in keys
        or values, no empty key or value (its C{-Z} turns empty into null),
        the same headers on every record (its C{-H} applies to all), no
        timestamps (it cannot set them).
    @param base_timestamp: the timestamps' base; defaults to an hour ago.
    """
    rng = random.Random(f"{tag}/{count}/{null_header_values}/{kcat_safe}")
    if base_timestamp is None:
        base_timestamp = (int(time.time()) - 3600) * 1000
    forbidden = KCAT_KEY_DELIMITER + KCAT_RECORD_DELIMITER

    def payload(size: int) -> bytes:
        if rng.random() < 0.5:
            data = rng.randbytes(size)
        else:
            data = (rng.randbytes(rng.randint(1, 16)) * (size // 4 + 1))[:size]
        if kcat_safe:
            data = data.translate(None, forbidden) or b"x"
        return data

    records = []
    for i in range(count):
        key: bytes | None = f"{tag}-{i:06d}-".encode() + payload(rng.randint(0, 12))
        value: bytes | None
        if i % 7 == 3:
            value = None
        elif i % 17 == 4 and not kcat_safe:
            value = b""
        elif i % 97 == 11:
            value = payload(rng.randint(4000, 9000))
        else:
            value = payload(rng.randint(1, 400))
        if i % 13 == 5 and value is not None and not kcat_safe:
            key = None  # kafka-python refuses a record with neither
        headers: tuple[Header, ...]
        if kcat_safe:
            headers = (("source", b"kcat"), ("tag", tag.encode()))
        elif i % 5 == 0:
            headers = ()
        elif i % 5 == 1:
            headers = (("trace-id", rng.randbytes(8)),)
        else:
            headers = (("h", f"{i}".encode()), ("h", b""), ("bin", rng.randbytes(3)))
            if null_header_values and i % 3 == 0:
                headers += (("null", None),)
        timestamp = None if kcat_safe else base_timestamp + (i * 7919) % 100_000
        records.append(Outgoing(key, value, headers, timestamp))
    return records


def _known_offset(offset: int | None) -> int:
    """Map a client's "no offset" (C{None}, or librdkafka's -1001) to -1."""
    return offset if offset is not None and offset >= 0 else -1


def produce_confluent(bootstrap: str, topic: str, records: Sequence[Outgoing], *,
                      partition: int = 0, config: dict[str, Any] | None = None,
                      timeout: float = 60) -> list[Stored]:
    """Produce with confluent-kafka (librdkafka); return the acknowledged records.

    @param config: producer settings over C{bootstrap.servers}.
    @raise ProduceFailed: a delivery failed or did not complete in C{timeout}.
    """
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap, **QUIET, **(config or {})})
    acked: list[Stored | None] = [None] * len(records)
    failures: list[str] = []

    def delivered(index: int) -> Callable[[Any, Any], None]:
        def on_delivery(error: Any, message: Any) -> None:
            if error is not None:
                failures.append(f"record {index}: {error}")
                return
            record = records[index]
            acked[index] = Stored(message.topic(), message.partition(),
                                  _known_offset(message.offset()), record.key,
                                  record.value, record.headers, record.timestamp)
        return on_delivery

    for index, record in enumerate(records):
        kwargs: dict[str, Any] = {}
        if record.timestamp is not None:
            kwargs["timestamp"] = record.timestamp
        while True:
            try:
                producer.produce(topic, value=record.value, key=record.key,
                                 headers=list(record.headers), partition=partition,
                                 on_delivery=delivered(index), **kwargs)
                break
            except BufferError:
                producer.poll(0.1)
        producer.poll(0)
    left = producer.flush(timeout)
    if left or failures:
        raise ProduceFailed(f"confluent-kafka: {left} undelivered, failures: {failures[:5]}")
    return [a for a in acked if a is not None]


def produce_kafka_python(bootstrap: str, topic: str, records: Sequence[Outgoing], *,
                         partition: int = 0, timeout: float = 60,
                         **config: Any) -> list[Stored]:
    """Produce with kafka-python; return the acknowledged records.

    @param config: C{KafkaProducer} keyword arguments (its defaults otherwise:
        idempotence on, acks=all).
    """
    from kafka import KafkaProducer

    producer = KafkaProducer(bootstrap_servers=bootstrap, **config)
    try:
        futures = [producer.send(topic, value=r.value, key=r.key, headers=list(r.headers),
                                 partition=partition, timestamp_ms=r.timestamp)
                   for r in records]
        producer.flush(timeout)
        acked = []
        for record, future in zip(records, futures):
            try:
                metadata = future.get(timeout)
            except Exception as e:
                raise ProduceFailed(f"kafka-python: {e!r}") from e
            acked.append(Stored(metadata.topic, metadata.partition,
                                _known_offset(metadata.offset), record.key, record.value,
                                record.headers, record.timestamp))
        return acked
    finally:
        producer.close(timeout=10)


def produce_aiokafka(bootstrap: str, topic: str, records: Sequence[Outgoing], *,
                     partition: int = 0, timeout: float = 60,
                     **config: Any) -> list[Stored]:
    """Produce with aiokafka (on a fresh event loop); return the acknowledged records.

    @param config: C{AIOKafkaProducer} keyword arguments, e.g.
        C{compression_type}.
    """
    from aiokafka import AIOKafkaProducer

    async def run() -> list[Stored]:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, **config)
        await producer.start()
        try:
            futures = [await producer.send(topic, value=r.value, key=r.key,
                                           headers=list(r.headers), partition=partition,
                                           timestamp_ms=r.timestamp)
                       for r in records]
            metadata = await asyncio.gather(*futures)
        finally:
            await producer.stop()
        return [Stored(m.topic, m.partition, _known_offset(m.offset), r.key, r.value,
                       r.headers, r.timestamp) for r, m in zip(records, metadata)]

    try:
        return asyncio.run(asyncio.wait_for(run(), timeout))
    except Exception as e:
        raise ProduceFailed(f"aiokafka: {e!r}") from e


def produce_kcat(bootstrap: str, topic: str, records: Sequence[Outgoing], *,
                 partition: int = 0, args: Iterable[str] = (),
                 timeout: float = 60) -> list[Stored]:
    """Produce with C{kcat -P} from stdin; return the records, offsets unknown.

    The records must come from L{make_records} with C{kcat_safe}: their
    common headers become C{-H} options.  kcat exits 0 only when every
    record was delivered.

    @param args: more kcat arguments (C{-z gzip}, C{-X acks=all}).
    """
    assert KCAT is not None
    common = {r.headers for r in records}
    if len(common) != 1 or any(r.timestamp is not None for r in records):
        raise ValueError("kcat needs make_records(kcat_safe=True) records")
    command = [KCAT, "-P", "-b", bootstrap, "-t", topic, "-p", str(partition),
               "-K", r"\x1f", "-D", r"\x1e", "-Z", *args]
    for name, value in next(iter(common)):
        command += ["-H", f"{name}={(value or b'').decode()}"]
    stdin = b"".join(
        b"".join((r.key or b"", KCAT_KEY_DELIMITER, r.value or b"", KCAT_RECORD_DELIMITER))
        for r in records)
    result = subprocess.run(command, input=stdin, capture_output=True, timeout=timeout)
    if result.returncode != 0:
        raise ProduceFailed(f"kcat -P exited {result.returncode}: "
                            f"{result.stderr.decode(errors='replace')}")
    return [Stored(topic, partition, -1, r.key, r.value, r.headers, None) for r in records]


class ConsumeFailed(AssertionError):
    """A consumer reported an error or did not reach the end in time."""


def read_partition(client: str, bootstrap: str, topic: str, partition: int = 0, *,
                   start: int | None = None, timeout: float = 60,
                   config: dict[str, Any] | None = None) -> list[Stored]:
    """Read one partition with a real consumer, up to its current high watermark.

    @param client: one of L{CONSUMERS}.
    @param start: the first offset to read, or C{None} for the beginning.
    @param config: extra consumer settings (confluent-kafka keys, kcat
        C{-X} properties, or kafka-python/aiokafka keyword arguments).
    @raise ConsumeFailed: the consumer reported an error, or stopped short.
    """
    readers: dict[str, Callable[..., list[Stored]]] = {
        "confluent": _read_confluent, "kafka-python": _read_kafka_python,
        "aiokafka": _read_aiokafka, "kcat": _read_kcat,
    }
    return readers[client](bootstrap, topic, partition, start, timeout, dict(config or {}))


def _headers(raw: Iterable[tuple[str, bytes | None]] | None) -> tuple[Header, ...]:
    return tuple((name, value) for name, value in raw or ())


def from_confluent(message: Any) -> Stored:
    """Return a record a confluent-kafka consumer returned as a L{Stored}."""
    return Stored(message.topic(), message.partition(), message.offset(), message.key(),
                  message.value(), _headers(message.headers()), message.timestamp()[1])


def _read_confluent(bootstrap: str, topic: str, partition: int, start: int | None,
                    timeout: float, config: dict[str, Any]) -> list[Stored]:
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "e2e-assigned",
                         "enable.auto.commit": False, "enable.auto.offset.store": False,
                         **QUIET, **config})
    try:
        _, end = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10,
                                                cached=False)
        consumer.assign([TopicPartition(topic, partition,
                                        OFFSET_BEGINNING if start is None else start)])
        out: list[Stored] = []
        deadline = time.monotonic() + timeout
        while (not out or out[-1].offset + 1 < end) and time.monotonic() < deadline:
            for m in consumer.consume(1000, timeout=0.5):
                if m.error():
                    raise ConsumeFailed(f"confluent-kafka: {m.error()}")
                out.append(from_confluent(m))
        if end and (not out or out[-1].offset + 1 < end):
            raise ConsumeFailed(f"confluent-kafka read {len(out)} records, not up to {end}")
        return out
    finally:
        consumer.close()


def _read_kafka_python(bootstrap: str, topic: str, partition: int, start: int | None,
                       timeout: float, config: dict[str, Any]) -> list[Stored]:
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                             enable_auto_commit=False,
                             **{"auto_offset_reset": "earliest", **config})
    try:
        tp = TopicPartition(topic, partition)
        consumer.assign([tp])
        end = consumer.end_offsets([tp])[tp]
        if start is None:
            consumer.seek_to_beginning(tp)
        else:
            consumer.seek(tp, start)
        out: list[Stored] = []
        deadline = time.monotonic() + timeout
        while consumer.position(tp) < end and time.monotonic() < deadline:
            for m in consumer.poll(timeout_ms=500).get(tp, []):
                out.append(Stored(m.topic, m.partition, m.offset, m.key, m.value,
                                  _headers(m.headers), m.timestamp))
        if consumer.position(tp) < end:
            raise ConsumeFailed(f"kafka-python read {len(out)} records, not up to {end}")
        return out
    finally:
        consumer.close()


def _read_aiokafka(bootstrap: str, topic: str, partition: int, start: int | None,
                   timeout: float, config: dict[str, Any]) -> list[Stored]:
    from aiokafka import AIOKafkaConsumer, TopicPartition

    async def run() -> list[Stored]:
        # With its default reset policy, latest, the reset aiokafka starts on
        # assign() can finish after seek_to_beginning() and win (a race in
        # aiokafka 0.14's Fetcher._reset_offsets_async): reset to earliest.
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                                    enable_auto_commit=False,
                                    **{"auto_offset_reset": "earliest", **config})
        await consumer.start()
        try:
            tp = TopicPartition(topic, partition)
            consumer.assign([tp])
            end = (await consumer.end_offsets([tp]))[tp]
            if start is None:
                await consumer.seek_to_beginning(tp)
            else:
                consumer.seek(tp, start)
            out: list[Stored] = []
            while await consumer.position(tp) < end:
                batch = await consumer.getmany(tp, timeout_ms=500)
                for m in batch.get(tp, []):
                    out.append(Stored(m.topic, m.partition, m.offset, m.key, m.value,
                                      _headers(m.headers), m.timestamp))
            return out
        finally:
            await consumer.stop()

    try:
        return asyncio.run(asyncio.wait_for(run(), timeout))
    except asyncio.TimeoutError:
        raise ConsumeFailed(f"aiokafka did not reach the end in {timeout} s") from None


def _read_kcat(bootstrap: str, topic: str, partition: int, start: int | None,
               timeout: float, config: dict[str, Any]) -> list[Stored]:
    """C{kcat -C -e}: headers come back as printed (see L{parse_kcat_output})."""
    assert KCAT is not None
    command = [KCAT, "-C", "-b", bootstrap, "-t", topic, "-p", str(partition), "-e",
               "-o", "beginning" if start is None else str(start), "-f", KCAT_FORMAT]
    for key, value in config.items():
        command += ["-X", f"{key}={value}"]
    result = subprocess.run(command, capture_output=True, timeout=timeout)
    if result.returncode != 0:
        raise ConsumeFailed(f"kcat -C exited {result.returncode}: "
                            f"{result.stderr.decode(errors='replace')}")
    return parse_kcat_output(topic, partition, result.stdout)


def parse_kcat_output(topic: str, partition: int, data: bytes) -> list[Stored]:
    """Parse what C{kcat -C -f KCAT_FORMAT} printed.

    Each record is a line C{offset timestamp keylen valuelen}, exactly
    keylen and valuelen bytes (-1: null), then the headers as kcat prints
    them (C{name=value,...}, which cannot be split back reliably) up to
    L{KCAT_END}: they become the one header L{KCAT_HEADERS}.
    """
    out = []
    pos = 0
    while pos < len(data):
        newline = data.index(b"\n", pos)
        offset, timestamp, key_size, value_size = data[pos:newline].split(b" ")
        pos = newline + 1
        fields = []
        for size in (int(key_size), int(value_size)):
            fields.append(None if size < 0 else data[pos:pos + size])
            pos += max(size, 0)
        end = data.index(KCAT_END, pos)
        headers = ((KCAT_HEADERS, data[pos:end]),)
        pos = end + len(KCAT_END)
        out.append(Stored(topic, partition, int(offset), fields[0], fields[1], headers,
                          int(timestamp)))
    return out


def as_kcat_sees(record: Stored) -> Stored:
    """Return C{record} with its headers as kcat prints them.

    A null value prints as C{NULL}, and a value prints up to its first NUL
    byte (kcat formats header values with printf's C{%.*s}).
    """
    printed = b",".join(
        b"%s=%s" % (name.encode(), b"NULL" if value is None else value.split(b"\0", 1)[0])
        for name, value in record.headers)
    return record._replace(headers=((KCAT_HEADERS, printed),))


def _short(record: Stored | None) -> str:
    text = repr(record)
    return text if len(text) < 400 else text[:400] + "..."


def assert_same_records(case: SynchronousTestCase, expected: Sequence[Stored],
                        got: Sequence[Stored], *, what: str = "") -> None:
    """Fail C{case} unless C{got} is exactly C{expected}, in order, byte for byte.

    Offsets of C{expected} that are -1 (unknown) and timestamps that are
    C{None} are not compared; those of C{got} must still be contiguous per
    partition.  So: every expected record is present exactly once, in order,
    and nothing else is.
    """
    prefix = f"{what}: " if what else ""
    previous: dict[tuple[str, int], int] = {}
    for index, record in enumerate(got):
        tp = (record.topic, record.partition)
        if tp in previous and record.offset != previous[tp] + 1:
            case.fail(f"{prefix}offset {record.offset} follows {previous[tp]} in {tp} "
                      f"(record {index})")
        previous[tp] = record.offset
    for index, (want, have) in enumerate(zip(expected, got)):
        if want.offset < 0:
            want = want._replace(offset=have.offset)
        if want.timestamp is None:
            want = want._replace(timestamp=have.timestamp)
        if want != have:
            case.fail(f"{prefix}record {index} differs:\n expected {_short(want)}\n"
                      f"      got {_short(have)}")
    if len(expected) != len(got):
        extra = got[len(expected)] if len(got) > len(expected) else None
        missing = expected[len(got)] if len(expected) > len(got) else None
        case.fail(f"{prefix}expected {len(expected)} records, got {len(got)} "
                  f"(first extra {_short(extra)}, first missing {_short(missing)})")


def assert_acked_in_order(case: SynchronousTestCase, acked: Sequence[Stored]) -> None:
    """Fail C{case} unless known acknowledged offsets rise in send order, per partition."""
    last: dict[tuple[str, int], int] = {}
    for record in acked:
        if record.offset < 0:
            continue
        tp = (record.topic, record.partition)
        if record.offset <= last.get(tp, -1):
            case.fail(f"acknowledged offset {record.offset} of {tp} after {last[tp]}")
        last[tp] = record.offset


# --- The wire protocol over a plain socket -----------------------------------

_SIZE = struct.Struct(">i")
PRODUCE, FETCH, LIST_OFFSETS, METADATA, API_VERSIONS, INIT_PRODUCER_ID = 0, 1, 2, 3, 18, 22


class RawClient:
    """A blocking Kafka connection using the project's codec.

    Requests are encoded with L{messages.request_encoder}; responses decoded
    with L{messages.response_decoder}.  Every socket operation times out, so
    a broker that does not answer fails the test instead of hanging it.
    """

    def __init__(self, bootstrap: str, timeout: float = 30, unix_path: str | None = None) -> None:
        """Connect to C{host:port}, or to the unix socket C{unix_path} if given."""
        if unix_path is not None:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            self.sock.connect(unix_path)
        else:
            host, port = bootstrap.rsplit(":", 1)
            self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        self._correlation = 0
        self._sent: dict[int, tuple[int, int]] = {}

    def close(self) -> None:
        """Close the socket."""
        self.sock.close()

    def __enter__(self) -> "RawClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def frame(self, api_key: int, version: int, body: bytes) -> tuple[int, bytes]:
        """Return (correlation id, a whole request frame) for an encoded body."""
        self._correlation += 1
        header = wire_headers.encode_request_header(
            wire_headers.RequestHeader(api_key, version, self._correlation, "e2e-raw"))
        payload = header + body
        self._sent[self._correlation] = (api_key, version)
        return self._correlation, _SIZE.pack(len(payload)) + payload

    def send(self, api_key: int, version: int, request: dict) -> int:
        """Send a request without waiting; return its correlation id."""
        body = messages.request_encoder(api_key, version)(request)
        correlation, data = self.frame(api_key, version, body)
        self.sock.sendall(data)
        return correlation

    def _read_exactly(self, size: int) -> bytes:
        chunks = []
        while size:
            chunk = self.sock.recv(min(size, 1 << 20))
            if not chunk:
                raise ConnectionError("connection closed by the broker")
            chunks.append(chunk)
            size -= len(chunk)
        return b"".join(chunks)

    def receive(self) -> tuple[int, dict]:
        """Read the next response; return (its correlation id, the decoded body)."""
        size = _SIZE.unpack(self._read_exactly(4))[0]
        frame = self._read_exactly(size)
        correlation = _SIZE.unpack_from(frame, 0)[0]
        api_key, version = self._sent.pop(correlation)
        pos = 4
        if wire_headers.response_header_version(api_key, version) == 1:
            _, pos = read_tagged_fields(frame, pos)
        return correlation, messages.response_decoder(api_key, version)(frame, pos)

    def request(self, api_key: int, version: int, request: dict) -> dict:
        """Send a request and return its decoded response."""
        correlation = self.send(api_key, version, request)
        got, response = self.receive()
        if got != correlation:
            raise AssertionError(f"response {got} to request {correlation}")
        return response

    def closed_by_peer(self) -> bool:
        """Return whether the broker closed the connection (reads EOF or reset)."""
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True


def produce_request(partitions: dict[tuple[str, int], bytes | None], *, acks: int = -1,
                    timeout_ms: int = 10_000) -> dict:
    """Return a Produce request body sending C{records} to each (topic, partition)."""
    topics: dict[str, list[dict]] = {}
    for (topic, index), records in partitions.items():
        topics.setdefault(topic, []).append({"index": index, "records": records})
    return {"transactional_id": None, "acks": acks, "timeout_ms": timeout_ms,
            "topic_data": [{"name": name, "partition_data": data}
                           for name, data in topics.items()]}


def produce_results(response: dict) -> dict[tuple[str, int], dict]:
    """Return a Produce response's partition entries by (topic, partition)."""
    return {(t["name"], p["index"]): p
            for t in response["responses"] for p in t["partition_responses"]}


def fetch_request(topic: str, partition: int, offset: int, *, max_wait_ms: int = 0,
                  min_bytes: int = 0, max_bytes: int = 50 << 20) -> dict:
    """Return a sessionless Fetch request body for one partition (v4-v12)."""
    return {"replica_id": -1, "max_wait_ms": max_wait_ms, "min_bytes": min_bytes,
            "max_bytes": max_bytes, "isolation_level": 0, "session_id": 0,
            "session_epoch": -1, "rack_id": "", "forgotten_topics_data": [],
            "topics": [{"topic": topic, "partitions": [
                {"partition": partition, "fetch_offset": offset, "log_start_offset": -1,
                 "partition_max_bytes": max_bytes, "current_leader_epoch": -1}]}]}


def fetch_partition(client: RawClient, topic: str, partition: int, offset: int,
                    version: int = 11, **options: Any) -> dict:
    """Fetch one partition; return its response entry."""
    response = client.request(FETCH, version, fetch_request(topic, partition, offset,
                                                             **options))
    return response["responses"][0]["partitions"][0]


def list_offset(client: RawClient, topic: str, partition: int, timestamp: int,
                version: int = 7) -> dict:
    """Send ListOffsets for one partition (-1 latest, -2 earliest); return its entry."""
    response = client.request(LIST_OFFSETS, version, {
        "replica_id": -1, "isolation_level": 0, "timeout_ms": 10_000,
        "topics": [{"name": topic, "partitions": [
            {"partition_index": partition, "timestamp": timestamp,
             "current_leader_epoch": -1}]}]})
    return response["topics"][0]["partitions"][0]


def read_log_bytes(client: RawClient, topic: str, partition: int) -> tuple[int, bytes]:
    """Return (high watermark, every stored batch's bytes) of a partition, via Fetch."""
    chunks: list[bytes] = []
    offset = list_offset(client, topic, partition, -2)["offset"]
    while True:
        entry = fetch_partition(client, topic, partition, offset)
        if entry["error_code"]:
            raise AssertionError(f"fetch of {topic}-{partition} at {offset}: "
                                 f"error {entry['error_code']}")
        data = entry["records"] or b""
        if not data:
            return entry["high_watermark"], b"".join(chunks)
        pos = 0
        while pos + 61 <= len(data):
            base, length = struct.unpack_from(">qi", data, pos)
            if pos + 12 + length > len(data):
                break
            last_delta = struct.unpack_from(">i", data, pos + 23)[0]
            chunks.append(data[pos:pos + 12 + length])
            offset = base + last_delta + 1
            pos += 12 + length
        if pos == 0:
            raise AssertionError(f"fetch of {topic}-{partition} at {offset}: no whole batch")


def stored_batch_headers(bootstrap: str, topic: str, partition: int = 0) -> list[Any]:
    """Return the header of every batch stored in a partition (read with Fetch)."""
    from twisted_kafka.records.batch import parse_header

    with RawClient(bootstrap) as client:
        _, data = read_log_bytes(client, topic, partition)
    headers = []
    pos = 0
    while pos < len(data):
        header = parse_header(data, pos)
        headers.append(header)
        pos += 12 + header.batch_length
    return headers
