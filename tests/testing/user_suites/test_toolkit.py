# -*- test-case-name: tests.testing.test_pytest_plugin -*-
"""The toolkit's pytest plugin, tested with pytest's own C{pytester}.

Each test writes a small user test file with C{pytester.makepyfile} and runs
it with C{runpytest_subprocess} (a fresh interpreter, the plugin loaded
through its installed entry point, as in a project that did C{pip install
twisted-kafka}); the user tests note what they saw (brokers, topics) in a
file that these tests then check: outcomes, messages, and that nothing is
left running or on disk.  Run by L{tests.testing.test_pytest_plugin}.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

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
LOCAL_SUITE = _PRELUDE + """
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
EXTERNAL_SUITE = _PRELUDE + """
from twisted_kafka.testing import process


def test_external(kafka_bootstrap, kafka_topic):
    note(topic=kafka_topic)
    assert kafka_bootstrap == os.environ["KAFKA_BOOTSTRAP_SERVERS"]
    assert produce(kafka_bootstrap, kafka_topic, [b"x"]) == 0
    assert process._server.process is None  # no broker of the plugin's own
"""


@pytest.fixture
def user_run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Run a user's suite in a fresh pytest process; return its result and its notes."""
    notes = pytester.path / "notes"
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    monkeypatch.setenv("TK_NOTES", str(notes))
    monkeypatch.setenv("PYTHONPATH", ROOT)

    def run(suite: str) -> tuple[pytest.RunResult, list[dict[str, Any]]]:
        pytester.makepyfile(test_user=suite)
        result = pytester.runpytest_subprocess("-rA", "-p", "no:cacheprovider", timeout=120)
        taken = ([json.loads(line) for line in notes.read_text().splitlines()]
                 if notes.exists() else [])
        return result, taken

    return run


def test_local_brokers(user_run: Any) -> None:
    """Round trips with three clients, own brokers, topics removed, start errors, cleanup."""
    result, notes = user_run(LOCAL_SUITE)
    result.assert_outcomes(passed=7, failed=1)
    result.stdout.fnmatch_lines(["*FAILED test_user.py::test_bad_settings*",
                                 "*1 failed, 7 passed*"])
    output = result.stdout.str() + result.stderr.str()
    assert "[store] segment_bytes" in output
    assert "last lines of" in output
    # The reason, not a traceback.
    assert "pytest_plugin.py" not in output
    assert "During handling" not in output
    # One shared broker for the session, two of the tests' own; all gone.
    assert len({n["bootstrap"] for n in notes if "bootstrap" in n}) == 1
    brokers = [(n["pid"], n["directory"]) for n in notes if "pid" in n]
    assert len(brokers) == 3
    for pid, directory in brokers:
        assert not running(pid), pid
        assert not os.path.exists(directory), directory


def test_external_broker(user_run: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """KAFKA_BOOTSTRAP_SERVERS: the fixtures use that broker and start none."""
    with KafkaBroker() as broker:
        monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", broker.bootstrap)
        result, notes = user_run(EXTERNAL_SUITE)
        result.assert_outcomes(passed=1)
        [note] = notes
        assert note["topic"].startswith("test_external-")
        with pytest.raises(TimeoutError):
            helpers.wait_for_topic(broker.bootstrap, note["topic"], 0.1)
