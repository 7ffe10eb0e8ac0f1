# -*- test-case-name: tests.records.test_golden -*-
"""Interoperability with kafka-python's RecordBatch v2 reader and builder.

Two kinds of test: frozen batches (bytes written once by kafka-python
3.0.12's C{DefaultRecordBatchBuilder}, kept here as hex, so that a change on
either side shows up as a failure), and live round trips through
kafka-python's builder and reader in both directions for every codec.

kafka-python needs the C{python-snappy} module for snappy, which is not
installed; a shim over cramjam's raw snappy stands in for it, so that the
xerial framing tested is kafka-python's own.
"""

from __future__ import annotations

from types import SimpleNamespace

import cramjam
import kafka.codec
from kafka.record.default_records import DefaultRecordBatch, DefaultRecordBatchBuilder
from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.records.batch import split_batches, validate_produce_records
from twisted_kafka.records.compression import compress
from twisted_kafka.records.record import Record, build_batch, iter_records

from ._helpers import fix_crc, with_payload

CAP = 1 << 20
CODECS = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}

#: Two records: (b"key", b"value" * 10, [("h1", b"v1"), ("h2", None)]) at
#: 1700000000000, then (None, b"value" * 10, []) at 1700000000005.
FROZEN = {
    "none": (
        "0000000000000000000000b1000000000251d48ec40000000000010000018bcfe568000000018bcf"
        "e56805ffffffffffffffffffffffffffff000000028a01000000066b65796476616c756576616c75"
        "6576616c756576616c756576616c756576616c756576616c756576616c756576616c756576616c75"
        "65040468310476310468320170000a02016476616c756576616c756576616c756576616c75657661"
        "6c756576616c756576616c756576616c756576616c756576616c756500"
    ),
    "gzip": (
        "00000000000000000000006900000000022e46cb840001000000010000018bcfe568000000018bcf"
        "e56805ffffffffffffffffffffffffffff000000021f8b08001a46066b02ffeb6264606060cb4ead"
        "4c294bcc294d25896061c93064293364c930622c60e0626224c3080600e0819f6a80000000"
    ),
    "snappy": (
        "0000000000000000000000700000000002d8466b860002000000010000018bcfe568000000018bcf"
        "e56805ffffffffffffffffffffffffffff0000000282534e41505059000000000100000001000000"
        "2b8001388a01000000066b65796476616c7565b205003c040468310476310468320170000a0201ca"
        "43000000"
    ),
    "lz4": (
        "0000000000000000000000770000000002f27a66a20003000000010000018bcfe568000000018bcf"
        "e56805ffffffffffffffffffffffffffff0000000204224d18684080000000000000007d2f000000"
        "ff008a01000000066b65796476616c756505001aff01040468310476310468320170000a02014300"
        "1c50616c75650000000000"
    ),
    "zstd": (
        "00000000000000000000006500000000027e3017cc0004000000010000018bcfe568000000018bcf"
        "e56805ffffffffffffffffffffffffffff0000000228b52ffd20805d010004028a01000000066b65"
        "796476616c7565040468310476310468320170000a02010002006084731166a903"
    ),
}
FROZEN_RECORDS = [
    Record(0, 1700000000000, b"key", b"value" * 10, [("h1", b"v1"), ("h2", None)]),
    Record(1, 1700000000005, None, b"value" * 10, []),
]

SAMPLE = [
    (b"k%d" % (i,), b"payload %d " % (i,) * 30 if i % 3 else None,
     [("h", b"x" * i)] if i % 2 else [], 1_700_000_000_000 + i)
    for i in range(40)
]


def snappy_shim() -> SimpleNamespace:
    """A stand-in for the python-snappy module, over cramjam's raw snappy."""
    return SimpleNamespace(
        compress=lambda data: bytes(cramjam.snappy.compress_raw(bytes(data))),
        decompress=lambda data: bytes(cramjam.snappy.decompress_raw(bytes(data))),
    )


