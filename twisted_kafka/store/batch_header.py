# -*- test-case-name: tests.store.test_scan -*-
"""The parts of the RecordBatch v2 header the store reads.

The store never looks inside a batch: it reads the fixed 61-byte header to
learn where the batch ends, which offsets it covers, its largest timestamp and
its producer fields, and (only during recovery) checks its CRC-32C. These
definitions are private to the store so that it does not depend on the
``records`` layer being complete.
"""

from __future__ import annotations

import struct

#: baseOffset, batchLength, partitionLeaderEpoch, magic, crc, attributes,
#: lastOffsetDelta, baseTimestamp, maxTimestamp, producerId, producerEpoch,
#: baseSequence, recordCount.
HEADER = struct.Struct(">qiibIhiqqqhii")
HEADER_SIZE = HEADER.size  # 61

#: baseOffset, batchLength, partitionLeaderEpoch, magic, crc, attributes,
#: lastOffsetDelta: the first 27 bytes, enough to walk a log and know which
#: offsets each batch covers.
WALK = struct.Struct(">qiibIhi")
WALK_SIZE = WALK.size  # 27

#: baseOffset + batchLength: bytes of a batch not counted by batchLength.
LOG_OVERHEAD = 12

#: Where the CRC-32C coverage (attributes .. end of batch) starts.
CRC_START = 21

#: The stored CRC field.
CRC_FIELD = struct.Struct(">I")
CRC_OFFSET = 17

#: The baseOffset field, rewritten on append.
BASE_OFFSET = struct.Struct(">q")

MAGIC_V2 = 2

#: Field positions in a L{HEADER} tuple.
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

#: Smallest sane batchLength: the header after the length field, no records.
MIN_BATCH_LENGTH = HEADER_SIZE - LOG_OVERHEAD
