# -*- test-case-name: tests.e2e.test_observability -*-
"""End to end: a real Prometheus scrapes the broker while clients produce and consume, and a
real headless Chromium shows the web UI.

One broker with C{[http] listen} serves the module's tests.  confluent-kafka
produces to a topic and a consumer group reads part of it and commits.
Prometheus (Debian's C{prometheus}, started here with a one-second scrape
interval) must then answer, through its query API, the records the topic
received between its scrapes and the group's lag exactly; Chromium
(C{chromium --headless}) loads the UI's topics, topic and group pages, and
the test reads what they show from the DOM it dumps and keeps a screenshot
in the test's directory.  Each test skips when its program is missing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from typing import Any

from confluent_kafka import Consumer, Producer, TopicPartition
from twisted.trial.unittest import SkipTest, SynchronousTestCase

from tests.e2e.harness import BrokerProcess, free_port
from tests.e2e.shared import shared_broker

PROMETHEUS = shutil.which("prometheus")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

TOPIC = "observed-orders"
GROUP = "observed-billing"
PRODUCED = 300
CONSUMED = 120


def wait_for(check: Any, timeout: float, what: str) -> Any:
    """Call C{check()} until it returns something true; return it, or fail after C{timeout} s."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except OSError as e:
            last = e
        else:
            if last:
                return last
        time.sleep(0.25)
    raise AssertionError(f"{what}: still {last!r} after {timeout} s")


def produce(bootstrap: str, count: int, topic: str = TOPIC) -> None:
    """Produce C{count} records to C{topic} and wait for every acknowledgement."""
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    failed: list[Any] = []
    for i in range(count):
        producer.produce(topic, value=b"order-%d" % i, key=b"k%d" % (i % 7),
                         on_delivery=lambda err, msg: failed.append(err) if err else None)
    assert producer.flush(30) == 0
    assert not failed, failed


def consume_and_commit(bootstrap: str, count: int, topic: str = TOPIC, group: str = GROUP) -> None:
    """Read C{count} records of C{topic} in C{group}, commit their offsets and leave."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic, 0, 0)])
    read = 0
    deadline = time.monotonic() + 30
    while read < count and time.monotonic() < deadline:
        for message in consumer.consume(count - read, timeout=1):
            assert message.error() is None, message.error()
            read += 1
    assert read == count, read
    consumer.commit(offsets=[TopicPartition(topic, 0, count)], asynchronous=False)
    consumer.close()


#: The HTTP port of the module's broker, picked on first use.
_http_port: list[int] = []


class ObservedBrokerCase(SynchronousTestCase):
    """One broker with its HTTP listener for every test here (started on first use)."""

    @property
    def http_port(self) -> int:
        """The broker's HTTP port."""
        if not _http_port:
            _http_port.append(free_port())
        return _http_port[0]

    @property
    def broker(self) -> BrokerProcess:
        """The module's broker."""
        return shared_broker(__name__, http={"listen": f"tcp:{self.http_port}:interface=127.0.0.1"})

    def http(self, path: str) -> bytes:
        """GET C{path} of the broker's HTTP listener."""
        self.broker  # started
        with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}{path}", timeout=10) as response:
            body: bytes = response.read()
            return body