def kafka_python_batch(codec: int, records: list, **producer: int) -> bytes:
    """C{records} as kafka-python's builder writes them."""
    builder = DefaultRecordBatchBuilder(
        magic=2, compression_type=codec, is_transactional=False,
        producer_id=producer.get("producer_id", -1),
        producer_epoch=producer.get("producer_epoch", -1),
        base_sequence=producer.get("base_sequence", -1), batch_size=1 << 24,
    )
    for offset, (key, value, headers, timestamp) in enumerate(records):
        builder.append(offset, timestamp=timestamp, key=key, value=value, headers=headers)
    return bytes(builder.build())


def kafka_python_read(data: bytes) -> list[tuple]:
    """The records of C{data} as kafka-python's reader sees them (CRC checked)."""
    batch = DefaultRecordBatch(bytearray(data))
    if not batch.validate_crc():
        raise AssertionError("kafka-python finds the CRC wrong")
    return [(r.offset, r.timestamp, r.key, r.value, r.headers) for r in batch]


def our_read(data: bytes) -> list[tuple]:
    """The records of C{data} as we see them, after the full produce check."""
    validate_produce_records(data, full=True, max_decompressed=CAP)
    [(start, end, header)] = split_batches(data)
    return [tuple(r) for r in iter_records(data[start:end], header, CAP)]


class FrozenBatchTests(SynchronousTestCase):
    """Bytes kafka-python wrote read back exactly."""

    def test_frozen(self) -> None:
        """Each frozen batch passes every check and yields the two records."""
        for name, hexdata in FROZEN.items():
            data = bytes.fromhex(hexdata)
            [(start, end, header)] = validate_produce_records(data, full=True, max_decompressed=CAP)
            self.assertEqual((start, end, header.codec), (0, len(data), CODECS[name]))
            self.assertEqual(list(iter_records(data, header, CAP)), FROZEN_RECORDS, name)

    def test_our_encoding_matches(self) -> None:
        """Our builder writes the frozen uncompressed batch byte for byte
        (kafka-python writes partitionLeaderEpoch 0, so we ask for it)."""
        fields = [(r.key, r.value, r.headers, r.timestamp) for r in FROZEN_RECORDS]
        self.assertEqual(build_batch(fields, partition_leader_epoch=0).hex(), FROZEN["none"])


class LiveInteropTests(SynchronousTestCase):
    """Round trips through kafka-python's builder and reader, every codec."""

    def setUp(self) -> None:
        """Give kafka-python a snappy module."""
        self.patch(kafka.codec, "snappy", snappy_shim())

    def expected(self, base_offset: int = 0) -> list[tuple]:
        """SAMPLE as read back, with offsets from C{base_offset}."""
        return [(base_offset + i, t, k, v, list(h)) for i, (k, v, h, t) in enumerate(SAMPLE)]

    def test_kafka_python_to_us(self) -> None:
        """Batches kafka-python builds pass our full checks and read exactly."""
        for name, codec in CODECS.items():
            data = kafka_python_batch(codec, SAMPLE, producer_id=3, producer_epoch=1, base_sequence=77)
            self.assertEqual(split_batches(data)[0][2].codec, codec, name)
            self.assertEqual(our_read(data), self.expected(), name)

    def test_us_to_kafka_python(self) -> None:
        """Batches we build read exactly in kafka-python, CRC included."""
        for name, codec in CODECS.items():
            data = build_batch(SAMPLE, codec=codec, base_offset=1000)
            self.assertEqual(kafka_python_read(data), self.expected(1000), name)

    def test_raw_snappy_to_kafka_python(self) -> None:
        """A batch with one raw snappy block (librdkafka's framing) reads in both."""
        plain = build_batch(SAMPLE)
        data = with_payload(plain, compress(2, plain[61:], xerial=False))
        data = bytes(fix_crc(bytearray(data[:21]) + b"\x00\x02" + data[23:]))
        self.assertEqual(our_read(data), self.expected())
        self.assertEqual(kafka_python_read(data), self.expected())

    def test_kafka_python_sees_log_append_time(self) -> None:
        """After set_log_append_time kafka-python sees the new timestamp on every record."""
        from twisted_kafka.records.batch import set_log_append_time

        data = bytearray(build_batch(SAMPLE, codec=3))
        set_log_append_time(data, 0, 1_234_567_890_123)
        self.assertEqual({r[1] for r in kafka_python_read(bytes(data))}, {1_234_567_890_123})
