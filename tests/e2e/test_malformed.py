# -*- test-case-name: tests.e2e.test_malformed -*-
"""Malformed record batches sent raw to the real broker: refused, log untouched.

Each test builds a valid batch with L{build_batch}, corrupts it (bad CRC,
truncated, a lying length, magic 0/1/3, bad header fields, a compression
bomb under C{record_validation = full}, ...) and sends it over a plain socket
in a hand-made Produce request, for partition 0, next to a valid batch for
partition 1 of the same topic.  Partition 0 must get the right error code
(and, from v8, an error message) and keep its log byte for byte (same high
watermark, same stored batches); partition 1 must still be appended; the
connection stays usable.  With acks=0 the broker closes the connection
instead of answering, as Kafka does.
"""

from __future__ import annotations

import struct
import time
import zlib
from typing import Any

from tests.e2e.clients import (
    API_VERSIONS, LIST_OFFSETS, PRODUCE, RawClient, SharedBrokerCase, list_offset, produce_request,
    produce_results, read_log_bytes)
from tests.records._helpers import fix_crc, patched
from twisted_kafka.errors import ErrorCode
from twisted_kafka.records.batch import compute_crc
from twisted_kafka.records.record import build_batch
from twisted_kafka.records.record_format import read_varint

#: Produce versions tried for every case: before error messages (7), the
#: first with them (8), the first flexible one (9) and the newest by name (12).
VERSIONS = (7, 8, 9, 12)
GZIP, SNAPPY, LZ4, ZSTD = 1, 2, 3, 4


def records(count: int, tag: str, size: int = 50) -> list[Any]:
    """Return C{count} records for L{build_batch}: key, value, headers, timestamp."""
    now = int(time.time() * 1000)
    return [(f"{tag}-{i}".encode(), bytes([i % 251]) * size, [("h", b"v")], now + i)
            for i in range(count)]


def valid_batch(tag: str, count: int = 5, codec: int = 0) -> bytes:
    """Return a valid batch of C{count} records."""
    return build_batch(records(count, tag), codec=codec)


class MalformedCase(SharedBrokerCase):
    """Sends one bad batch and one good one per request, and checks the outcome."""

    broker_options: dict[str, Any] = {"kafka": {"num_partitions": 2}}

    def setUp(self) -> None:
        """Create this test's topic with a batch already in each partition."""
        self.topic = self.topic_name()
        self.client = RawClient(self.broker.bootstrap)
        self.addCleanup(self.client.close)
        results = self.produce({(self.topic, 0): valid_batch("first"),
                                (self.topic, 1): valid_batch("first")}, version=9)
        self.assertEqual({r["error_code"] for r in results.values()}, {ErrorCode.NONE})

    def produce(self, partitions: dict[tuple[str, int], bytes | None], *, version: int,
                acks: int = -1) -> dict[tuple[str, int], dict]:
        """Send a Produce request on this test's connection; return its partitions."""
        return produce_results(self.client.request(
            PRODUCE, version, produce_request(partitions, acks=acks)))

    def assert_rejected(self, bad: bytes | None, code: ErrorCode,
                        versions: tuple[int, ...] = VERSIONS, good_codec: int = 0) -> None:
        """Send C{bad} to partition 0 and a good batch to partition 1, per version.

        Partition 0 gets C{code} (with a message from v8, none before) and
        keeps its log; partition 1 is appended at its high watermark.
        """
        for version in versions:
            _, before = read_log_bytes(self.client, self.topic, 0)
            hw0 = list_offset(self.client, self.topic, 0, -1)["offset"]
            hw1 = list_offset(self.client, self.topic, 1, -1)["offset"]
            results = self.produce({(self.topic, 0): bad,
                                    (self.topic, 1): valid_batch("good", 3, good_codec)},
                                   version=version)
            failed, appended = results[(self.topic, 0)], results[(self.topic, 1)]
            self.assertEqual((version, ErrorCode(failed["error_code"]).name),
                             (version, code.name))
            self.assertEqual(failed["base_offset"], -1)
            if version >= 8:
                self.assertTrue(failed["error_message"], f"v{version}: no error message")
            else:
                self.assertIsNone(failed["error_message"])
            self.assertEqual((appended["error_code"], appended["base_offset"]),
                             (ErrorCode.NONE, hw1))
            hw_after, after = read_log_bytes(self.client, self.topic, 0)
            self.assertEqual(hw_after, hw0)
            self.assertEqual(after, before)
            self.assertEqual(list_offset(self.client, self.topic, 1, -1)["offset"], hw1 + 3)


