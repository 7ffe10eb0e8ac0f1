# -*- test-case-name: tests.e2e.test_stream_processors -*-
"""Stream-processing products on the real broker: state survives a lost local store.

Each test runs a word-count application (Quix Streams, Faust) as a
subprocess on a broker subprocess and feeds it L{ROUNDS} of words, waiting
after each until the application wrote every count and committed its input
offsets (so each round's changelog records are in batches of their own).
The broker rolls a segment at every batch and cleans as soon as anything is
dirty, so once the application is stopped the test waits until the log
cleaner removed older records of a key from the application's changelog
topic (which must say C{cleanup.policy=compact}).  Then it deletes the local
state, restarts the application and feeds it L{AFTER}: the restarted
application can only know the earlier counts from the compacted changelog,
so each word's counts in the output topic must run 1, 2, ... up to its total
over all the input, with none lost or doubled.

Faust 0.15.3 resumes its input partitions before it seeks them to their
committed offsets when table recovery completes, so input that is already
there then can be skipped or counted twice (seen here: offset 8 skipped,
offset 10 counted twice).  The test therefore produces to Faust only after
the worker printed that it is ready, which Faust does after that seek.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

from twisted.trial.unittest import SynchronousTestCase

from tests.e2e.clients import QUIET, Stored, read_partition
from tests.e2e.harness import BrokerTestMixin

PRODUCTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "products")

#: Words fed to the first run, one list at a time.  C{apple} is counted in
#: each, so its earlier changelog records are superseded by later ones.
ROUNDS = ["apple banana".split(), "apple cherry".split(), "banana apple".split()]

#: Words fed after the restart.
AFTER = "banana date apple date cherry".split()

#: How long an application may take to start, catch up, commit; how long the cleaner may take.
TIMEOUT = 30.0

#: What L{tests.e2e.products.faust_wordcount} prints when it is ready for input.
FAUST_READY = "word count ready"


def missing(module: str) -> str | None:
    """Return a skip reason if C{module} is not installed (without importing it)."""
    if importlib.util.find_spec(module) is None:
        return f"{module} is not installed (pip install -e '.[test]')"
    return None


def produce_words(bootstrap: str, topic: str, words: Sequence[str]) -> None:
    """Produce each word as one record, key and value the word, and wait for acks."""
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap, **QUIET})
    for word in words:
        producer.produce(topic, key=word.encode(), value=word.encode())
    assert producer.flush(10) == 0


def wait_until(condition: Any, timeout: float = TIMEOUT, interval: float = 0.2) -> bool:
    """Call C{condition} until it returns true or C{timeout} passes; return its last answer."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)


