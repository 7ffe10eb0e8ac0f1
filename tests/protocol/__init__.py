# -*- test-case-name: tests.protocol -*-
"""Tests for the sans-IO wire codec."""
