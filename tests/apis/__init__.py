# -*- test-case-name: tests.apis -*-
"""Tests for the Kafka API responders, through the codec on a real store."""
