# -*- test-case-name: tests.apis -*-
"""Building a real broker (store on temporary files, fake clock) for responder tests."""

from __future__ import annotations

import dataclasses
from typing import Any

from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.broker import Broker
from twisted_kafka.config import BrokerConfig
from twisted_kafka.protocol import messages
from twisted_kafka.server.authorizer import ANONYMOUS, access_for
from twisted_kafka.server.context import RequestContext


def make_broker(case: SynchronousTestCase, kafka: dict | None = None,
                store: dict | None = None) -> Broker:
    """Return a started broker whose store lives under C{case.mktemp()}.

    @param kafka: overrides of L{KafkaConfig} fields.
    @param store: overrides of L{StoreConfig} fields (fsync defaults to off here).
    """
    from twisted_kafka.store.service import StreamStore

    config = BrokerConfig()
    config = dataclasses.replace(
        config,
        kafka=dataclasses.replace(config.kafka, **(kafka or {})),
        store=dataclasses.replace(config.store, **({"fsync": False} | (store or {}))),
    )
    from tests.store.helpers import FakeThreadPool, ThreadlessClock

    clock = ThreadlessClock(start=0)
    data_dir = case.mktemp()
    # fsync rounds and file removals are queued on a fake pool and run on
    # this thread when a test calls threadpool.run_all(): no real threads.
    stream_store = StreamStore(data_dir, config.store, reactor=clock,
                               threadpool=FakeThreadPool())
    stream_store.startService()
    case.addCleanup(stream_store.stopService)
    broker = Broker(config, stream_store, clock)
    return broker


def limit_open_files(broker: Broker, room: int) -> None:
    """Give C{broker}'s store an open-file limit leaving room for C{room} more partitions."""
    from tests.store.helpers import FakeFileLimit

    store = broker.store
    budget = store.descriptors  # type: ignore[attr-defined]
    limit = budget.need(len(store.partitions()) + room)  # type: ignore[attr-defined]
    budget.limit = FakeFileLimit(limit, limit)


def call(broker: Broker, api_key: int, version: int, request: dict,
         vhost: str = "/") -> Any:
    """Encode C{request}, decode it as the server would, and call the responder.

    Going through the codec both ways makes the test see exactly the fields
    the version carries; the broker's authorizer is asked as the dispatcher
    asks it.
    """
    data = messages.request_encoder(api_key, version)(request)
    decoded = messages.request_decoder(api_key, version)(data, 0)
    served = broker.registry.get(api_key)
    assert served is not None and served.serves(version), (api_key, version)
    context = RequestContext(
        broker=broker, vhost=broker.store.vhost(vhost),
        api_version=version, client_id="test", peer="test:1",
        advertised_host="127.0.0.1", advertised_port=9092,
        access=access_for(broker.authorizer, ANONYMOUS, served.needs, decoded),
    )
    return served.responder(decoded, context)


def roundtrip(api_key: int, version: int, response: dict) -> dict:
    """Encode a response body at C{version} and decode it back, as a client would."""
    chunks = messages.response_encoder(api_key, version)(response)
    return messages.response_decoder(api_key, version)(messages.joined(chunks), 0)
