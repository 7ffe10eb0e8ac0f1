# -*- test-case-name: tests.e2e.test_open_files -*-
"""The real broker under a low open-file limit (C{RLIMIT_NOFILE} 256).

Topics are created with confluent-kafka's C{AdminClient} until the broker
refuses one: the refusal is POLICY_VIOLATION with a message, the connection
it came on still answers, produce and consume still work, the log holds no
traceback, and after a C{kill -9} and a restart exactly the acknowledged
topics exist, with no partition directory of a refused one on disk.  A
restart under a limit too low for the stored partitions exits with one line.
With connections unlimited, idle connections can still exhaust the
descriptors: a create then fails with EMFILE inside the store, which is
answered KAFKA_STORAGE_ERROR and leaves nothing behind either.
"""

from __future__ import annotations

import os
import socket
import time
from typing import Any

from twisted.trial.unittest import SynchronousTestCase

from tests.e2e.clients import RawClient
from tests.e2e.harness import BrokerTestMixin
from twisted_kafka.errors import ErrorCode
from twisted_kafka.store.descriptors import FIXED_RESERVE

OPEN_FILES = 256
SEALED_FILES = 16
MAX_CONNECTIONS = 32
PARTITIONS_PER_TOPIC = 2
#: How many partitions fit: the limit less the sealed files and the reserve.
ROOM = OPEN_FILES - SEALED_FILES - FIXED_RESERVE - MAX_CONNECTIONS
QUIET = {"log_level": 2}
CREATE_TOPICS = 19
METADATA = 3


def admin(bootstrap: str) -> Any:
    """Return a confluent-kafka admin client for C{bootstrap}."""
    from confluent_kafka.admin import AdminClient

    return AdminClient({"bootstrap.servers": bootstrap, **QUIET})


def create(client: Any, name: str, partitions: int) -> Any:
    """Create one topic; return None, or the KafkaError it was refused with."""
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import NewTopic

    [future] = client.create_topics([NewTopic(name, partitions, 1)],
                                    operation_timeout=10).values()
    try:
        future.result(timeout=30)
    except KafkaException as e:
        return e.args[0]
    return None


def partition_dirs(data_dir: str) -> set[str]:
    """The partition directories of the default vhost."""
    vhost = os.path.join(data_dir, "vhosts", "%2F")
    return {e for e in os.listdir(vhost) if os.path.isdir(os.path.join(vhost, e))}


