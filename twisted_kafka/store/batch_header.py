# -*- test-case-name: tests.store.test_scan -*-
"""The parts of the RecordBatch v2 header the store reads.

The store never looks at a batch's records: it reads the fixed 61-byte
header (L{twisted_kafka.records.batch.HEADER}, as a plain tuple) to learn
where the batch ends, which offsets it covers, its largest timestamp and its
producer fields, and checks its CRC-32C only while recovering. This module
names the tuple positions and the bytes an append rewrites outside the CRC
(baseOffset, batchLength, partitionLeaderEpoch: L{APPEND_PREFIX}).
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
    "APPEND_PREFIX",
    "PARTITION_LEADER_EPOCH",
]

#: Where the CRC-32C coverage (attributes .. end of batch) starts.
CRC_START = ATTRIBUTES_OFFSET

#: The baseOffset field (bytes 0-8, outside the CRC), rewritten on append.
BASE_OFFSET = struct.Struct(">q")

#: baseOffset, batchLength and partitionLeaderEpoch (bytes 0-16, all outside
#: the CRC): what an append writes in place of the producer's first 16 bytes.
APPEND_PREFIX = struct.Struct(">qii")

#: The leader epoch of every partition of this single node, stamped into
#: each appended batch as Kafka's leader stamps its own epoch.
PARTITION_LEADER_EPOCH = 0

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
