# -*- test-case-name: tests.server.test_registry -*-
"""Tests for L{twisted_kafka.server.registry}."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.apis import build_registry
from twisted_kafka.protocol import messages
from twisted_kafka.protocol.messages import Fields
from twisted_kafka.server.context import RequestContext
from twisted_kafka.server.registry import ResponderRegistry


def _answer(request: Fields, context: RequestContext) -> Fields:
    """A responder that answers nothing in particular."""
    return {}


class RegistryTests(SynchronousTestCase):
    """L{ResponderRegistry}: one registration per api key, ranges checked."""

    def test_register_and_get(self) -> None:
        """A registered API is found by key and serves exactly its range."""
        registry = ResponderRegistry()
        registry.register(3, "Metadata", 1, 12, _answer)
        served = registry.get(3)
        assert served is not None
        self.assertEqual((served.name, served.responder), ("Metadata", _answer))
        self.assertEqual([served.serves(v) for v in (0, 1, 12, 13)], [False, True, True, False])
        self.assertIsNone(registry.get(4))

    def test_twice(self) -> None:
        """An api key registered twice is a ValueError."""
        registry = ResponderRegistry()
        registry.register(3, "Metadata", 0, 12, _answer)
        self.assertRaises(ValueError, registry.register, 3, "Other", 0, 1, _answer)

    def test_empty_range(self) -> None:
        """A min version above the max is a ValueError."""
        self.assertRaises(ValueError, ResponderRegistry().register, 3, "Metadata", 5, 4, _answer)

    def test_served_in_key_order(self) -> None:
        """L{served} lists registrations by api key."""
        registry = ResponderRegistry()
        registry.register(18, "ApiVersions", 0, 4, _answer)
        registry.register(0, "Produce", 3, 13, _answer)
        self.assertEqual([s.api_key for s in registry.served()], [0, 18])

    def test_broker_registry_within_schema(self) -> None:
        """Every API the broker registers has a request and a response codec at every served version."""
        for served in build_registry().served():
            for version in range(served.min_version, served.max_version + 1):
                messages.request_decoder(served.api_key, version)
                messages.response_encoder(served.api_key, version)

    def test_every_schema_served(self) -> None:
        """The codec has schemas for exactly the APIs the broker serves (no dead schemas)."""
        served = {s.api_key for s in build_registry().served()}
        self.assertEqual(set(messages.SCHEMAS), served)
        self.assertEqual(set(messages.RESPONSE_SCHEMAS), served)
