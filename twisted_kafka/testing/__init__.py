# -*- test-case-name: tests.testing -*-
"""A real Kafka-protocol broker for test suites (issue 17); see docs/testing.md."""
