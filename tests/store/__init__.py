# -*- test-case-name: tests.store -*-
"""Tests for the stream-queue store."""
