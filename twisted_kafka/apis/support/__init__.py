# -*- test-case-name: tests.apis -*-
"""Helpers shared by the API modules of L{twisted_kafka.apis}; none serves an API.

Every module directly in C{apis/} serves Kafka APIs; what two or more of them
share lives here.
"""
