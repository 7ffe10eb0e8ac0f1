# -*- test-case-name: tests.e2e.test_groups -*-
"""Consumer groups end to end: real clients share topics through the real broker.

Each group member runs in its own process (so that one can be killed), with
synchronous commits after every record.  It writes C{C partition offset}
when it has consumed a record and C{K partition offset} once that record's
offset is committed.  The checks: every produced record is committed, no
record is committed twice (a record is consumed again only when its first
consumer could not commit it), and every member gets partitions.  The broker
runs with a short initial rebalance delay, and members use the smallest
session timeout Kafka allows (6 s), so that a killed member is noticed soon.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from typing import TYPE_CHECKING, Any, Callable

from twisted.trial.unittest import SynchronousTestCase

from tests.e2e.clients import QUIET, SharedBrokerCase
from tests.e2e.harness import BrokerProcess, BrokerTestMixin

#: One group member: C{python -c WORKER lib bootstrap group topic output}.
WORKER = r'''
import signal, sys
lib, bootstrap, group, topic, path = sys.argv[1:6]
running = [True]
signal.signal(signal.SIGTERM, lambda *_: running.__setitem__(0, False))
out = open(path, "w", buffering=1)

if lib == "confluent":
    from confluent_kafka import Consumer, KafkaException
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "log_level": 2,
                  "auto.offset.reset": "earliest", "enable.auto.commit": False,
                  "session.timeout.ms": 6000, "heartbeat.interval.ms": 500})
    c.subscribe([topic])
    while running[0]:
        m = c.poll(0.1)
        if m is None or m.error():
            continue
        out.write(f"C {m.partition()} {m.offset()}\n")
        try:
            c.commit(message=m, asynchronous=False)
        except KafkaException:
            continue
        out.write(f"K {m.partition()} {m.offset()}\n")
    c.close()
elif lib == "kafka-python":
    from kafka import KafkaConsumer
    from kafka.structs import OffsetAndMetadata
    c = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group,
                      auto_offset_reset="earliest", enable_auto_commit=False,
                      session_timeout_ms=6000, heartbeat_interval_ms=500)
    while running[0]:
        for tp, messages in c.poll(timeout_ms=100).items():
            for m in messages:
                out.write(f"C {m.partition} {m.offset}\n")
                try:
                    c.commit({tp: OffsetAndMetadata(m.offset + 1, None, -1)})
                except Exception:
                    continue
                out.write(f"K {m.partition} {m.offset}\n")
    c.close()
else:
    import asyncio
    from aiokafka import AIOKafkaConsumer

    async def main():
        c = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group,
                             auto_offset_reset="earliest", enable_auto_commit=False,
                             session_timeout_ms=6000, heartbeat_interval_ms=500)
        await c.start()
        try:
            while running[0]:
                batches = await c.getmany(timeout_ms=100)
                for tp, messages in batches.items():
                    for m in messages:
                        out.write(f"C {m.partition} {m.offset}\n")
                        try:
                            await c.commit({tp: m.offset + 1})
                        except Exception:
                            continue
                        out.write(f"K {m.partition} {m.offset}\n")
        finally:
            await c.stop()

    asyncio.run(main())
out.write("EXIT\n")
'''

#: Broker settings: a short initial rebalance delay keeps the tests fast.
BROKER_KAFKA = {"group_initial_rebalance_delay_ms": 200, "num_partitions": 6}


def wait_until(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll C{predicate} until it is true; fail with C{what} after C{timeout} seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.1)


class Member:
    """One group member process and what it reported."""

    def __init__(self, name: str, lib: str, bootstrap: str, group: str, topic: str,
                 directory: str) -> None:
        self.name = name
        self.path = os.path.join(directory, f"{name}.out")
        self.process = subprocess.Popen(
            [sys.executable, "-c", WORKER, lib, bootstrap, group, topic, self.path],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(directory, f"{name}.err"), "wb"))

    def lines(self) -> list[tuple[str, int, int]]:
        """Return the (kind, partition, offset) lines written so far."""
        try:
            with open(self.path) as f:
                rows = [line.split() for line in f if line.endswith("\n")]
        except FileNotFoundError:
            return []
        return [(r[0], int(r[1]), int(r[2])) for r in rows if len(r) == 3]

    def committed(self) -> set[tuple[int, int]]:
        """The (partition, offset) pairs this member committed."""
        return {(p, o) for kind, p, o in self.lines() if kind == "K"}

    def stop(self) -> None:
        """Close the consumer cleanly (it leaves the group) and wait for the process."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(30)

    def kill(self) -> None:
        """Kill the process: the consumer disappears without leaving."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(30)


if TYPE_CHECKING:
    _TestCase = SynchronousTestCase
else:
    _TestCase = object


class GroupScenario(_TestCase):
    """Members of one group on a six-partition topic of the test's own.

    A mixin: put it before the test case class that provides C{broker}.
    """

    if TYPE_CHECKING:
        broker: BrokerProcess

    def setUp(self) -> Any:
        """Create this test's topic (named after it), a producer and an admin client."""
        from confluent_kafka import Producer
        from confluent_kafka.admin import AdminClient, NewTopic

        result = super().setUp()
        name = self.id().rsplit(".", 1)[-1].replace("_", "-")
        self.topic, self.group = f"{name}-topic", f"{name}-group"
        self.directory = self.mktemp()
        os.makedirs(self.directory)
        self.members: list[Member] = []
        self.addCleanup(self._stop_members)
        self.admin = AdminClient({"bootstrap.servers": self.broker.bootstrap, **QUIET})
        self.admin.create_topics([NewTopic(self.topic, 6, 1)])[self.topic].result(10)
        self.producer = Producer({"bootstrap.servers": self.broker.bootstrap, "linger.ms": 5,
                                  **QUIET})
        self.produced: set[tuple[int, int]] = set()
        self.phase = 0
        return result

    def _stop_members(self) -> None:
        for member in self.members:
            member.kill()
        # Drop the clients now, so they stop reconnecting to the stopped broker.
        del self.producer, self.admin

    def member(self, name: str, lib: str = "confluent") -> Member:
        """Start a group member."""
        member = Member(name, lib, self.broker.bootstrap, self.group, self.topic, self.directory)
        self.members.append(member)
        return member

    def produce(self, per_partition: int = 10) -> set[tuple[int, int]]:
        """Produce records to every partition; return their (partition, offset) pairs."""
        self.phase += 1
        delivered: set[tuple[int, int]] = set()

        def report(error: Any, message: Any) -> None:
            self.assertIsNone(error)
            delivered.add((message.partition(), message.offset()))

        for i in range(per_partition * 6):
            self.producer.produce(self.topic, value=f"{self.phase}-{i}".encode(),
                                  partition=i % 6, on_delivery=report)
        self.assertEqual(self.producer.flush(10), 0)
        self.assertEqual(len(delivered), per_partition * 6)
        self.produced |= delivered
        return delivered

    def describe(self) -> Any:
        """Return the group's description (DescribeGroups through librdkafka's admin client)."""
        return self.admin.describe_consumer_groups([self.group])[self.group].result(10)

    def wait_stable(self, members: int, timeout: float = 30) -> None:
        """Wait until the group is Stable with C{members} members."""
        from confluent_kafka import ConsumerGroupState

        def stable() -> bool:
            description = self.describe()
            return (description.state == ConsumerGroupState.STABLE
                    and len(description.members) == members)

        wait_until(stable, timeout, f"a stable group of {members}")

    def wait_committed(self, records: set[tuple[int, int]], timeout: float = 30) -> None:
        """Wait until every one of C{records} has been committed by some member."""
        def done() -> bool:
            committed: set[tuple[int, int]] = set()
            for member in self.members:
                committed |= member.committed()
            return records <= committed

        wait_until(done, timeout, f"{len(records)} records to be committed")

    def check_once(self) -> None:
        """Every record was committed, and exactly once.

        A record may be consumed again only when its commit failed (a
        rebalance, a killed member): then it was not committed before.
        """
        commits: Counter[tuple[int, int]] = Counter()
        for member in self.members:
            commits.update(member.committed())
        self.assertEqual(set(commits), self.produced)
        self.assertEqual([r for r, n in commits.items() if n > 1], [])

    def consumed_in(self, member: Member, records: set[tuple[int, int]]) -> int:
        """How many of C{records} C{member} consumed."""
        return len({(p, o) for kind, p, o in member.lines() if kind == "C"} & records)