class MalformedBatchTests(MalformedCase):
    """Header-level validation (the default): every malformed batch is refused."""

    def test_bad_crc(self) -> None:
        """A flipped byte in the records: CORRUPT_MESSAGE."""
        batch = bytearray(valid_batch("crc"))
        batch[-3] ^= 0xFF
        self.assert_rejected(bytes(batch), ErrorCode.CORRUPT_MESSAGE)

    def test_bad_crc_in_header(self) -> None:
        """A changed header field covered by the CRC (maxTimestamp): CORRUPT_MESSAGE."""
        self.assert_rejected(patched(valid_batch("crc"), 35, "q", 1, crc=False),
                             ErrorCode.CORRUPT_MESSAGE)

    def test_truncated(self) -> None:
        """The last bytes missing: no whole batch, INVALID_RECORD (as Kafka 4)."""
        self.assert_rejected(valid_batch("cut")[:-10], ErrorCode.INVALID_RECORD)

    def test_truncated_header(self) -> None:
        """Only part of the 61-byte header: INVALID_RECORD."""
        self.assert_rejected(valid_batch("cut")[:30], ErrorCode.INVALID_RECORD)

    def test_length_too_long(self) -> None:
        """batchLength claiming more bytes than sent: INVALID_RECORD."""
        batch = valid_batch("long")
        self.assert_rejected(patched(batch, 8, "i", len(batch) - 12 + 100, crc=False),
                             ErrorCode.INVALID_RECORD)

    def test_length_too_short(self) -> None:
        """batchLength claiming fewer bytes than sent: the CRC fails, CORRUPT_MESSAGE."""
        batch = valid_batch("short")
        self.assert_rejected(patched(batch, 8, "i", len(batch) - 12 - 20, crc=False),
                             ErrorCode.CORRUPT_MESSAGE)

    def test_length_below_header(self) -> None:
        """batchLength smaller than the header itself: CORRUPT_MESSAGE."""
        self.assert_rejected(patched(valid_batch("tiny"), 8, "i", 20, crc=False),
                             ErrorCode.CORRUPT_MESSAGE)

    def test_magic_1(self) -> None:
        """Magic 1 (the old message format): INVALID_RECORD."""
        self.assert_rejected(patched(valid_batch("m1"), 16, "b", 1, crc=False), ErrorCode.INVALID_RECORD)

    def test_magic_0(self) -> None:
        """Magic 0: INVALID_RECORD."""
        self.assert_rejected(patched(valid_batch("m0"), 16, "b", 0, crc=False), ErrorCode.INVALID_RECORD)

    def test_unknown_magic(self) -> None:
        """Magic 3 (no such format): CORRUPT_MESSAGE."""
        self.assert_rejected(patched(valid_batch("m3"), 16, "b", 3, crc=False),
                             ErrorCode.CORRUPT_MESSAGE)

    def test_unknown_codec(self) -> None:
        """Codec bits 7 with a correct CRC: UNSUPPORTED_COMPRESSION_TYPE."""
        self.assert_rejected(patched(valid_batch("codec"), 21, "h", 7),
                             ErrorCode.UNSUPPORTED_COMPRESSION_TYPE)

    def test_zstd_before_v7(self) -> None:
        """zstd in a Produce v3-v6 request: UNSUPPORTED_COMPRESSION_TYPE."""
        self.assert_rejected(valid_batch("zstd", codec=ZSTD),
                             ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, versions=(3, 6))

    def test_count_inconsistent(self) -> None:
        """recordCount not lastOffsetDelta + 1, CRC correct: INVALID_RECORD."""
        self.assert_rejected(patched(valid_batch("count"), 57, "i", 9),
                             ErrorCode.INVALID_RECORD)

    def test_nonzero_base_offset(self) -> None:
        """A client batch whose baseOffset is not 0: INVALID_RECORD."""
        self.assert_rejected(patched(valid_batch("base"), 0, "q", 42, crc=False),
                             ErrorCode.INVALID_RECORD)

    def test_control_batch(self) -> None:
        """A control batch from a client: INVALID_RECORD."""
        self.assert_rejected(patched(valid_batch("ctl"), 21, "h", 0x20),
                             ErrorCode.INVALID_RECORD)

    def test_two_batches(self) -> None:
        """Two batches for one partition: INVALID_RECORD (Kafka wants exactly one)."""
        self.assert_rejected(valid_batch("one") + valid_batch("two"), ErrorCode.INVALID_RECORD)

    def test_no_records(self) -> None:
        """Null records: INVALID_RECORD."""
        self.assert_rejected(None, ErrorCode.INVALID_RECORD)

    def test_too_large(self) -> None:
        """A batch over max.message.bytes (1 MiB by default): MESSAGE_TOO_LARGE."""
        big = build_batch([(b"k", bytes(range(256)) * 4200, [], int(time.time() * 1000))])
        self.assertGreater(len(big), 1048588)
        self.assert_rejected(big, ErrorCode.MESSAGE_TOO_LARGE, versions=(8,))

    def test_count_lies_low(self) -> None:
        """A header saying 1 record over 3 records: INVALID_RECORD, offsets stay dense."""
        three = valid_batch("lie", 3)
        batch = patched(patched(three, 57, "i", 1, crc=False), 23, "i", 0)
        self.assert_rejected(batch, ErrorCode.INVALID_RECORD)

    def test_count_lies_high(self) -> None:
        """A 72-byte-ish batch claiming 2^31-1 records: INVALID_RECORD, the log end stays."""
        one = valid_batch("lie", 1, 0)
        batch = patched(patched(one, 57, "i", 2**31 - 1, crc=False), 23, "i", 2**31 - 2)
        self.assert_rejected(batch, ErrorCode.INVALID_RECORD)

    def test_random_records(self) -> None:
        """Random bytes as the records section: INVALID_RECORD."""
        batch = bytearray(valid_batch("random", 3))
        batch[61:] = bytes((i * 151 + 17) % 256 for i in range(len(batch) - 61))
        self.assert_rejected(bytes(fix_crc(bytearray(batch))), ErrorCode.INVALID_RECORD)

    def test_huge_record_length(self) -> None:
        """A record length varint of 2^31-1: INVALID_RECORD."""
        batch = bytearray(valid_batch("long", 1))
        batch[61:66] = b"\xfe\xff\xff\xff\x0f"  # zigzag(2^31-1)
        self.assert_rejected(bytes(fix_crc(bytearray(batch))), ErrorCode.INVALID_RECORD)

    def test_fake_gzip(self) -> None:
        """A "gzip" batch of 1f8b0800 and garbage: INVALID_RECORD."""
        batch = bytearray(valid_batch("gz", 2, GZIP))
        batch[61:] = bytes.fromhex("1f8b0800") + b"\x5a" * (len(batch) - 65)
        self.assert_rejected(bytes(fix_crc(bytearray(batch))), ErrorCode.INVALID_RECORD)

    def test_compressed_count_lies(self) -> None:
        """A compressed batch whose header miscounts its records: INVALID_RECORD."""
        for codec in (GZIP, SNAPPY, LZ4, ZSTD):
            three = valid_batch("lie", 3, codec)
            batch = patched(patched(three, 57, "i", 2, crc=False), 23, "i", 1)
            self.assert_rejected(batch, ErrorCode.INVALID_RECORD, versions=(9,))

    def test_timestamp_overflow(self) -> None:
        """baseTimestamp = maxTimestamp = 2^63-1 and a delta of 1: INVALID_TIMESTAMP."""
        top = 2**63 - 1
        batch = build_batch([(b"a", b"v", [], top - 1), (b"b", b"v", [], top)])
        batch = patched(batch, 27, "q", top, crc=False)
        self.assert_rejected(patched(batch, 35, "q", top),
                             ErrorCode.INVALID_TIMESTAMP)

    def test_gzip_bomb(self) -> None:
        """A 783 KB gzip batch of 768 MiB of zeros is refused by default: INVALID_RECORD."""
        member = zlib.compress(bytes(64 << 20), 9, 31)  # wbits 31: a gzip member
        batch = bytearray(valid_batch("bomb", 1, GZIP))
        batch[61:] = member * 12
        struct.pack_into(">i", batch, 8, len(batch) - 12)
        self.assert_rejected(bytes(fix_crc(bytearray(batch))), ErrorCode.INVALID_RECORD, versions=(9,))

    def test_record_errors(self) -> None:
        """From v8 a fault in one record names its batch index in C{record_errors}."""
        batch = bytearray(valid_batch("idx", 3))
        length, pos = read_varint(batch, 61)
        _, pos = read_varint(batch, pos + length)  # record 1's length
        _, pos = read_varint(batch, pos + 1)  # its attributes and timestampDelta
        self.assertEqual(batch[pos], 2)  # offsetDelta 1, zigzag
        batch[pos] = 0
        results = self.produce({(self.topic, 0): bytes(fix_crc(bytearray(batch)))}, version=9)
        [failed] = results.values()
        self.assertEqual(failed["error_code"], ErrorCode.INVALID_RECORD)
        self.assertEqual([e["batch_index"] for e in failed["record_errors"]], [1])
        self.assertIn("offsetDelta", failed["record_errors"][0]["batch_index_error_message"])

    def test_max_timestamp_rewritten(self) -> None:
        """A header whose maxTimestamp lies is stored with the records' largest timestamp."""
        batch = valid_batch("ts", 3)
        stated = 2**62
        results = self.produce({(self.topic, 0): patched(batch, 35, "q", stated)},
                               version=9)
        [appended] = results.values()
        self.assertEqual(appended["error_code"], ErrorCode.NONE)
        _, stored = read_log_bytes(self.client, self.topic, 0)
        last = stored[-len(batch):]
        self.assertEqual(struct.unpack_from(">q", last, 35)[0],
                         struct.unpack_from(">q", batch, 35)[0])
        self.assertEqual(compute_crc(last), struct.unpack_from(">I", last, 17)[0])

    def test_connection_still_usable(self) -> None:
        """After a refused batch the same connection keeps serving requests."""
        self.assert_rejected(b"\0" * 70, ErrorCode.INVALID_RECORD, versions=(9,))
        response = self.client.request(API_VERSIONS, 3, {"client_software_name": "e2e",
                                                         "client_software_version": "1"})
        self.assertEqual(response["error_code"], ErrorCode.NONE)


