# -*- test-case-name: tests.server -*-
"""Tests for framing, connections, listeners and TLS."""
