# -*- test-case-name: tests.testing -*-
"""A real Kafka-protocol broker for test suites: pytest fixtures, context managers, in-process.

  - L{KafkaBroker}: a broker process of its own, started in milliseconds by
    a pre-imported fork server (L{twisted_kafka.testing.process});
  - L{InProcessBroker}: the broker's service on this process's reactor, for
    Twisted applications and trial tests (L{twisted_kafka.testing.inprocess});
  - L{shared_broker}, L{topics}, L{TopicFactory}: context managers for
    unittest and trial (L{twisted_kafka.testing.contexts});
  - L{create_topic}, L{delete_topics}, L{produce}, L{wait_for_topic},
    L{read_topic}, L{wait_for_committed_offset}
    (L{twisted_kafka.testing.helpers});
  - the pytest fixtures C{kafka_broker}, C{kafka_bootstrap},
    C{kafka_broker_factory} and C{kafka_topic}
    (L{twisted_kafka.testing.pytest_plugin}, loaded by pytest itself).

See docs/testing.md.  Names are imported on first use, so importing this
package costs nothing until one is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from twisted_kafka.testing.client import KafkaRequestError
    from twisted_kafka.testing.contexts import (
        ExternalBroker, TopicFactory, shared_broker, topics)
    from twisted_kafka.testing.helpers import (
        TopicRecord, create_topic, delete_topics, produce, read_topic, unique_topic_name,
        wait_for_committed_offset, wait_for_topic)
    from twisted_kafka.testing.inprocess import InProcessBroker
    from twisted_kafka.testing.process import KafkaBroker
    from twisted_kafka.testing.settings import BrokerSettings, BrokerStartError

_EXPORTS = {
    "BrokerSettings": "settings",
    "BrokerStartError": "settings",
    "InProcessBroker": "inprocess",
    "KafkaBroker": "process",
    "KafkaRequestError": "client",
    "ExternalBroker": "contexts",
    "TopicFactory": "contexts",
    "shared_broker": "contexts",
    "topics": "contexts",
    "TopicRecord": "helpers",
    "create_topic": "helpers",
    "delete_topics": "helpers",
    "produce": "helpers",
    "read_topic": "helpers",
    "unique_topic_name": "helpers",
    "wait_for_committed_offset": "helpers",
    "wait_for_topic": "helpers",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Import C{name} from its module on first use."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