class ClientGroupTests(GroupScenario, SharedBrokerCase):
    """Group consumers of each client share a topic as members come and go."""

    broker_options = {"kafka": BROKER_KAFKA}

    def test_confluent_members_come_and_go(self) -> None:
        """Three confluent-kafka consumers; one leaves, one is killed, one joins: nothing lost or committed twice."""
        self.come_and_go("confluent")

    def test_kafka_python_members_come_and_go(self) -> None:
        """Three kafka-python consumers; one leaves, one is killed, one joins: nothing lost or committed twice."""
        self.come_and_go("kafka-python")

    def test_aiokafka_members_come_and_go(self) -> None:
        """Three aiokafka consumers; one leaves, one is killed, one joins: nothing lost or committed twice."""
        self.come_and_go("aiokafka")

    def come_and_go(self, lib: str) -> None:
        """Three members of C{lib} share the topic; one leaves, one is killed, one joins."""
        a, b, c = self.member("a", lib), self.member("b", lib), self.member("c", lib)
        self.wait_stable(3)
        first = self.produce()
        self.wait_committed(first)
        for member in (a, b, c):
            self.assertGreater(self.consumed_in(member, first), 0, member.name)

        b.stop()
        self.wait_stable(2)
        second = self.produce()
        self.wait_committed(second)
        self.assertEqual(self.consumed_in(b, second), 0)

        c.kill()
        third = self.produce()
        self.wait_committed(third)  # c's partitions move after its session timeout
        self.assertEqual(self.consumed_in(c, third), 0)

        d = self.member("d", lib)
        self.wait_stable(2)
        fourth = self.produce()
        self.wait_committed(fourth)
        self.assertGreater(self.consumed_in(d, fourth), 0)
        self.check_once()


