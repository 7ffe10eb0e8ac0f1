# -*- test-case-name: tests.fuzz.test_requests -*-
"""Tests for L{tests.fuzz.requests}: the generators the broker fuzz test relies on.

If these generators made requests the broker's decoder refuses outright,
the fuzz test would only ever exercise the framing and decode errors; if a
seed did not reproduce its case, a failure could not be replayed.
"""

from __future__ import annotations

import random

from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.apis import build_registry
from twisted_kafka.errors import ErrorCode, KafkaError
from twisted_kafka.protocol import messages
from twisted_kafka.records.batch import validate_produce_records
from twisted_kafka.records.record import iter_records

from tests.fuzz import requests as fuzz

NAMES = fuzz.Names(topics=("fz-a", "fz-b"), groups=("fz-g",), doomed=("fz-x",))


def served_apis() -> list[tuple[int, int, int]]:
    """(api key, lowest, highest version) of every API the broker serves."""
    return [(api.api_key, api.min_version, api.max_version)
            for api in build_registry().served() if api.api_key in messages.SCHEMAS]


class PlausibleTests(SynchronousTestCase):
    """L{fuzz.plausible} makes requests the broker's decoder reads back."""

    def test_every_api_and_version(self) -> None:
        """For each served API and version, plausible requests encode and decode."""
        rng = random.Random(5)
        for api_key, low, high in served_apis():
            for version in range(low, high + 1):
                for _ in range(3):
                    request = fuzz.plausible(rng, api_key, version, NAMES)
                    body = messages.request_encoder(api_key, version)(request)
                    decoded = messages.request_decoder(api_key, version)(body, 0)
                    self.assertIsInstance(decoded, dict, (api_key, version))

    def test_destructive_apis_use_doomed_topics(self) -> None:
        """DeleteTopics and DeleteRecords name only the doomed topics."""
        rng = random.Random(3)
        for _ in range(50):
            request = fuzz.plausible(rng, 20, 4, NAMES)
            for name in request["topic_names"]:
                self.assertNotIn(name, NAMES.topics)

    def test_batches_mostly_valid(self) -> None:
        """Plausible record batches pass validation; damaged ones are refused unless sound."""
        rng = random.Random(11)
        for _ in range(100):
            validate_produce_records(fuzz._batch(rng), full=True, max_decompressed=1 << 20)
        refused = 0
        for _ in range(100):
            batch = fuzz._damaged_batch(rng)
            try:
                [(_, _, header)] = validate_produce_records(batch, full=False,
                                                            max_decompressed=1 << 20)
            except KafkaError as e:
                self.assertIn(e.code, (ErrorCode.INVALID_RECORD, ErrorCode.CORRUPT_MESSAGE))
                refused += 1
            else:
                # The "damage" happened to write the true count: still sound.
                self.assertEqual(len(list(iter_records(batch, header, 1 << 20))),
                                 header.record_count)
        self.assertGreater(refused, 80)


class CaseTests(SynchronousTestCase):
    """L{fuzz.make_case} is deterministic per seed and does mutate."""

    def test_deterministic(self) -> None:
        """The same seed gives the same case; different seeds differ."""
        apis = served_apis()
        self.assertEqual(fuzz.make_case(77, apis, NAMES), fuzz.make_case(77, apis, NAMES))
        bodies = {fuzz.make_case(seed, apis, NAMES).body for seed in range(50)}
        self.assertGreater(len(bodies), 45)

    def test_mutations_change_bodies(self) -> None:
        """Byte mutations always change the body."""
        rng = random.Random(1)
        body = bytes(range(100))
        for _ in range(200):
            self.assertNotEqual(fuzz.mutate_bytes(rng, body), body)

    def test_every_api_drawn(self) -> None:
        """Over a thousand seeds every served API is drawn."""
        apis = served_apis()
        drawn = {fuzz.make_case(seed, apis, NAMES).api_key for seed in range(1000)}
        self.assertEqual(drawn, {key for key, _, _ in apis})
