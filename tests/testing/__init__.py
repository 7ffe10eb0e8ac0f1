# -*- test-case-name: tests.testing -*-
"""Tests for L{twisted_kafka.testing}, the test toolkit users install."""
