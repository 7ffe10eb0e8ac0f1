# -*- test-case-name: tests.testing.test_pytest_plugin -*-
"""Tests for L{twisted_kafka.testing.pytest_plugin}: small user suites run under pytest.

Each test writes a user's test file into a temporary directory and runs
pytest on it in a subprocess, with the plugin loaded through its installed
entry point (as in a project that did C{pip install twisted-kafka}); the user
tests note what they saw (brokers, topics) in a file that the outer test
then checks: results, messages, and that nothing is left running or on disk.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from importlib.metadata import entry_points
from typing import Any

from twisted.trial.unittest import SynchronousTestCase

import twisted_kafka
from twisted_kafka.testing import helpers
from twisted_kafka.testing.process import KafkaBroker

from tests.testing.test_process import running

#: The checkout (or installed) root holding twisted_kafka: first on the user
#: run's path, so that the code under test is what the plugin runs.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(twisted_kafka.__file__)))

_PRELUDE = """
import asyncio, json, os

import pytest

from twisted_kafka.testing import produce, read_topic, wait_for_topic


def note(**facts):
    with open(os.environ["TK_NOTES"], "a") as f:
        f.write(json.dumps(facts) + "\\n")
"""

#: A user's suite on the plugin's own brokers.
_LOCAL_SUITE = _PRELUDE + """
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import TopicPartition as AioTopicPartition
from confluent_kafka import Consumer, Producer, TopicPartition
from kafka import KafkaConsumer, KafkaProducer
from kafka import TopicPartition as KafkaTopicPartition


def test_confluent(kafka_broker, kafka_bootstrap, kafka_topic):
    note(topic=kafka_topic, pid=kafka_broker.pid, directory=kafka_broker.directory)
    producer = Producer({"bootstrap.servers": kafka_bootstrap})
    producer.produce(kafka_topic, b"confluent")
    assert producer.flush(10) == 0
    consumer = Consumer({"bootstrap.servers": kafka_bootstrap, "group.id": "g"})
    consumer.assign([TopicPartition(kafka_topic, 0, 0)])
    message = consumer.poll(10)
    consumer.close()
    assert message.value() == b"confluent"


def test_kafka_python(kafka_bootstrap, kafka_topic):
    note(topic=kafka_topic, bootstrap=kafka_bootstrap)
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap)
    producer.send(kafka_topic, b"kafka-python").get(timeout=10)
    producer.close()
    consumer = KafkaConsumer(bootstrap_servers=kafka_bootstrap, consumer_timeout_ms=10000)
    consumer.assign([KafkaTopicPartition(kafka_topic, 0)])
    consumer.seek(KafkaTopicPartition(kafka_topic, 0), 0)
    assert next(consumer).value == b"kafka-python"
    consumer.close()


def test_aiokafka(kafka_bootstrap, kafka_topic):
    note(topic=kafka_topic, bootstrap=kafka_bootstrap)

    async def round_trip():
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
        await producer.start()
        try:
            await producer.send_and_wait(kafka_topic, b"aiokafka")
        finally:
            await producer.stop()
        consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap)
        await consumer.start()
        try:
            consumer.assign([AioTopicPartition(kafka_topic, 0)])
            consumer.seek(AioTopicPartition(kafka_topic, 0), 0)
            return (await asyncio.wait_for(consumer.getone(), 10)).value
        finally:
            await consumer.stop()

    assert asyncio.run(round_trip()) == b"aiokafka"


def test_topic_factory(kafka_bootstrap, kafka_topic_factory):
    name = kafka_topic_factory(partitions=3, config={"retention.ms": "60000"})
    note(topic=name)
    assert name.startswith("test_topic_factory-")
    assert wait_for_topic(kafka_bootstrap, name) == 3


def test_topics_were_deleted(kafka_bootstrap):
    with open(os.environ["TK_NOTES"]) as f:
        names = [json.loads(line)["topic"] for line in f if '"topic"' in line]
    assert len(names) == 4
    for name in names:
        with pytest.raises(TimeoutError):
            wait_for_topic(kafka_bootstrap, name, timeout=0.1)


def test_own_broker(kafka_broker, kafka_broker_factory):
    broker = kafka_broker_factory(tls=True, partitions=3)
    note(pid=broker.pid, directory=broker.directory)
    assert broker.bootstrap != kafka_broker.bootstrap
    producer = Producer({"bootstrap.servers": broker.tls_bootstrap, "security.protocol": "SSL",
                         "ssl.ca.location": broker.tls_files.ca_cert})
    producer.produce("auto-created", b"sealed")
    assert producer.flush(10) == 0
    del producer
    assert wait_for_topic(broker.bootstrap, "auto-created") == 3