class WholeRequestErrorTests(MalformedCase):
    """Errors that concern the whole request fail every partition, storing nothing."""

    def assert_all_failed(self, code: ErrorCode, version: int, **options: Any) -> None:
        """Send good batches to both partitions; both must fail with C{code}."""
        before = [read_log_bytes(self.client, self.topic, p) for p in (0, 1)]
        results = self.produce({(self.topic, 0): valid_batch("a"),
                                (self.topic, 1): valid_batch("b")}, version=version,
                               **options)
        self.assertEqual({ErrorCode(r["error_code"]).name for r in results.values()},
                         {code.name})
        self.assertEqual([read_log_bytes(self.client, self.topic, p) for p in (0, 1)], before)

    def test_invalid_acks(self) -> None:
        """acks=2: INVALID_REQUIRED_ACKS for every partition."""
        self.assert_all_failed(ErrorCode.INVALID_REQUIRED_ACKS, 9, acks=2)

    def test_legacy_version(self) -> None:
        """Produce v2 (message format v0/v1, advertised for librdkafka): UNSUPPORTED_VERSION."""
        self.assert_all_failed(ErrorCode.UNSUPPORTED_VERSION, 2, acks=1)


class AcksZeroTests(MalformedCase):
    """acks=0: no response; an error closes the connection so the producer notices."""

    def test_error_closes_connection(self) -> None:
        """A bad batch with acks=0: the connection is closed, partition 0 untouched."""
        before = read_log_bytes(self.client, self.topic, 0)
        hw1 = list_offset(self.client, self.topic, 1, -1)["offset"]
        bad = bytearray(valid_batch("crc"))
        bad[-1] ^= 1
        self.client.send(PRODUCE, 9, produce_request(
            {(self.topic, 0): bytes(bad), (self.topic, 1): valid_batch("good", 3)}, acks=0))
        self.assertTrue(self.client.closed_by_peer())
        with RawClient(self.broker.bootstrap) as other:
            self.assertEqual(read_log_bytes(other, self.topic, 0), before)
            # The valid partition of that request was appended all the same.
            self.assertEqual(list_offset(other, self.topic, 1, -1)["offset"], hw1 + 3)

    def test_success_keeps_connection(self) -> None:
        """A valid acks=0 produce: no response, the next request is answered after it."""
        hw0 = list_offset(self.client, self.topic, 0, -1)["offset"]
        self.client.send(PRODUCE, 9, produce_request({(self.topic, 0): valid_batch("ok", 4)},
                                                     acks=0))
        response = self.client.request(LIST_OFFSETS, 7, {
            "replica_id": -1, "isolation_level": 0,
            "topics": [{"name": self.topic, "partitions": [
                {"partition_index": 0, "timestamp": -1, "current_leader_epoch": -1}]}]})
        self.assertEqual(response["topics"][0]["partitions"][0]["offset"], hw0 + 4)


