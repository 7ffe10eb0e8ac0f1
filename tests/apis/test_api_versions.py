# -*- test-case-name: tests.apis.test_api_versions -*-
"""Tests for L{twisted_kafka.apis.api_versions} and the registry it reports."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.apis import build_registry
from twisted_kafka.errors import ErrorCode
from twisted_kafka.protocol import messages
from tests.apis.support import call, make_broker, roundtrip

API_VERSIONS = 18


class ApiVersionsTests(SynchronousTestCase):
    """ApiVersions advertises exactly the registry."""

    def setUp(self) -> None:
        """Start a broker on a temporary store."""
        self.broker = make_broker(self)

    def test_every_version_lists_registry(self) -> None:
        """Each version 0-4 lists every served API with its range."""
        expected = {s.api_key: (s.min_version, s.max_version) for s in self.broker.registry.served()}
        for version in range(0, 5):
            request = {"client_software_name": "test-client", "client_software_version": "1.0"}
            response = roundtrip(API_VERSIONS, version, call(self.broker, API_VERSIONS, version, request))
            self.assertEqual(response["error_code"], ErrorCode.NONE)
            got = {k["api_key"]: (k["min_version"], k["max_version"]) for k in response["api_keys"]}
            self.assertEqual(got, expected, version)

    def test_invalid_software_name(self) -> None:
        """From v3 a client software name outside Kafka's pattern is INVALID_REQUEST."""
        for name, version in [("bad name!", "1.0"), ("ok", "-1.0"), ("", "1")]:
            response = call(self.broker, API_VERSIONS, 3,
                            {"client_software_name": name, "client_software_version": version})
            self.assertEqual(response["error_code"], ErrorCode.INVALID_REQUEST, name)

    def test_produce_advertised_from_zero(self) -> None:
        """Produce is advertised from v0 (librdkafka's compression check, KAFKA-18659)."""
        produce = self.broker.registry.get(0)
        self.assertEqual(produce.min_version, 0)


class RegistryCoherenceTests(SynchronousTestCase):
    """What is advertised can be decoded and encoded."""

    def test_codec_covers_every_served_version(self) -> None:
        """The codec has a request decoder and response encoder for every served version."""
        for served in build_registry().served():
            for version in range(served.min_version, served.max_version + 1):
                messages.request_decoder(served.api_key, version)
                messages.response_encoder(served.api_key, version)
