# -*- test-case-name: tests -*-
"""Tests for twisted-kafka, mirroring the package layout."""