class FullValidationTests(MalformedCase):
    """C{record_validation = full}: records are decompressed (capped) and walked."""

    broker_options = {"kafka": {"num_partitions": 2, "record_validation": "full",
                                "max_decompressed_bytes": 1 << 20}}

    def bomb(self, codec: int) -> bytes:
        """Return a small batch of C{codec} that decompresses to 8 MiB of zeros."""
        batch = build_batch([(b"bomb", bytes(8 << 20), [], int(time.time() * 1000))],
                            codec=codec)
        self.assertLess(len(batch), 1 << 19)
        return batch

    def test_gzip_bomb(self) -> None:
        """A gzip bomb past max_decompressed_bytes: INVALID_RECORD, nothing stored."""
        self.assert_rejected(self.bomb(GZIP), ErrorCode.INVALID_RECORD, good_codec=GZIP)

    def test_other_codec_bombs(self) -> None:
        """snappy, lz4 and zstd bombs: INVALID_RECORD each."""
        for codec in (SNAPPY, LZ4, ZSTD):
            self.assert_rejected(self.bomb(codec), ErrorCode.INVALID_RECORD, versions=(9,),
                                 good_codec=codec)

    def test_records_do_not_parse(self) -> None:
        """A consistent header (CRC correct) over records that are not there: INVALID_RECORD."""
        batch = valid_batch("short", 2)
        batch = patched(batch, 23, "i", 2, crc=False)
        self.assert_rejected(patched(batch, 57, "i", 3),
                             ErrorCode.INVALID_RECORD)

    def test_bad_crc(self) -> None:
        """A bad CRC is refused before any decompression: CORRUPT_MESSAGE."""
        batch = bytearray(self.bomb(GZIP))
        batch[-5] ^= 0x55
        self.assert_rejected(bytes(batch), ErrorCode.CORRUPT_MESSAGE, versions=(9,))
