# -*- test-case-name: tests.store.test_scan -*-
"""The parts of the RecordBatch v2 header the store reads.

The store never looks inside a batch: it unpacks the fixed 61-byte header
(L{twisted_kafka.records.batch.HEADER}) into a plain tuple to learn where the
batch ends, which offsets it covers, its largest timestamp and its producer
fields, and (only during recovery) checks its CRC-32C. This module names the
tuple positions and the store's one rewrite, of baseOffset.
"""

from __future__ import annotations

import struct

from twisted_kafka.records.batch import (
    ATTRIBUTES_OFFSET,
    HEADER,
    HEADER_SIZE,
    LOG_OVERHEAD,
    MAGIC_V2,
    MIN_BATCH_LENGTH,
)

__all__ = [
    "HEADER",
    "HEADER_SIZE",
    "LOG_OVERHEAD",
    "MAGIC_V2",
    "MIN_BATCH_LENGTH",
    "CRC_START",
    "BASE_OFFSET",
]

#: Where the CRC-32C coverage (attributes .. end of batch) starts.
CRC_START = ATTRIBUTES_OFFSET

#: The baseOffset field (bytes 0-8, outside the CRC), rewritten on append.
BASE_OFFSET = struct.Struct(">q")

#: Positions in a C{HEADER.unpack_from} tuple.
F_BASE_OFFSET = 0
F_BATCH_LENGTH = 1
F_MAGIC = 3
F_CRC = 4
F_ATTRIBUTES = 5
F_LAST_OFFSET_DELTA = 6
F_BASE_TIMESTAMP = 7
F_MAX_TIMESTAMP = 8
F_PRODUCER_ID = 9
F_PRODUCER_EPOCH = 10
F_BASE_SEQUENCE = 11
F_RECORD_COUNT = 12
