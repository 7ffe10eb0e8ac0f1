# -*- test-case-name: tests.protocol.test_roundtrip -*-
"""Round trips of every request and response of every served API version."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from tests.protocol.samples import project, sample
from twisted_kafka.protocol import compiler, messages
from twisted_kafka.protocol.errors import DecodeError, EncodeError, UnknownMessage
from twisted_kafka.protocol.schema import Message


def _versions(message: Message) -> range:
    return range(message.versions.low, message.versions.high + 1)


class RoundTripTests(SynchronousTestCase):
    """encode -> decode gives back every field of the version, for all APIs."""

    def check(self, message: Message, version: int, encode, decode, nulls: bool) -> None:
        """Round-trip a sample of ``message`` and compare, fields absent included."""
        value = sample(message, version, nulls=nulls)
        raw = b"".join(encode(value))
        decoded = decode(b"XYZ" + raw, 3)
        self.assertEqual(
            project(message.fields, version, decoded),
            project(message.fields, version, value),
            f"{message.name} v{version} nulls={nulls}",
        )
        for f in message.fields:
            if version not in f.versions:
                self.assertEqual(decoded[f.name], f.default, f"{message.name} v{version} {f.name}")
        self.assertEqual(b"".join(encode(decoded)), raw, f"{message.name} v{version} re-encode")

    def test_requests(self) -> None:
        """Every request version round-trips, populated and with nulls."""
        for api_key, message in messages.SCHEMAS.items():
            for version in _versions(message):
                enc = messages.request_encoder(api_key, version)
                dec = messages.request_decoder(api_key, version)
                for nulls in (False, True):
                    self.check(message, version, lambda d: [enc(d)], dec, nulls)

    def test_responses(self) -> None:
        """Every response version round-trips, populated and with nulls."""
        for api_key, message in messages.RESPONSE_SCHEMAS.items():
            for version in _versions(message):
                enc = messages.response_encoder(api_key, version)
                dec = messages.response_decoder(api_key, version)
                for nulls in (False, True):
                    self.check(message, version, enc, dec, nulls)

    def test_data_messages(self) -> None:
        """Consumer-protocol data messages round-trip with and without their version."""
        for name, message in messages.DATA_SCHEMAS.items():
            for version in _versions(message):
                enc = messages.data_encoder(name, version)
                dec = messages.data_decoder(name, version)
                self.check(message, version, lambda d: [enc(d)], dec, False)
                value = sample(message, version)
                got_version, decoded = messages.decode_data(
                    name, messages.encode_data(name, version, value)
                )
                self.assertEqual(got_version, version)
                self.assertEqual(
                    project(message.fields, version, decoded), project(message.fields, version, value)
                )

    def test_truncation(self) -> None:
        """Every proper prefix of every request sample raises DecodeError, nothing else."""
        for api_key, message in messages.SCHEMAS.items():
            for version in _versions(message):
                raw = messages.request_encoder(api_key, version)(sample(message, version, items=1))
                decode = messages.request_decoder(api_key, version)
                for end in range(len(raw)):
                    self.assertRaises(DecodeError, decode, raw[:end], 0)

    def test_trailing_bytes(self) -> None:
        """Bytes after the end of a message are a DecodeError."""
        raw = messages.request_encoder(18, 3)({"client_software_name": "x"})
        error = self.assertRaises(DecodeError, messages.request_decoder(18, 3), raw + b"\0", 0)
        self.assertIn("unexpected bytes", str(error))


class DefaultsTests(SynchronousTestCase):
    """Missing keys, absent fields and tagged fields take their defaults."""

    def test_empty_dict_encodes_defaults(self) -> None:
        """An empty dict encodes every field's default, and decodes back to them."""
        message = messages.RESPONSE_SCHEMAS[3]
        decoded = messages.response_decoder(3, 12)(b"".join(messages.response_encoder(3, 12)({})), 0)
        self.assertEqual(decoded, {f.name: f.default for f in message.fields})
        self.assertEqual(decoded["controller_id"], -1)
        self.assertIsNone(decoded["cluster_id"])

    def test_absent_fields_present_in_dict(self) -> None:
        """A v0 Produce request still has transactional_id (None) in the decoded dict."""
        raw = messages.request_encoder(0, 0)({"acks": 1, "timeout_ms": 5, "topic_data": []})
        decoded = messages.request_decoder(0, 0)(raw, 0)
        self.assertEqual(
            decoded, {"transactional_id": None, "acks": 1, "timeout_ms": 5, "topic_data": []}
        )

    def test_legacy_produce_layout(self) -> None:
        """Produce v0-2 bodies are v3's without transactional_id."""
        v3 = messages.request_encoder(0, 3)({"acks": 1, "timeout_ms": 5})
        v2 = messages.request_encoder(0, 2)({"acks": 1, "timeout_ms": 5, "transactional_id": "t"})
        self.assertEqual(v3, b"\xff\xff" + v2)

    def test_fields_outside_version_ignored(self) -> None:
        """A non-default value for a field the version lacks is silently dropped."""
        enc = messages.request_encoder(0, 2)
        self.assertEqual(enc({"transactional_id": "t"}), enc({}))

    def test_tagged_default_not_written(self) -> None:
        """A tagged field equal to its default is not written; a different one is."""
        enc = messages.response_encoder(18, 3)
        base = b"".join(enc({}))
        self.assertEqual(base, b"".join(enc({"finalized_features_epoch": -1})))
        tagged = b"".join(enc({"finalized_features_epoch": 7}))
        self.assertEqual(len(tagged), len(base) + 10)
        self.assertEqual(messages.response_decoder(18, 3)(tagged, 0)["finalized_features_epoch"], 7)

    def test_unknown_tags_skipped(self) -> None:
        """Unknown tagged fields are skipped by decoders."""
        raw = messages.request_encoder(18, 3)({"client_software_name": "a", "client_software_version": "b"})
        self.assertEqual(raw[-1:], b"\0")
        with_tags = raw[:-1] + b"\x02\x05\x01z\x09\x00"
        decoded = messages.request_decoder(18, 3)(with_tags, 0)
        self.assertEqual(decoded["client_software_name"], "a")

    def test_null_for_non_nullable_writes_empty(self) -> None:
        """None for a field not nullable in that version is written as its empty value."""
        enc = messages.response_encoder(3, 1)
        self.assertEqual(
            b"".join(enc({"topics": [{"name": None}]})), b"".join(enc({"topics": [{"name": ""}]}))
        )

    def test_long_primitive_arrays(self) -> None:
        """Arrays of ints of every length up to 300 round-trip (compact and not)."""
        for version in (8, 12):
            enc = messages.response_encoder(3, version)
            dec = messages.response_decoder(3, version)
            for n in (0, 1, 31, 32, 33, 126, 127, 128, 300):
                nodes = list(range(-n // 2, n - n // 2))
                raw = b"".join(enc({"topics": [{"partitions": [{"replica_nodes": nodes}]}]}))
                decoded = dec(raw, 0)["topics"][0]["partitions"][0]["replica_nodes"]
                self.assertEqual(decoded, nodes, f"v{version} n={n}")

    def test_sequences_accepted(self) -> None:
        """Arrays may be tuples or other sequences."""
        enc = messages.response_encoder(3, 12)
        self.assertEqual(
            enc({"topics": ({"partitions": ({"replica_nodes": (1, 2)},)},)}),
            enc({"topics": [{"partitions": [{"replica_nodes": [1, 2]}]}]}),
        )


class RecordsTests(SynchronousTestCase):
    """records fields: one slice on decode, their own chunk on encode."""

    def test_big_records_own_chunk(self) -> None:
        """A big records value is returned as its own chunk, the same object."""
        records = b"r" * 16384
        chunks = messages.response_encoder(1, 16)(
            {"responses": [{"partitions": [{"records": records}, {"records": records}]}]}
        )
        self.assertEqual(len(chunks), 5)
        self.assertIs(chunks[1], records)
        self.assertIs(chunks[3], records)

    def test_small_records_joined(self) -> None:
        """Small records values are joined into the surrounding chunk."""
        chunks = messages.response_encoder(1, 16)({"responses": [{"partitions": [{"records": b"x"}]}]})
        self.assertEqual(len(chunks), 1)

    def test_bytearray_records(self) -> None:
        """records may be given as a bytearray."""
        enc = messages.request_encoder(0, 9)
        value = {"topic_data": [{"partition_data": [{"records": bytearray(b"abc")}]}]}
        decoded = messages.request_decoder(0, 9)(enc(value), 0)
        self.assertEqual(decoded["topic_data"][0]["partition_data"][0]["records"], b"abc")

    def test_decode_request_records_is_view(self) -> None:
        """A request's records field is a zero-copy view of the frame, equal to what was sent."""
        records = bytes(range(256)) * 64
        raw = messages.request_encoder(0, 9)(
            {"topic_data": [{"name": "t", "partition_data": [{"index": 3, "records": records}]}]}
        )
        got = messages.request_decoder(0, 9)(raw, 0)["topic_data"][0]["partition_data"][0]
        self.assertEqual(type(got["records"]), memoryview)
        self.assertIs(got["records"].obj, raw)
        self.assertEqual(got["records"], records)

    def test_decode_response_records_is_bytes_slice(self) -> None:
        """A response's records field decodes to bytes equal to the bytes sent."""
        records = bytes(range(256)) * 64
        raw = b"".join(messages.response_encoder(1, 12)({"responses": [
            {"topic": "t", "partitions": [{"partition_index": 0, "records": records}]}]}))
        got = messages.response_decoder(1, 12)(raw, 0)["responses"][0]["partitions"][0]
        self.assertEqual(type(got["records"]), bytes)
        self.assertEqual(got["records"], records)

    def test_records_decode_no_per_byte_work(self) -> None:
        """Decoding a Produce v9 request has no loop over the records bytes.

        The generated decoder's source slices the records with one expression:
        check that it contains no per-byte iteration and that decoding a
        16 KiB and a 1 MiB records field executes the same number of lines.
        Only lines of the codec and of twisted_kafka count, after a warm-up
        call and with the garbage collector off, so that a collection or a
        first-call cache fill elsewhere cannot make the counts differ.
        """
        import gc
        import sys

        import twisted_kafka

        decode = messages.request_decoder(0, 9)
        encode = messages.request_encoder(0, 9)

        def lines_executed(size: int) -> int:
            raw = encode({"topic_data": [{"name": "t", "partition_data": [{"records": b"r" * size}]}]})
            count = 0

            def tracer(frame, event, arg):  # type: ignore[no-untyped-def]
                nonlocal count
                if event == "line" and ours(frame.f_code.co_filename):
                    count += 1
                return tracer

            decode(raw, 0)
            gc.disable()
            sys.settrace(tracer)
            try:
                decode(raw, 0)
            finally:
                sys.settrace(None)
                gc.enable()
            return count

        package = twisted_kafka.__path__[0]

        def ours(filename: str) -> bool:
            return filename.startswith(("<kafka codec", package))

        small = lines_executed(16384)
        self.assertGreater(small, 0)
        self.assertEqual(small, lines_executed(1 << 20))


class MalformedTests(SynchronousTestCase):
    """Decoders reject malformed bodies with DecodeError before allocating."""

    def test_huge_array_count(self) -> None:
        """An array count larger than the bytes left is rejected."""
        raw = b"\x00\x01\x00\x00\x00\x05\x7f\xff\xff\xff"
        error = self.assertRaises(DecodeError, messages.request_decoder(0, 3), b"\xff\xff" + raw, 0)
        self.assertIn("topic_data", str(error))

    def test_huge_compact_array_count(self) -> None:
        """A compact array count larger than the bytes left is rejected."""
        raw = b"\x00\xff\x01\x00\x00\x00\x05\xff\xff\xff\xff\x0f"
        error = self.assertRaises(DecodeError, messages.request_decoder(0, 9), raw, 0)
        self.assertIn("topic_data: count 4294967294 exceeds", str(error))

    def test_negative_string_length(self) -> None:
        """A negative length other than -1 is rejected, -1 only where nullable."""
        decode = messages.request_decoder(0, 3)
        self.assertRaises(DecodeError, decode, b"\xff\xfe\x00\x01\x00\x00\x00\x05\x00\x00\x00\x00", 0)
        topic_null = b"\xff\xff\x00\x01\x00\x00\x00\x05\x00\x00\x00\x01\xff\xff\x00\x00\x00\x00"
        self.assertRaises(DecodeError, decode, topic_null, 0)

    def test_oversized_string(self) -> None:
        """A string length beyond the end of the buffer is rejected."""
        self.assertRaises(DecodeError, messages.request_decoder(18, 3), b"\x7f\x7fabc", 0)

    def test_bad_varint(self) -> None:
        """An unsigned varint longer than 5 bytes is rejected."""
        self.assertRaises(DecodeError, messages.request_decoder(18, 3), b"\xff" * 6 + b"\x01", 0)

    def test_invalid_utf8(self) -> None:
        """A string that is not UTF-8 is rejected."""
        self.assertRaises(DecodeError, messages.request_decoder(18, 3), b"\x02\xff\x01\x00", 0)

    def test_random_bytes(self) -> None:
        """Random bodies either decode or raise DecodeError, for every request version."""
        import random

        rng = random.Random(1234)
        blobs = [bytes(rng.getrandbits(8) for _ in range(rng.randrange(40))) for _ in range(30)]
        for api_key, message in messages.SCHEMAS.items():
            for version in _versions(message):
                decode = messages.request_decoder(api_key, version)
                for blob in blobs:
                    try:
                        decode(blob, 0)
                    except DecodeError:
                        pass


    def test_mutated_samples(self) -> None:
        """Valid requests with random bytes changed decode or raise DecodeError."""
        import random

        rng = random.Random(4321)
        for api_key, message in messages.SCHEMAS.items():
            for version in _versions(message):
                raw = bytearray(messages.request_encoder(api_key, version)(sample(message, version)))
                decode = messages.request_decoder(api_key, version)
                for _ in range(8 if raw else 0):
                    mutated = bytearray(raw)
                    for _ in range(rng.randrange(1, 4)):
                        mutated[rng.randrange(len(mutated))] = rng.choice((0, 1, 0x7F, 0x80, 0xFF))
                    try:
                        decode(bytes(mutated), 0)
                    except DecodeError:
                        pass


class EncodeErrorTests(SynchronousTestCase):
    """Values that do not fit their type raise EncodeError."""

    def test_out_of_range(self) -> None:
        """An int16 out of range is an EncodeError naming the message."""
        error = self.assertRaises(EncodeError, messages.request_encoder(0, 9), {"acks": 1 << 20})
        self.assertIn("ProduceRequest v9", str(error))

    def test_wrong_type(self) -> None:
        """A number where a string belongs is an EncodeError."""
        self.assertRaises(EncodeError, messages.response_encoder(3, 9), {"brokers": [{"host": 5}]})

    def test_string_too_long(self) -> None:
        """A non-compact string over 32767 bytes is an EncodeError."""
        self.assertRaises(EncodeError, messages.response_encoder(3, 1), {"brokers": [{"host": "h" * 40000}]})


class LookupTests(SynchronousTestCase):
    """Looking up codecs by API key and version."""

    def test_unknown_api(self) -> None:
        """An unknown API key raises UnknownMessage."""
        self.assertRaises(UnknownMessage, messages.request_decoder, 999, 0)
        self.assertFalse(messages.is_flexible_request(999, 0))

    def test_unknown_version(self) -> None:
        """A version outside validVersions raises UnknownMessage."""
        self.assertRaises(UnknownMessage, messages.response_encoder, 3, 14)
        self.assertRaises(UnknownMessage, messages.data_decoder, "ConsumerProtocolAssignment", 9)

    def test_flexible(self) -> None:
        """is_flexible_request follows each API's flexibleVersions."""
        self.assertTrue(messages.is_flexible_request(0, 9))
        self.assertFalse(messages.is_flexible_request(0, 8))
        self.assertTrue(messages.is_flexible_request(60, 0))
        self.assertFalse(messages.is_flexible_request(17, 1))

    def test_schemas(self) -> None:
        """SCHEMAS maps API keys to request schemas with their version range."""
        self.assertEqual(messages.SCHEMAS[0].valid_versions, (0, 13))
        self.assertEqual(messages.SCHEMAS[18].valid_versions, (0, 4))
        self.assertEqual(len(messages.SCHEMAS), 33)

    def test_cached(self) -> None:
        """Codecs are compiled once and cached."""
        self.assertIs(messages.response_encoder(3, 5), messages.response_encoder(3, 5))
        self.assertIs(messages.request_decoder(3, 5), messages.request_decoder(3, 5))

    def test_compile_all(self) -> None:
        """compile_all builds both directions of every version."""
        self.assertGreater(messages.compile_all(), 650)
        self.assertTrue(compiler.decoder(messages.SCHEMAS[0], 13).__source__.startswith("def decode"))


class DataMessageTests(SynchronousTestCase):
    """Consumer-protocol data messages with their int16 version prefix."""

    def test_newer_version(self) -> None:
        """A newer version is read with the newest schema, extra bytes ignored."""
        raw = messages.encode_data("ConsumerProtocolSubscription", 3, {"topics": ["a"], "rack_id": "r"})
        version, decoded = messages.decode_data("ConsumerProtocolSubscription", b"\x00\x07" + raw[2:] + b"more")
        self.assertEqual(version, 7)
        self.assertEqual(decoded["topics"], ["a"])
        self.assertEqual(decoded["rack_id"], "r")

    def test_old_style_assignment(self) -> None:
        """A v0 assignment decodes to partitions and user data."""
        raw = messages.encode_data(
            "ConsumerProtocolAssignment", 0,
            {"assigned_partitions": [{"topic": "t", "partitions": [0, 1]}], "user_data": b"u"},
        )
        self.assertEqual(raw[:2], b"\x00\x00")
        version, decoded = messages.decode_data("ConsumerProtocolAssignment", raw)
        self.assertEqual(decoded["assigned_partitions"], [{"topic": "t", "partitions": [0, 1]}])
        self.assertEqual(decoded["user_data"], b"u")

    def test_missing_version(self) -> None:
        """A data message shorter than its version is a DecodeError."""
        self.assertRaises(DecodeError, messages.decode_data, "ConsumerProtocolAssignment", b"\x00")
