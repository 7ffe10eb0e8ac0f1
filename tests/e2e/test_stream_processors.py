# -*- test-case-name: tests.e2e.test_stream_processors -*-
"""Stream-processing products on the real broker: stateful state survives a lost local store.

Each test runs a word-count application (Quix Streams, Faust) as a
subprocess on a broker subprocess, feeds it a first batch of words, stops it,
deletes its local state, restarts it and feeds a second batch.  The restarted
application can only know the first batch's counts from its changelog topic
on the broker (a compacted topic: whether or not the log cleaner has run, a
changelog holding every record is still the correct state), so the counts
continue: each word's counts in the output topic run 1, 2, ... up to its
total over both batches, with none lost or doubled.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from typing import Any

from twisted.trial.unittest import SynchronousTestCase

from tests.e2e.harness import BrokerTestMixin

PRODUCTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "products")

FIRST = "apple banana apple cherry banana apple".split()
SECOND = "banana date apple date cherry".split()

#: How long an application may take to catch up with a batch.
CATCH_UP = 30.0


def produce_words(bootstrap: str, topic: str, words: list[str]) -> None:
    """Produce each word as one record, key and value the word, and wait for acks."""
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap, "log_level": 0})
    for word in words:
        producer.produce(topic, key=word.encode(), value=word.encode())
    assert producer.flush(10) == 0


class OutputReader:
    """Reads an output topic's records from the beginning, as word -> counts seen."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        """Assign partition 0 of C{topic} from offset 0."""
        from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

        self.consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "checker",
                                  "enable.auto.commit": False, "log_level": 0})
        self.consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
        self.counts: dict[str, list[int]] = {}

    def read_until(self, expected: Counter[str], timeout: float) -> dict[str, list[int]]:
        """Read until each word's last count is its C{expected} total (or time runs out)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = self.consumer.poll(0.5)
            if message is not None and message.error() is None:
                record = json.loads(message.value())
                self.counts.setdefault(record["word"], []).append(record["count"])
            if {w: c[-1] for w, c in self.counts.items()} == dict(expected):
                break
        return self.counts

    def close(self) -> None:
        """Close the consumer."""
        self.consumer.close()


class StreamProcessorMixin(BrokerTestMixin):
    """Runs a product script as a subprocess, stops it, and checks the counts."""

    def run_script(self, script: str, *args: str) -> subprocess.Popen[bytes]:
        """Start C{products/script} with C{args}; log to a file; stopped at cleanup."""
        log = open(os.path.join(self.broker.directory, f"{script}.log"), "ab")
        self.addCleanup(log.close)  # type: ignore[attr-defined]
        process = subprocess.Popen([sys.executable, os.path.join(PRODUCTS, script), *args],
                                   stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                   cwd=self.broker.directory)
        self.addCleanup(self.stop_process, process)  # type: ignore[attr-defined]
        return process

    def stop_process(self, process: subprocess.Popen[bytes]) -> None:
        """SIGTERM the application and wait for it; SIGKILL if it hangs."""
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def script_log(self, script: str) -> str:
        """Return what the script printed (for failure messages)."""
        with open(os.path.join(self.broker.directory, f"{script}.log"), errors="replace") as f:
            return f.read()[-6000:]

    def check_counts(self, script: str, reader: OutputReader, expected: Counter[str]) -> None:
        """Fail unless every word's counts ran exactly 1..total."""
        counts = reader.read_until(expected, CATCH_UP)
        want = {w: list(range(1, n + 1)) for w, n in expected.items()}
        self.assertEqual(counts, want, self.script_log(script))  # type: ignore[attr-defined]

    def cleanup_policy(self, topic: str) -> str:
        """Return C{topic}'s cleanup.policy from DescribeConfigs."""
        from confluent_kafka.admin import AdminClient, ConfigResource

        admin = AdminClient({"bootstrap.servers": self.broker.bootstrap, "log_level": 0})
        resource = ConfigResource("TOPIC", topic)
        configs = admin.describe_configs([resource])[resource].result(10)
        return str(configs["cleanup.policy"].value)

    def topics(self) -> list[str]:
        """Return the broker's topic names."""
        from confluent_kafka.admin import AdminClient

        admin = AdminClient({"bootstrap.servers": self.broker.bootstrap, "log_level": 0})
        return sorted(admin.list_topics(timeout=10).topics)

    def run_two_batches(self, script: str, args: tuple[str, ...], output: str, input_topic: str,
                        state_dir: str | None) -> None:
        """First batch, stop, delete C{state_dir} (if any), restart, second batch; check counts."""
        reader = OutputReader(self.broker.bootstrap, output)
        self.addCleanup(reader.close)  # type: ignore[attr-defined]
        process = self.run_script(script, *args)
        produce_words(self.broker.bootstrap, input_topic, FIRST)
        self.check_counts(script, reader, Counter(FIRST))
        self.stop_process(process)
        if state_dir is not None:
            self.assertTrue(os.path.isdir(state_dir))  # type: ignore[attr-defined]
            shutil.rmtree(state_dir)
        self.run_script(script, *args)
        produce_words(self.broker.bootstrap, input_topic, SECOND)
        self.check_counts(script, reader, Counter(FIRST + SECOND))


class QuixStreamsTests(StreamProcessorMixin, SynchronousTestCase):
    """Quix Streams (quixstreams, on librdkafka) stateful application."""

    def test_state_recovered_from_changelog(self) -> None:
        """A Quix word count whose state dir was deleted recovers its counts from the
        changelog topic, which Quix created compacted."""
        state_dir = os.path.join(self.broker.directory, "quix-state")
        from confluent_kafka.admin import AdminClient, NewTopic

        admin = AdminClient({"bootstrap.servers": self.broker.bootstrap, "log_level": 0})
        admin.create_topics([NewTopic("words", 1, 1)])["words"].result(10)
        self.run_two_batches("quix_wordcount.py",
                             (self.broker.bootstrap, "words", "word-counts", "quix-counter",
                              state_dir), "word-counts", "words", state_dir)
        changelogs = [t for t in self.topics() if t.startswith("changelog__")]
        self.assertEqual(len(changelogs), 1, self.topics())
        self.assertEqual(self.cleanup_policy(changelogs[0]), "compact")


class FaustTests(StreamProcessorMixin, SynchronousTestCase):
    """Faust (faust-streaming, on aiokafka) Table in the memory store."""

    def test_table_recovered_from_changelog(self) -> None:
        """A Faust word count on a memory-store Table recovers its counts from the
        table's changelog topic after a restart, and that topic is compacted."""
        from confluent_kafka.admin import AdminClient, NewTopic

        admin = AdminClient({"bootstrap.servers": self.broker.bootstrap, "log_level": 0})
        for topic in ("words", "word-counts"):
            admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(10)
        self.run_two_batches("faust_wordcount.py",
                             (self.broker.bootstrap, "words", "word-counts", "faust-counter"),
                             "word-counts", "words", None)
        self.assertIn("faust-counter-counts-changelog", self.topics())
        self.assertEqual(self.cleanup_policy("faust-counter-counts-changelog"), "compact")
