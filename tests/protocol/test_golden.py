# -*- test-case-name: tests.protocol.test_golden -*-
"""Request frames captured from real clients, decoded byte for byte.

Each constant is a whole request frame (without the 4-byte size prefix) as
sent by the named client to a broker that advertised every API we serve:
kcat 1.7 / librdkafka 2.0.2, confluent-kafka 2.16.1 (librdkafka 2.16.0),
kafka-python 3.0.12 and aiokafka 0.14.
"""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.protocol import headers, messages

_ZERO_UUID = b"\0" * 16

KCAT_API_VERSIONS_V3 = bytes.fromhex(
    "0012000300000001000772646b61666b61000b6c696272646b61666b6106322e302e3200"
)
KCAT_METADATA_V4_ALL = bytes.fromhex("0003000400000003000772646b61666b61ffffffff01")
CONFLUENT_API_VERSIONS_V3 = bytes.fromhex(
    "0012000300000001000f676f6c64656e2d70726f64756365720017636f6e666c75656e742d6b61666b61"
    "2d707974686f6e16322e31362e312d72646b61666b612d322e31362e3000"
)
CONFLUENT_METADATA_V13_BROKERS = bytes.fromhex("0003000d00000002000772646b61666b610001000000")
# librdkafka writes the null topics array as 4 bytes (librdkafka#5049).
CONFLUENT_METADATA_V13_ALL = bytes.fromhex("0003000d00000003000772646b61666b610000000000010000")
CONFLUENT_METADATA_V13_TOPIC = bytes.fromhex(
    "0003000d00000002000f676f6c64656e2d70726f64756365720002000000000000000000000000000000"
    "000d676f6c64656e2d746f70696300010000"
)
CONFLUENT_PRODUCE_V10 = bytes.fromhex(
    "0000000a00000002000f676f6c64656e2d70726f64756365720000ffff00007530020d676f6c64656e2d"
    "746f70696302000000004b00000000000000000000003e000000000236ff4dc300000000000000000"
    "18bcfe568000000018bcfe56800ffffffffffffffffffffffffffff0000000118000000026b0a68656c6c"
    "6f00000000"
)
KAFKA_PYTHON_API_VERSIONS_V4 = bytes.fromhex(
    "00120004000000010009676f6c64656e2d6b70000d6b61666b612d707974686f6e07332e302e313200"
)
KAFKA_PYTHON_METADATA_V13_ALL = bytes.fromhex("0003000d000000020009676f6c64656e2d6b700000010000")
KAFKA_PYTHON_INIT_PRODUCER_ID_V4 = bytes.fromhex(
    "00160004000000020009676f6c64656e2d6b70000000000000ffffffffffffffffffff00"
)
KAFKA_PYTHON_PRODUCE_V9 = bytes.fromhex(
    "00000009000000040009676f6c64656e2d6b700000ffff00007530020d676f6c64656e2d746f7069630200"
    "0000004b00000000000000000000003e0000000002b098467a0000000000000000018bcfe56800000001"
    "8bcfe5680000000000000003e80000000000000000000118000000026b0a68656c6c6f00000000"
)
AIOKAFKA_API_VERSIONS_V0 = bytes.fromhex("0012000000000001000a676f6c64656e2d61696f")
AIOKAFKA_METADATA_V5_TOPIC = bytes.fromhex(
    "0003000500000002000a676f6c64656e2d61696f00000001000c676f6c64656e2d746f70696301"
)
AIOKAFKA_PRODUCE_V7 = bytes.fromhex(
    "0000000700000003000a676f6c64656e2d61696fffff000100009c4000000001000c676f6c64656e2d74"
    "6f70696300000001000000000000004a00000000000000000000003effffffff02075ad2ad000000000"
    "0000000018bcfe568000000018bcfe56800ffffffffffffffffffff000000000000000118000000026b"
    "0a68656c6c6f00"
)


