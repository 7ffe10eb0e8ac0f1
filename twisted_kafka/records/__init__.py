# -*- test-case-name: tests.records -*-
"""RecordBatch v2: header checks, CRC-32C, compression codecs, record iteration."""