class StaticCooperativeTests(GroupScenario, SharedBrokerCase):
    """Static members with the cooperative-sticky assignor (confluent-kafka, in this process)."""

    broker_options = {"kafka": BROKER_KAFKA}

    def consumer(self, instance: str, events: list[tuple[str, str, list[int]]]) -> Any:
        """Subscribe a static cooperative-sticky consumer; its rebalances go to C{events}."""
        from confluent_kafka import Consumer

        consumer = Consumer({"bootstrap.servers": self.broker.bootstrap, "group.id": self.group,
                             "group.instance.id": instance, **QUIET,
                             "partition.assignment.strategy": "cooperative-sticky",
                             "session.timeout.ms": 6000, "heartbeat.interval.ms": 500})
        self.addCleanup(consumer.close)

        def record(kind: str) -> Callable[[Any, list[Any]], None]:
            return lambda _, parts: events.append(
                (instance, kind, sorted(p.partition for p in parts)))

        consumer.subscribe([self.topic], on_assign=record("assign"),
                           on_revoke=record("revoke"))
        return consumer

    def owned(self, *consumers: Any) -> list[list[int]]:
        """Poll C{consumers} once each; return the partitions each owns."""
        for consumer in consumers:
            consumer.poll(0.05)
        return [sorted(p.partition for p in c.assignment()) for c in consumers]

    def test_static_member_restarts_without_rebalance(self) -> None:
        """A second member takes partitions incrementally; a static member restarting
        within its session timeout gets its partitions back, and nobody rebalances."""
        events: list[tuple[str, str, list[int]]] = []
        a = self.consumer("a", events)
        wait_until(lambda: self.owned(a) == [list(range(6))], 30, "a to own every partition")
        b = self.consumer("b", events)

        def shared() -> bool:
            owned_a, owned_b = self.owned(a, b)
            return len(owned_a) == len(owned_b) == 3 and set(owned_a + owned_b) == set(range(6))

        wait_until(shared, 30, "a and b to share the partitions")
        # Incremental: a gave up only the partitions that moved to b.
        self.assertNotIn(("a", "revoke", list(range(6))), events)
        owned_a = self.owned(a)[0]
        a.close()  # a static member does not leave the group when it closes
        events.clear()
        again = self.consumer("a", events)
        wait_until(lambda: self.owned(again, b)[0] == owned_a, 30, "a to get its partitions back")
        for _ in range(20):
            self.owned(again, b)
        self.assertEqual([e for e in events if e[0] == "b"], [])
        description = self.describe()
        self.assertEqual(sorted(m.group_instance_id for m in description.members), ["a", "b"])


class RestartTests(GroupScenario, BrokerTestMixin, SynchronousTestCase):
    """Committed offsets survive a broker restart."""

    broker_options = {"kafka": BROKER_KAFKA}

    def test_resume_after_restart(self) -> None:
        """After a restart a group member resumes at the committed offsets."""
        first = self.member("first")
        self.wait_stable(1)
        before = self.produce()
        self.wait_committed(before)
        first.stop()
        self.broker.restart()
        after = self.produce()
        second = self.member("second", "kafka-python")
        self.wait_committed(after)
        self.assertEqual({(p, o) for kind, p, o in second.lines() if kind == "C"}, after)
        self.check_once()
