# -*- test-case-name: tests -*-
"""twisted-kafka: a Kafka-protocol broker on Twisted whose topic partitions are stream queues."""

__version__ = "0.1.0"
