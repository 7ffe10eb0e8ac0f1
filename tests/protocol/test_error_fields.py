# -*- test-case-name: tests.protocol.test_error_fields -*-
"""Tests for L{twisted_kafka.protocol.error_fields}: error codes found where the schema puts them."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.protocol.error_fields import error_counter

PRODUCE, METADATA, API_VERSIONS = 0, 3, 18


class ErrorCounterTests(SynchronousTestCase):
    """The generated walks visit every error code of a response version and nothing else."""

    def walk(self, api_key: int, version: int, body: dict) -> list[int]:
        """Return the non-zero codes the walk of C{api_key} C{version} finds in C{body}."""
        walk = error_counter(api_key, version)
        assert walk is not None
        found: list[int] = []
        walk(body, found.append)
        return found

    def test_nested_partitions(self) -> None:
        """Produce's partition-level codes are found, zeros skipped."""
        body = {"responses": [
            {"name": "a", "partition_responses": [{"index": 0, "error_code": 0},
                                                  {"index": 1, "error_code": 3}]},
            {"name": "b", "partition_responses": [{"index": 0, "error_code": 10}]}]}
        self.assertEqual(self.walk(PRODUCE, 9, body), [3, 10])

    def test_top_level_and_nested(self) -> None:
        """Metadata's topic codes and partition codes are both found."""
        body = {"topics": [{"name": "t", "error_code": 3,
                            "partitions": [{"partition_index": 0, "error_code": 5}]}]}
        self.assertEqual(self.walk(METADATA, 12, body), [3, 5])

    def test_top_level(self) -> None:
        """ApiVersions's one top-level code is found."""
        self.assertEqual(self.walk(API_VERSIONS, 3, {"error_code": 35, "api_keys": []}), [35])

    def test_missing_arrays(self) -> None:
        """A body without the arrays (None or absent) finds nothing."""
        self.assertEqual(self.walk(PRODUCE, 9, {"responses": None}), [])
        self.assertEqual(self.walk(PRODUCE, 9, {}), [])

    def test_unknown_api(self) -> None:
        """An API without a response schema has no walk."""
        self.assertIsNone(error_counter(9999, 0))

    def test_cached(self) -> None:
        """One walk per (API, version)."""
        self.assertIs(error_counter(PRODUCE, 9), error_counter(PRODUCE, 9))