def test_own_broker_restarted(kafka_broker_factory):
    broker = kafka_broker_factory(kafka={"auto_create_topics": False})
    note(pid=broker.pid, directory=broker.directory)
    with pytest.raises(TimeoutError):
        wait_for_topic(broker.bootstrap, "auto-created", timeout=0.1)


def test_bad_settings(kafka_broker_factory):
    kafka_broker_factory(store={"segment_bytes": "big"})
"""

#: A user's suite run with KAFKA_BOOTSTRAP_SERVERS naming a broker.
_EXTERNAL_SUITE = _PRELUDE + """
from twisted_kafka.testing import process


def test_external(kafka_bootstrap, kafka_topic):
    note(topic=kafka_topic)
    assert kafka_bootstrap == os.environ["KAFKA_BOOTSTRAP_SERVERS"]
    assert produce(kafka_bootstrap, kafka_topic, [b"x"]) == 0
    assert process._server.process is None  # no broker of the plugin's own
"""


class PluginTests(SynchronousTestCase):
    """The fixtures, as a user's pytest run sees them."""

    def _pytest(self, suite: str, **env: str) -> tuple[int, str, list[dict[str, Any]]]:
        """Run pytest on C{suite}; return its status, its output and the notes taken."""
        directory = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, directory)
        with open(os.path.join(directory, "test_user.py"), "w") as f:
            f.write(suite)
        notes = os.path.join(directory, "notes")
        environment = {k: v for k, v in os.environ.items()
                       if k not in ("KAFKA_BOOTSTRAP_SERVERS", "PYTEST_ADDOPTS")}
        environment.update(env, TK_NOTES=notes, PYTHONPATH=ROOT)
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-rA", "-p", "no:cacheprovider", "test_user.py"],
            cwd=directory, env=environment, capture_output=True, text=True, timeout=120)
        with open(notes) if os.path.exists(notes) else open(os.devnull) as f:
            taken = [json.loads(line) for line in f]
        return result.returncode, result.stdout + result.stderr, taken

    def test_local_brokers(self) -> None:
        """Round trips with three clients, own brokers, topics removed, start errors, cleanup."""
        status, output, notes = self._pytest(_LOCAL_SUITE)
        self.assertEqual(status, 1, output)
        self.assertIn("1 failed, 7 passed", output)
        self.assertIn("FAILED test_user.py::test_bad_settings", output)
        self.assertIn("[store] segment_bytes", output)
        self.assertIn("last lines of", output)
        # The reason, not a traceback.
        self.assertNotIn("pytest_plugin.py", output)
        self.assertNotIn("During handling", output)
        # One shared broker for the session, two of the tests' own; all gone.
        self.assertEqual(len({n["bootstrap"] for n in notes if "bootstrap" in n}), 1)
        brokers = [(n["pid"], n["directory"]) for n in notes if "pid" in n]
        self.assertEqual(len(brokers), 3)
        for pid, directory in brokers:
            self.assertFalse(running(pid), pid)
            self.assertFalse(os.path.exists(directory), directory)

    def test_external_broker(self) -> None:
        """KAFKA_BOOTSTRAP_SERVERS: the fixtures use that broker and start none."""
        with KafkaBroker() as broker:
            status, output, notes = self._pytest(
                _EXTERNAL_SUITE, KAFKA_BOOTSTRAP_SERVERS=broker.bootstrap)
            self.assertEqual(status, 0, output)
            [note] = notes
            self.assertTrue(note["topic"].startswith("test_external-"))
            self.assertRaises(TimeoutError, helpers.wait_for_topic, broker.bootstrap,
                              note["topic"], 0.1)


class InstallTests(SynchronousTestCase):
    """How the plugin is installed, and what loading it costs."""

    def test_entry_point(self) -> None:
        """The package declares the plugin to pytest (reinstall if this fails)."""
        [plugin] = [e for e in entry_points(group="pytest11") if e.name == "twisted_kafka"]
        self.assertEqual(plugin.value, "twisted_kafka.testing.pytest_plugin")

    def test_import_costs(self) -> None:
        """Loading the plugin imports no Twisted; the toolkit never imports pytest."""
        check = textwrap.dedent("""
            import sys
            import twisted_kafka.testing.pytest_plugin
            assert not [m for m in sys.modules if m.startswith("twisted.")], "twisted"
            for name in list(sys.modules):
                if name.startswith(("pytest", "_pytest")):
                    del sys.modules[name]
            import twisted_kafka.testing.contexts, twisted_kafka.testing.inprocess
            assert "pytest" not in sys.modules and "_pytest" not in sys.modules, "pytest"
        """)
        result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True,
                                env={**os.environ, "PYTHONPATH": ROOT})
        self.assertEqual(result.returncode, 0, result.stderr)
