# -*- test-case-name: tests.store -*-
"""Stream queues on disk: per vhost, per topic partition, a segmented log.

The public entry point is L{twisted_kafka.store.service.StreamStore}.
"""
