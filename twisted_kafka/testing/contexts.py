# -*- test-case-name: tests.testing.test_process -*-
"""Brokers and topics as context managers, for unittest, trial and scripts.

  - L{shared_broker}: the broker a whole test run shares: the external one
    named by C{KAFKA_BOOTSTRAP_SERVERS} when set, else a fresh L{KafkaBroker};
  - L{KafkaBroker} itself (C{with KafkaBroker(tls=True) as broker:}) for a
    broker of a test's own, with its own settings;
  - L{topics}: a L{TopicFactory} whose topics are deleted at the end.

The pytest fixtures (L{twisted_kafka.testing.pytest_plugin}) are these.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator, Mapping

from twisted_kafka.testing.helpers import create_topic, delete_topics, unique_topic_name
from twisted_kafka.testing.process import KafkaBroker

#: The environment variable naming an external broker to test against.
BOOTSTRAP_ENV = "KAFKA_BOOTSTRAP_SERVERS"


class ExternalBroker:
    """A broker this process did not start (C{KAFKA_BOOTSTRAP_SERVERS}).

    @ivar bootstrap: its bootstrap address, as given.
    """

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap

    @property
    def tls_bootstrap(self) -> str:
        """Not known for an external broker."""
        raise RuntimeError(f"{BOOTSTRAP_ENV} names an external broker: its TLS address is unknown")

    def restart(self) -> ExternalBroker:
        """An external broker cannot be restarted from here."""
        raise RuntimeError(f"{BOOTSTRAP_ENV} names an external broker: it cannot be restarted; "
                           "use a broker of the test's own (kafka_broker_factory)")

    def close(self) -> None:
        """Nothing to do: the broker is not ours."""


def external_bootstrap() -> str | None:
    """Return C{KAFKA_BOOTSTRAP_SERVERS}, or C{None} when unset or blank."""
    value = os.environ.get(BOOTSTRAP_ENV, "").strip()
    return value or None


@contextmanager
def shared_broker() -> Iterator[KafkaBroker | ExternalBroker]:
    """Yield the external broker if C{KAFKA_BOOTSTRAP_SERVERS} is set, else a new one.

    A broker started here is stopped, and its files removed, at the end.
    """
    bootstrap = external_bootstrap()
    if bootstrap is not None:
        yield ExternalBroker(bootstrap)
        return
    with KafkaBroker() as broker:
        yield broker


class TopicFactory:
    """Makes uniquely named topics on one broker; L{delete_all} removes them.

    @ivar created: the names made so far.
    """

    def __init__(self, bootstrap: str, prefix: str = "test") -> None:
        """
        @param prefix: the start of every name (e.g. the test's name).
        """
        self.bootstrap = bootstrap
        self.prefix = prefix
        self.created: list[str] = []

    def __call__(self, partitions: int = 1, config: Mapping[str, str] | None = None,
                 prefix: str | None = None) -> str:
        """Create a new topic and return its name (once it has a leader everywhere)."""
        name = unique_topic_name(prefix or self.prefix)
        self.created.append(name)
        create_topic(self.bootstrap, name, partitions, config)
        return name

    def delete_all(self) -> None:
        """Delete every topic made here (those already deleted are skipped)."""
        created, self.created = self.created, []
        delete_topics(self.bootstrap, created)


@contextmanager
def topics(bootstrap: str, prefix: str = "test") -> Iterator[TopicFactory]:
    """Yield a L{TopicFactory} on C{bootstrap}; its topics are deleted at the end."""
    factory = TopicFactory(bootstrap, prefix)
    try:
        yield factory
    finally:
        factory.delete_all()
