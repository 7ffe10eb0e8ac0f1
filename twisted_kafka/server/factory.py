# -*- test-case-name: tests.server.test_connection -*-
"""The protocol factory every listener serves (re-exported for the tap)."""

from twisted_kafka.server.connection import KafkaServerFactory

__all__ = ["KafkaServerFactory"]
