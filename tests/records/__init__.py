# -*- test-case-name: tests.records -*-
"""Tests for RecordBatch v2 handling and compression codecs."""
