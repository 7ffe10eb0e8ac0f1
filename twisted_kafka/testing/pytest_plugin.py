# -*- test-case-name: tests.testing.test_pytest_plugin -*-
"""The pytest plugin: fixtures for tests against a real Kafka-protocol broker.

Installed with the package (entry point C{pytest11} named C{twisted_kafka}),
so pytest loads it in any environment that has twisted-kafka installed
(C{-p no:twisted_kafka} turns it off).  Loading it imports nothing but
pytest: the toolkit is imported, and a broker started, only when a test asks
for a fixture; and importing C{twisted_kafka} never imports pytest.

  - C{kafka_broker} (session): the shared broker, a
    L{twisted_kafka.testing.process.KafkaBroker}, or an
    L{twisted_kafka.testing.contexts.ExternalBroker} when
    C{KAFKA_BOOTSTRAP_SERVERS} is set;
  - C{kafka_bootstrap} (session): its address, C{"127.0.0.1:PORT"};
  - C{kafka_broker_factory}: C{kafka_broker_factory(tls=True, partitions=3,
    kafka={...}, store={...})} starts a broker of the test's own (always a
    local one), stopped after the test;
  - C{kafka_topic}: the name of a new one-partition topic on the shared
    broker, deleted after the test;
  - C{kafka_topic_factory}: C{kafka_topic_factory(partitions=3,
    config={...})} makes more such topics.

A broker that cannot start fails the tests that use it with its log's tail.
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import TYPE_CHECKING, Any, Callable, Iterator

import pytest

if TYPE_CHECKING:
    from twisted_kafka.testing.contexts import ExternalBroker, TopicFactory
    from twisted_kafka.testing.process import KafkaBroker


@pytest.fixture(scope="session")
def kafka_broker() -> Iterator[KafkaBroker | ExternalBroker]:
    """The broker the whole session shares (C{KAFKA_BOOTSTRAP_SERVERS} if set)."""
    from twisted_kafka.testing.contexts import shared_broker
    from twisted_kafka.testing.settings import BrokerStartError

    with ExitStack() as stack:
        try:
            broker = stack.enter_context(shared_broker())
        except BrokerStartError as e:
            reason = str(e)  # failed below, outside the handler: no chained traceback
        else:
            yield broker
            return
    pytest.fail(reason, pytrace=False)


@pytest.fixture(scope="session")
def kafka_bootstrap(kafka_broker: KafkaBroker | ExternalBroker) -> str:
    """The shared broker's bootstrap address."""
    return kafka_broker.bootstrap


@pytest.fixture
def kafka_broker_factory() -> Iterator[Callable[..., KafkaBroker]]:
    """Start brokers of the test's own: C{kafka_broker_factory(**settings)}."""
    from twisted_kafka.testing.process import KafkaBroker
    from twisted_kafka.testing.settings import BrokerStartError

    started: list[KafkaBroker] = []

    def start(settings: Any = None, **options: Any) -> KafkaBroker:
        broker = KafkaBroker(settings, **options)
        started.append(broker)
        try:
            return broker.start()
        except BrokerStartError as e:
            reason = str(e)
        pytest.fail(reason, pytrace=False)

    yield start
    for broker in started:
        broker.close()


@pytest.fixture
def kafka_topic_factory(request: pytest.FixtureRequest,
                        kafka_bootstrap: str) -> Iterator[TopicFactory]:
    """Make topics for this test, named after it: C{kafka_topic_factory(partitions=1, config=None)}."""
    from twisted_kafka.testing.contexts import topics

    with topics(kafka_bootstrap, prefix=request.node.name) as factory:
        yield factory


@pytest.fixture
def kafka_topic(kafka_topic_factory: TopicFactory) -> str:
    """A new one-partition topic on the shared broker, named after the test."""
    return kafka_topic_factory()
