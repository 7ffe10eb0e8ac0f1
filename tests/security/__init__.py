# -*- test-case-name: tests.security -*-
"""Tests for SASL mechanisms, credentials and ACLs."""
