# -*- test-case-name: tests.test_tap -*-
"""The twistd dropin: makes C{twistd kafka} run the broker (see L{twisted_kafka.tap})."""

from twisted.application.service import ServiceMaker

twisted_kafka = ServiceMaker("twisted-kafka", "twisted_kafka.tap", "A Kafka-protocol broker", "kafka")