class OpenFileLimitTests(BrokerTestMixin, SynchronousTestCase):
    """Creates past the open-file budget are refused cleanly and leave nothing behind."""

    broker_options = {"open_files": OPEN_FILES,
                      "kafka": {"max_connections": MAX_CONNECTIONS},
                      "store": {"max_open_sealed_files": SEALED_FILES}}

    def fill(self) -> tuple[list[str], Any]:
        """Create topics until one is refused; return the acknowledged names and the refusal."""
        client = admin(self.broker.bootstrap)
        acknowledged: list[str] = []
        for i in range(ROOM):
            error = create(client, f"t{i}", PARTITIONS_PER_TOPIC)
            if error is not None:
                return acknowledged, error
            acknowledged.append(f"t{i}")
        raise AssertionError(f"{len(acknowledged)} topics created and none refused")

    def test_creates_until_refused(self) -> None:
        """The refused create is POLICY_VIOLATION on a live connection; a restart finds exactly the acknowledged topics."""
        from confluent_kafka import KafkaError

        acknowledged, error = self.fill()
        self.assertEqual(len(acknowledged), ROOM // PARTITIONS_PER_TOPIC)
        self.assertEqual(error.code(), KafkaError.POLICY_VIOLATION)
        self.assertIn("open-file limit", error.str())
        # A smaller create still fits what is left; CreatePartitions is refused the same way.
        client = admin(self.broker.bootstrap)
        left = ROOM % PARTITIONS_PER_TOPIC
        if left:
            self.assertIsNone(create(client, "small", left))
            acknowledged.append("small")
        from confluent_kafka.admin import NewPartitions

        [future] = client.create_partitions([NewPartitions("t0", 5)]).values()
        refused = future.exception(timeout=30)
        self.assertEqual(refused.args[0].code(), KafkaError.POLICY_VIOLATION)
        # The connection a refusal is answered on stays open and answers.
        with RawClient(self.broker.bootstrap) as raw:
            response = raw.request(CREATE_TOPICS, 5, {
                "topics": [{"name": "over", "num_partitions": 1, "replication_factor": 1,
                            "assignments": [], "configs": []}],
                "timeout_ms": 10000, "validate_only": False})
            self.assertEqual(response["topics"][0]["error_code"], ErrorCode.POLICY_VIOLATION)
            answer = raw.request(METADATA, 9, {
                "topics": [{"name": "t0"}], "allow_auto_topic_creation": False,
                "include_cluster_authorized_operations": False,
                "include_topic_authorized_operations": False})
            self.assertEqual(answer["topics"][0]["error_code"], ErrorCode.NONE)
            # Auto-creation is refused the same way, and creates nothing.
            answer = raw.request(METADATA, 9, {
                "topics": [{"name": "auto"}], "allow_auto_topic_creation": True,
                "include_cluster_authorized_operations": False,
                "include_topic_authorized_operations": False})
            self.assertEqual(answer["topics"][0]["error_code"], ErrorCode.POLICY_VIOLATION)
        self.produce_and_read(acknowledged[-1])
        log = self.broker.log_text()
        self.assertNotIn("Traceback", log)
        self.assertNotIn("Unhandled", log)
        expected = {f"{name}-{i}" for name in acknowledged
                    for i in range(1 if name == "small" else PARTITIONS_PER_TOPIC)}
        self.assertEqual(partition_dirs(self.broker.data_dir), expected)
        self.broker.kill()
        self.broker.start()
        listed = admin(self.broker.bootstrap).list_topics(timeout=30).topics
        self.assertEqual(sorted(listed), sorted(acknowledged))
        self.assertEqual(partition_dirs(self.broker.data_dir), expected)
        self.assertNotIn("Traceback", self.broker.log_text())

    def produce_and_read(self, topic: str) -> None:
        """Produce one record with acks=all to C{topic} and consume it back."""
        from confluent_kafka import Consumer, Producer, TopicPartition

        producer = Producer({"bootstrap.servers": self.broker.bootstrap, "acks": "all", **QUIET})
        failures: list[Any] = []
        producer.produce(topic, b"still working", partition=0,
                         on_delivery=lambda error, _: failures.append(error) if error else None)
        self.assertEqual(producer.flush(30), 0)
        self.assertEqual(failures, [])
        consumer = Consumer({"bootstrap.servers": self.broker.bootstrap, "group.id": "open-files",
                             "enable.auto.commit": False, **QUIET})
        try:
            consumer.assign([TopicPartition(topic, 0, 0)])
            message = consumer.poll(30)
            self.assertIsNotNone(message)
            self.assertIsNone(message.error())
            self.assertEqual(message.value(), b"still working")
        finally:
            consumer.close()

    def test_start_refused_below_stored_partitions(self) -> None:
        """A restart under a limit too low for the stored partitions exits 1 with one line; the old limit starts it again."""
        acknowledged, _ = self.fill()
        self.broker.stop()
        self.broker.open_files = OPEN_FILES - 50
        before = len(self.broker.log_text().splitlines())
        self.broker.launch()
        self.assertEqual(self.broker.wait(), 1)
        printed = self.broker.log_text().splitlines()[before + 1:]
        self.assertEqual(len(printed), 1, printed)
        self.assertTrue(printed[0].startswith(
            f"{self.broker.config_path}: [store] max_open_sealed_files = {SEALED_FILES}: "
            f"{len(acknowledged) * PARTITIONS_PER_TOPIC} stored partition(s) need "), printed)
        self.assertIn(f"above the open-file limit of {OPEN_FILES - 50}", printed[0])
        self.broker.open_files = OPEN_FILES
        self.broker.start()
        listed = admin(self.broker.bootstrap).list_topics(timeout=30).topics
        self.assertEqual(sorted(listed), sorted(acknowledged))


def create_raw(raw: RawClient, name: str) -> tuple[int, str | None]:
    """Create topic C{name} (one partition) on C{raw}; return its error code and message."""
    response = raw.request(CREATE_TOPICS, 5, {
        "topics": [{"name": name, "num_partitions": 1, "replication_factor": 1,
                    "assignments": [], "configs": []}],
        "timeout_ms": 10000, "validate_only": False})
    [topic] = response["topics"]
    return topic["error_code"], topic["error_message"]


class ExhaustedDescriptorsTests(BrokerTestMixin, SynchronousTestCase):
    """EMFILE inside the store (idle connections took the descriptors) is answered and leaves nothing."""

    broker_options = {"open_files": 400, "kafka": {"max_connections": 0},
                      "store": {"max_open_sealed_files": SEALED_FILES}}

    def wait_for_descriptors_below(self, count: int) -> None:
        """Wait until the broker process has fewer than C{count} descriptors open (at most 30 s)."""
        assert self.broker.process is not None
        fds = f"/proc/{self.broker.process.pid}/fd"
        deadline = time.monotonic() + 30
        while len(os.listdir(fds)) >= count:
            if time.monotonic() > deadline:
                self.fail(f"the broker still has {len(os.listdir(fds))} descriptors open")
            time.sleep(0.05)

    def test_emfile_answered(self) -> None:
        """A create failing with EMFILE is KAFKA_STORAGE_ERROR on a live connection; nothing of it stays, before or after a restart."""
        idle = [socket.create_connection(("127.0.0.1", self.broker.port)) for _ in range(340)]
        try:
            with RawClient(self.broker.bootstrap) as raw:
                acknowledged: list[str] = []
                for i in range(100):
                    code, message = create_raw(raw, f"t{i}")
                    if code != ErrorCode.NONE:
                        break
                    acknowledged.append(f"t{i}")
                self.assertEqual(code, ErrorCode.KAFKA_STORAGE_ERROR, message)
                self.assertIn("Too many open files", message or "")
                self.assertEqual(partition_dirs(self.broker.data_dir),
                                 {f"{name}-0" for name in acknowledged})
                self.assertEqual(create_raw(raw, "t0")[0], ErrorCode.TOPIC_ALREADY_EXISTS)
                for sock in idle:
                    sock.close()
                idle = []
                # Once the broker has closed them, their descriptors serve creates again.
                self.wait_for_descriptors_below(100)
                self.assertEqual(create_raw(raw, "after"), (ErrorCode.NONE, None))
                acknowledged.append("after")
        finally:
            for sock in idle:
                sock.close()
        self.assertNotIn("Traceback", self.broker.log_text())
        self.broker.kill()
        self.broker.start()
        listed = admin(self.broker.bootstrap).list_topics(timeout=30).topics
        self.assertEqual(sorted(listed), sorted(acknowledged))
        self.assertEqual(partition_dirs(self.broker.data_dir),
                         {f"{name}-0" for name in acknowledged})