class PrometheusTests(ObservedBrokerCase):
    """A real Prometheus server scrapes /metrics."""

    def setUp(self) -> None:
        """Skip without Prometheus; otherwise start one scraping the broker every second."""
        if PROMETHEUS is None:
            raise SkipTest("prometheus is not installed (apt-get install prometheus)")
        directory = os.path.abspath(self.mktemp())
        os.makedirs(directory)
        config = os.path.join(directory, "prometheus.yml")
        with open(config, "w", encoding="utf-8") as f:
            f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                    "scrape_configs:\n  - job_name: twisted-kafka\n    static_configs:\n"
                    f"      - targets: ['127.0.0.1:{self.http_port}']\n")
        self.prometheus_port = free_port()
        self.broker  # started before it is scraped
        log = open(os.path.join(directory, "prometheus.log"), "wb")
        self.addCleanup(log.close)
        process = subprocess.Popen(
            [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={directory}/data",
             f"--web.listen-address=127.0.0.1:{self.prometheus_port}"],
            stdout=log, stderr=subprocess.STDOUT)

        def stop() -> None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

        self.addCleanup(stop)

    def query(self, expression: str) -> list[tuple[dict[str, str], float]]:
        """Evaluate C{expression} now; return each series' labels and value."""
        url = (f"http://127.0.0.1:{self.prometheus_port}/api/v1/query?"
               + urllib.parse.urlencode({"query": expression}))
        with urllib.request.urlopen(url, timeout=10) as response:
            answer = json.loads(response.read())
        assert answer["status"] == "success", answer
        return [(r["metric"], float(r["value"][1])) for r in answer["data"]["result"]]

    def value(self, expression: str) -> float | None:
        """The one value of C{expression}, or C{None} while it has no series."""
        result = self.query(expression)
        return result[0][1] if len(result) == 1 else None

    def test_record_rate_and_lag(self) -> None:
        """Prometheus sees the records produced between its scrapes and the group's exact lag."""
        topic, group = "scraped-orders", "scraped-billing"
        wait_for(lambda: self.value('up{job="twisted-kafka"}') == 1, 30, "Prometheus scraping the broker")
        # The topic is created through the management API and scraped
        # empty before a record is produced...
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.http_port}/api/vhosts/%2F/topics",
            data=json.dumps({"name": topic, "partitions": 1}).encode(),
            headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            self.assertEqual(response.status, 200)
        records = f'kafka_topic_in_records_total{{topic="{topic}"}}'
        wait_for(lambda: self.value(records) == 0, 30, "the empty topic's series")
        produce(self.broker.bootstrap, PRODUCED, topic)
        consume_and_commit(self.broker.bootstrap, CONSUMED, topic, group)
        wait_for(lambda: self.value(records) == PRODUCED, 30, "the records produced")
        # ... so within the last minute Prometheus saw the counter grow by
        # exactly what was produced, at a positive rate.
        window = f"max_over_time({records}[1m]) - min_over_time({records}[1m])"
        self.assertEqual(self.value(window), PRODUCED)
        self.assertGreater(self.value(f"rate({records}[1m])") or 0, 0)
        lag = f'kafka_group_lag{{group="{group}",topic="{topic}",partition="0"}}'
        wait_for(lambda: self.value(lag) == PRODUCED - CONSUMED, 30, "the group's lag")
        self.assertEqual(self.value(f'kafka_group_topic_lag{{group="{group}",topic="{topic}"}}'),
                         PRODUCED - CONSUMED)
        self.assertEqual(self.value(f'kafka_partition_log_end_offset{{topic="{topic}",partition="0"}}'),
                         PRODUCED)
        requests = self.query('sum by (api) (kafka_requests_total{api=~"Produce|Fetch|OffsetCommit"})')
        self.assertEqual(sorted(labels["api"] for labels, value in requests if value > 0),
                         ["Fetch", "OffsetCommit", "Produce"])


class ChromiumTests(ObservedBrokerCase):
    """A real headless Chromium loads the web UI."""

    def setUp(self) -> None:
        """Skip without Chromium; make sure the topic and group exist."""
        if CHROMIUM is None:
            raise SkipTest("chromium is not installed (apt-get install chromium)")
        self.shots = os.path.abspath(self.mktemp())
        os.makedirs(self.shots)
        topic = json.loads(self.http("/api/vhosts/%2F/groups"))
        if not any(g["group"] == GROUP for g in topic["groups"]):
            produce(self.broker.bootstrap, PRODUCED)
            consume_and_commit(self.broker.bootstrap, CONSUMED)

    def chromium(self, *args: str) -> str:
        """Run headless Chromium with C{args}; return what it prints."""
        profile = os.path.join(self.shots, "profile")
        result = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--no-first-run", f"--user-data-dir={profile}", "--virtual-time-budget=10000", *args],
            capture_output=True, timeout=90)
        return result.stdout.decode("utf-8", "replace")

    def page(self, fragment: str, shot: str) -> str:
        """The DOM of UI page C{fragment} once drawn; a screenshot of it goes to C{shot}.png."""
        url = f"http://127.0.0.1:{self.http_port}/ui/#{fragment}"
        self.chromium("--window-size=1280,900", f"--screenshot={os.path.join(self.shots, shot + '.png')}", url)
        return self.chromium("--dump-dom", url)

    def test_topics_page(self) -> None:
        """The topics page lists the topic with its end offset; a screenshot is kept."""
        end = json.loads(self.http(f"/api/vhosts/%2F/topics/{TOPIC}"))["partitions"][0]["log_end_offset"]
        dom = self.page("/topics", "topics")
        self.assertIn('data-loaded="topics"', dom)
        self.assertIn(f'<tr data-topic="{TOPIC}">', dom)
        self.assertIn(f'<td class="num">{end}</td>', dom)
        self.assertGreater(os.path.getsize(os.path.join(self.shots, "topics.png")), 1000)

    def test_topic_page(self) -> None:
        """A topic's page shows its partition's offsets and its records."""
        dom = self.page(f"/topic/{TOPIC}", "topic")
        self.assertIn(f'<h1 id="topic-name">{TOPIC}</h1>', dom)
        self.assertIn('<tr data-partition="0">', dom)
        self.assertIn("order-0", dom)

    def test_group_page(self) -> None:
        """A group's page shows the committed offset and the lag."""
        lag = json.loads(self.http(f"/api/vhosts/%2F/groups/{GROUP}"))["offsets"][0]["lag"]
        self.assertGreater(lag, 0)
        dom = self.page(f"/group/{GROUP}", "group")
        self.assertIn(f'<tr data-partition="{TOPIC}-0">', dom)
        self.assertIn(f'<td class="num lag">{lag}</td>', dom)