class OutputReader:
    """Reads an output topic's records from the beginning, as word -> counts seen."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        """Assign partition 0 of C{topic} from offset 0."""
        from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

        self.consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "checker",
                                  "enable.auto.commit": False, **QUIET})
        self.consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
        self.counts: dict[str, list[int]] = {}

    def read_until(self, expected: Counter[str], timeout: float) -> dict[str, list[int]]:
        """Read until each word's last count is its C{expected} total (or time runs out)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = self.consumer.poll(0.2)
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
    """Runs a product script as a subprocess through two runs and checks the counts.

    A case names its C{script}, the application's consumer C{group}, its
    C{changelog} topic's name or name prefix, whether it C{keeps_local_state}
    (then the script's last argument is a state directory, deleted between
    the runs) and C{ready_line}, a line the script prints when it may be
    given input (or C{None}: at once).
    """

    #: Every batch in a segment of its own, so all but the last are cleanable,
    #: and the cleaner runs as soon as anything is dirty.
    broker_options = {"store": {"segment_bytes": 1, "min_cleanable_dirty_ratio": 0.01,
                                "cleaner_backoff_ms": 200}}

    script: str
    group: str
    changelog_prefix: str
    keeps_local_state: bool
    ready_line: str | None = None
    input_topic = "words"
    output_topic = "word-counts"
    _admin: Any = None

    def state_dir(self) -> str:
        """The application's local state directory (if it C{keeps_local_state})."""
        return os.path.join(self.broker.directory, "state")

    def arguments(self) -> tuple[str, ...]:
        """The script's command line: bootstrap, input, output, group[, state directory]."""
        common = (self.broker.bootstrap, self.input_topic, self.output_topic, self.group)
        return common + (self.state_dir(),) if self.keeps_local_state else common

    def admin(self) -> Any:
        """Return this test's confluent-kafka admin client of its broker.

        One client, kept: a client dropped while a request is in flight
        never completes its futures.
        """
        from confluent_kafka.admin import AdminClient

        if self._admin is None:
            self._admin = AdminClient({"bootstrap.servers": self.broker.bootstrap, **QUIET})
        return self._admin

    def create_topics(self, *names: str) -> None:
        """Create single-partition topics C{names}."""
        from confluent_kafka.admin import NewTopic

        for future in self.admin().create_topics([NewTopic(n, 1, 1) for n in names]).values():
            future.result(10)

    def log_path(self) -> str:
        """The file the script's output goes to (both runs)."""
        return os.path.join(self.broker.directory, f"{self.script}.log")

    def script_log(self) -> str:
        """Return the end of what the script printed (for failure messages)."""
        with open(self.log_path(), errors="replace") as f:
            return f.read()[-6000:]

    def start_application(self) -> subprocess.Popen[bytes]:
        """Start the script; wait until it prints C{ready_line} (if any); stopped at cleanup."""
        with open(self.log_path(), "ab") as log:
            offset = log.tell()
            process = subprocess.Popen([sys.executable, os.path.join(PRODUCTS, self.script),
                                        *self.arguments()],
                                       stdin=subprocess.DEVNULL, stdout=log,
                                       stderr=subprocess.STDOUT, cwd=self.broker.directory)
        self.addCleanup(self.stop_application, process)  # type: ignore[attr-defined]
        ready_line = self.ready_line
        if ready_line is not None:
            def ready() -> bool:
                if process.poll() is not None:
                    return True
                with open(self.log_path(), "rb") as f:
                    f.seek(offset)
                    return ready_line.encode() in f.read()
            self.assertTrue(wait_until(ready) and process.poll() is None,  # type: ignore[attr-defined]
                            self.script_log())
        return process

    def stop_application(self, process: subprocess.Popen[bytes]) -> None:
        """SIGTERM the application and wait for it; SIGKILL if it hangs."""
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def committed(self) -> int:
        """Return the group's committed offset of the input partition (-1 if none)."""
        from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition

        request = ConsumerGroupTopicPartitions(self.group, [TopicPartition(self.input_topic, 0)])
        answer = self.admin().list_consumer_group_offsets([request])[self.group].result(10)
        return int(answer.topic_partitions[0].offset)

    def feed(self, reader: OutputReader, words: Sequence[str], total: Counter[str]) -> None:
        """Produce C{words}; wait until every count of C{total} is out and the input committed.

        @raise FailTest: a count is missing, doubled or out of order.
        """
        produce_words(self.broker.bootstrap, self.input_topic, words)
        counts = reader.read_until(total, TIMEOUT)
        want = {w: list(range(1, n + 1)) for w, n in total.items()}
        self.assertEqual(counts, want, self.script_log())  # type: ignore[attr-defined]
        end = sum(total.values())
        self.assertTrue(wait_until(lambda: self.committed() == end),  # type: ignore[attr-defined]
                        f"{self.group} committed {self.committed()}, not {end}")

    def changelog(self) -> str:
        """Return the name of the application's only changelog topic."""
        topics = sorted(self.admin().list_topics(timeout=10).topics)
        changelogs = [t for t in topics if t.startswith(self.changelog_prefix)]
        self.assertEqual(len(changelogs), 1, topics)  # type: ignore[attr-defined]
        return changelogs[0]

    def cleanup_policy(self, topic: str) -> str:
        """Return C{topic}'s cleanup.policy from DescribeConfigs."""
        from confluent_kafka.admin import ConfigResource

        resource = ConfigResource("TOPIC", topic)
        configs = self.admin().describe_configs([resource])[resource].result(10)
        return str(configs["cleanup.policy"].value)

    def wait_compacted(self, topic: str, keys: int) -> list[Stored]:
        """Wait until the cleaner removed some of C{topic}'s records; return what is left.

        @raise FailTest: nothing was removed in time, or fewer than C{keys}
            distinct keys are left (the cleaner removed a key's latest record).
        """
        left: list[Stored] = []

        def cleaned() -> bool:
            left[:] = read_partition("confluent", self.broker.bootstrap, topic, timeout=10)
            return bool(left) and len(left) < left[-1].offset + 1

        self.assertTrue(wait_until(cleaned),  # type: ignore[attr-defined]
                        f"{topic} was not compacted: {[(r.offset, r.key) for r in left]}")
        self.assertEqual(len({r.key for r in left}), keys,  # type: ignore[attr-defined]
                         [(r.offset, r.key, r.value) for r in left])
        return left

    def test_state_recovered_from_compacted_changelog(self) -> None:
        """After its changelog was compacted and its local state deleted, a restarted
        word count continues every word's count from its total so far."""
        self.create_topics(self.input_topic, self.output_topic)
        reader = OutputReader(self.broker.bootstrap, self.output_topic)
        self.addCleanup(reader.close)  # type: ignore[attr-defined]
        total: Counter[str] = Counter()
        process = self.start_application()
        for words in ROUNDS:
            total.update(words)
            self.feed(reader, words, total)
        self.stop_application(process)
        changelog = self.changelog()
        self.assertEqual(self.cleanup_policy(changelog), "compact")  # type: ignore[attr-defined]
        self.wait_compacted(changelog, len(total))
        if self.keeps_local_state:
            self.assertTrue(os.path.isdir(self.state_dir()))  # type: ignore[attr-defined]
            shutil.rmtree(self.state_dir())
        self.start_application()
        total.update(AFTER)
        self.feed(reader, AFTER, total)


class QuixStreamsTests(StreamProcessorMixin, SynchronousTestCase):
    """Quix Streams (quixstreams, on librdkafka): a stateful C{apply} on RocksDB."""

    skip = missing("quixstreams")
    script = "quix_wordcount.py"
    group = "quix-counter"
    changelog_prefix = "changelog__quix-counter--"  # changelog__GROUP--TOPIC--STORE
    keeps_local_state = True


class FaustTests(StreamProcessorMixin, SynchronousTestCase):
    """Faust (faust-streaming, on aiokafka): a Table in the memory store (nothing on disk)."""

    skip = missing("faust")
    script = "faust_wordcount.py"
    group = "faust-counter"
    changelog_prefix = "faust-counter-counts-changelog"  # APP-TABLE-changelog
    keeps_local_state = False
    ready_line = FAUST_READY
