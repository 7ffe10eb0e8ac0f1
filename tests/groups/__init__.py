# -*- test-case-name: tests.groups -*-
"""Tests for the consumer-group coordinator."""