class GoldenFrameTests(SynchronousTestCase):
    """Frames from real clients decode to the values they sent."""

    def decode(self, frame: bytes, expected_header: tuple) -> dict:
        """Decode header and body of ``frame``; check the header; return the body."""
        header, offset = headers.decode_request_header(frame)
        self.assertEqual(tuple(header), expected_header)
        return messages.request_decoder(header.api_key, header.api_version)(frame, offset)

    def test_kcat_api_versions(self) -> None:
        """librdkafka 2.0 sends ApiVersions v3 with its software name and version."""
        body = self.decode(KCAT_API_VERSIONS_V3, (18, 3, 1, "rdkafka"))
        self.assertEqual(
            body, {"client_software_name": "librdkafka", "client_software_version": "2.0.2"}
        )

    def test_kcat_metadata_all_topics(self) -> None:
        """kcat -L asks for all topics (null array) with Metadata v4."""
        body = self.decode(KCAT_METADATA_V4_ALL, (3, 4, 3, "rdkafka"))
        self.assertIsNone(body["topics"])
        self.assertTrue(body["allow_auto_topic_creation"])

    def test_confluent_api_versions(self) -> None:
        """confluent-kafka sends ApiVersions v3 (header v2) with its client.id."""
        body = self.decode(CONFLUENT_API_VERSIONS_V3, (18, 3, 1, "golden-producer"))
        self.assertEqual(body["client_software_name"], "confluent-kafka-python")
        self.assertEqual(body["client_software_version"], "2.16.1-rdkafka-2.16.0")

    def test_confluent_metadata_brokers_only(self) -> None:
        """librdkafka's "brokers only" Metadata v13 has an empty topics array."""
        body = self.decode(CONFLUENT_METADATA_V13_BROKERS, (3, 13, 2, "rdkafka"))
        self.assertEqual(body["topics"], [])
        self.assertFalse(body["allow_auto_topic_creation"])

    def test_confluent_metadata_all_topics(self) -> None:
        """librdkafka's malformed null topics array is read as null."""
        body = self.decode(CONFLUENT_METADATA_V13_ALL, (3, 13, 3, "rdkafka"))
        self.assertIsNone(body["topics"])
        self.assertTrue(body["allow_auto_topic_creation"])
        self.assertFalse(body["include_topic_authorized_operations"])

    def test_confluent_metadata_one_topic(self) -> None:
        """A producer asks for its topic by name, with a zero topic id."""
        body = self.decode(CONFLUENT_METADATA_V13_TOPIC, (3, 13, 2, "golden-producer"))
        self.assertEqual(body["topics"], [{"topic_id": _ZERO_UUID, "name": "golden-topic"}])

    def test_confluent_produce(self) -> None:
        """librdkafka's Produce v10 carries one record batch, as one bytes slice."""
        body = self.decode(CONFLUENT_PRODUCE_V10, (0, 10, 2, "golden-producer"))
        self.assertEqual((body["transactional_id"], body["acks"], body["timeout_ms"]), (None, -1, 30000))
        [topic] = body["topic_data"]
        self.assertEqual(topic["name"], "golden-topic")
        [partition] = topic["partition_data"]
        self.assertEqual(partition["index"], 0)
        self.assertEqual(len(partition["records"]), 74)
        self.assertTrue(bytes(partition["records"]).endswith(b"k\nhello\x00"))
        self.assertEqual(partition["records"][16], 2)  # magic

    def test_kafka_python_api_versions(self) -> None:
        """kafka-python 3 sends ApiVersions v4."""
        body = self.decode(KAFKA_PYTHON_API_VERSIONS_V4, (18, 4, 1, "golden-kp"))
        self.assertEqual(
            body, {"client_software_name": "kafka-python", "client_software_version": "3.0.12"}
        )

    def test_kafka_python_metadata(self) -> None:
        """kafka-python asks for all topics with a proper compact null array."""
        body = self.decode(KAFKA_PYTHON_METADATA_V13_ALL, (3, 13, 2, "golden-kp"))
        self.assertIsNone(body["topics"])
        self.assertTrue(body["allow_auto_topic_creation"])

    def test_kafka_python_init_producer_id(self) -> None:
        """kafka-python's idempotent producer starts with InitProducerId v4."""
        body = self.decode(KAFKA_PYTHON_INIT_PRODUCER_ID_V4, (22, 4, 2, "golden-kp"))
        self.assertEqual(
            body,
            {"transactional_id": None, "transaction_timeout_ms": 0, "producer_id": -1,
             "producer_epoch": -1, "enable2_pc": False, "keep_prepared_txn": False},
        )

    def test_kafka_python_produce(self) -> None:
        """kafka-python's Produce v9 (idempotent: producer id 1000 in the batch)."""
        body = self.decode(KAFKA_PYTHON_PRODUCE_V9, (0, 9, 4, "golden-kp"))
        records = body["topic_data"][0]["partition_data"][0]["records"]
        self.assertEqual(records[43:51], (1000).to_bytes(8, "big"))

    def test_aiokafka_api_versions(self) -> None:
        """aiokafka sends an empty ApiVersions v0."""
        self.assertEqual(self.decode(AIOKAFKA_API_VERSIONS_V0, (18, 0, 1, "golden-aio")), {
            "client_software_name": "", "client_software_version": ""})

    def test_aiokafka_metadata(self) -> None:
        """aiokafka asks for a topic by name with Metadata v5."""
        body = self.decode(AIOKAFKA_METADATA_V5_TOPIC, (3, 5, 2, "golden-aio"))
        self.assertEqual(body["topics"], [{"topic_id": _ZERO_UUID, "name": "golden-topic"}])
        self.assertTrue(body["allow_auto_topic_creation"])

    def test_aiokafka_produce(self) -> None:
        """aiokafka's Produce v7 with acks=1."""
        body = self.decode(AIOKAFKA_PRODUCE_V7, (0, 7, 3, "golden-aio"))
        self.assertEqual((body["acks"], body["timeout_ms"]), (1, 40000))
        self.assertEqual(len(body["topic_data"][0]["partition_data"][0]["records"]), 74)

    def test_reencode(self) -> None:
        """Our request encoders reproduce the clients' bodies exactly."""
        for frame in (
            KCAT_API_VERSIONS_V3, KCAT_METADATA_V4_ALL, CONFLUENT_API_VERSIONS_V3,
            CONFLUENT_METADATA_V13_BROKERS, CONFLUENT_METADATA_V13_TOPIC, CONFLUENT_PRODUCE_V10,
            KAFKA_PYTHON_API_VERSIONS_V4, KAFKA_PYTHON_METADATA_V13_ALL,
            KAFKA_PYTHON_INIT_PRODUCER_ID_V4, KAFKA_PYTHON_PRODUCE_V9, AIOKAFKA_API_VERSIONS_V0,
            AIOKAFKA_METADATA_V5_TOPIC, AIOKAFKA_PRODUCE_V7,
        ):
            header, offset = headers.decode_request_header(frame)
            body = messages.request_decoder(header.api_key, header.api_version)(frame, offset)
            encoded = messages.request_encoder(header.api_key, header.api_version)(body)
            self.assertEqual(headers.encode_request_header(header) + encoded, frame)
