# -*- test-case-name: tests.protocol.test_schema -*-
"""The declarative schema: naming rule, version ranges, defaults, coverage."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.protocol import schema
from twisted_kafka.protocol.schema import INT32, STRING, Array, Field, Struct, VersionRange


class SnakeCaseTests(SynchronousTestCase):
    """snake_case implements the documented naming rule."""

    def test_names(self) -> None:
        """Capitals after lower case/digits and before an acronym's end get an underscore."""
        for name, expected in [
            ("ThrottleTimeMs", "throttle_time_ms"), ("TopicID", "topic_id"),
            ("IsrNodes", "isr_nodes"), ("ClientSoftwareName", "client_software_name"),
            ("Enable2Pc", "enable2_pc"), ("ResultsByTopicV3AndBelow", "results_by_topic_v3_and_below"),
            ("HTTPServer", "http_server"), ("Name", "name"),
        ]:
            self.assertEqual(schema.snake_case(name), expected)


class VersionRangeTests(SynchronousTestCase):
    """VersionRange parses the JSON's version strings."""

    def test_forms(self) -> None:
        """N+, N-M, N and none."""
        self.assertIn(99, VersionRange("3+"))
        self.assertNotIn(2, VersionRange("3+"))
        self.assertIn(12, VersionRange("0-12"))
        self.assertNotIn(13, VersionRange("0-12"))
        self.assertIn(5, VersionRange("5"))
        self.assertNotIn(6, VersionRange("5"))
        self.assertNotIn(0, VersionRange("none"))


class DefaultTests(SynchronousTestCase):
    """Field defaults."""

    def test_type_defaults(self) -> None:
        """Without a declared default: zero value, or None if nullable somewhere."""
        self.assertEqual(Field("a", INT32, "0+").default, 0)
        self.assertEqual(Field("a", STRING, "0+").default, "")
        self.assertIsNone(Field("a", STRING, "0+", nullable="3+").default)
        self.assertEqual(Field("a", schema.UUID, "0+").default, b"\0" * 16)
        self.assertEqual(Array("a", "0+", of=INT32).default, [])

    def test_declared(self) -> None:
        """A declared default wins; a struct defaults to its members' defaults."""
        self.assertEqual(Field("a", INT32, "0+", default=-1).default, -1)
        s = Struct("s", "0+", fields=[Field("x", INT32, "0+", default=-1), Array("y", "0+", of=INT32)])
        self.assertEqual(s.default, {"x": -1, "y": []})
        self.assertIsNot(s.default["y"], s.default["y"])

    def test_bad_declarations(self) -> None:
        """Unknown types and ambiguous arrays are rejected."""
        self.assertRaises(ValueError, Field, "a", "int128", "0+")
        self.assertRaises(ValueError, Array, "a", "0+")
        self.assertRaises(ValueError, Array, "a", "0+", of=INT32, fields=[])


class CoverageTests(SynchronousTestCase):
    """Every API of the brief has a request and a response schema."""

    def test_api_keys(self) -> None:
        """The served API keys, requests and responses alike."""
        keys = {18, 3, 0, 1, 2, 23, 22, 10, 11, 14, 12, 13, 8, 9, 15, 16, 42, 47, 19, 20, 37, 32,
                33, 44, 60, 21, 17, 36, 50, 51, 29, 30, 31}
        self.assertEqual(set(schema.REQUESTS), keys)
        self.assertEqual(set(schema.RESPONSES), keys)
        for key in keys:
            self.assertEqual(schema.REQUESTS[key].valid_versions, schema.RESPONSES[key].valid_versions)
            self.assertEqual(schema.REQUESTS[key].flexible.text, schema.RESPONSES[key].flexible.text)

    def test_produce_from_v0(self) -> None:
        """Produce keeps versions 0-2 for librdkafka."""
        self.assertEqual(schema.PRODUCE_REQUEST.valid_versions, (0, 13))
        self.assertEqual(schema.PRODUCE_RESPONSE.valid_versions, (0, 13))
