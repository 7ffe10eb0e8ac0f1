# -*- test-case-name: tests.observability.test_json_api -*-
"""Reading a few records of a partition for people: from an offset or a timestamp, shown safely.

L{peek} reads whole stored batches through L{IPartitionLog.read} (what Fetch
reads) and parses their records.  Keys, values and header values become
L{shown} values: C{{"text": ...}} when they are UTF-8 without control
characters, C{{"base64": ...}} otherwise, so that neither JSON nor the UI
ever carries raw client bytes.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from twisted_kafka.errors import ErrorCode, KafkaError
from twisted_kafka.records.batch import split_batches
from twisted_kafka.records.record import iter_records
from twisted_kafka.store.interfaces import IPartitionLog

#: Bytes read per step while collecting records.
READ_BYTES = 1 << 20
#: The most bytes one batch may decompress to while peeking.
MAX_DECOMPRESSED = 64 << 20
#: Control characters (other than tab, newline, carriage return) that make a value binary.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def shown(data: bytes | None) -> dict[str, Any] | None:
    """C{data} as JSON can carry it: text when it is plain UTF-8, base64 otherwise; C{None} stays."""
    if data is None:
        return None
    try:
        text = bytes(data).decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and not _CONTROL.search(text):
        return {"text": text}
    return {"base64": base64.b64encode(bytes(data)).decode("ascii")}


def start_offset(partition: IPartitionLog, offset: int | None, timestamp: int | None) -> int:
    """Where to start: C{offset} (clamped to the log), the first record at or after C{timestamp}, or the log start."""
    if timestamp is not None:
        found = partition.offset_for_timestamp(timestamp)
        return partition.high_watermark if found is None else found[0]
    if offset is None:
        return partition.log_start_offset
    return min(max(offset, partition.log_start_offset), partition.high_watermark)


def peek(partition: IPartitionLog, offset: int | None, timestamp: int | None,
         limit: int) -> list[dict[str, Any]]:
    """Up to C{limit} records from the start L{start_offset} picks, as JSON-ready dicts.

    With a timestamp, records older than it in the first batch are skipped too.
    """
    position = start_offset(partition, offset, timestamp)
    first = position
    out: list[dict[str, Any]] = []
    while len(out) < limit and position < partition.high_watermark:
        try:
            data = partition.read(position, READ_BYTES)
        except KafkaError as e:
            if e.code == ErrorCode.OFFSET_OUT_OF_RANGE:
                break
            raise
        if not data:
            break
        for start, end, header in split_batches(data):
            for record in iter_records(data[start:end], header, MAX_DECOMPRESSED):
                if record.offset < first or (timestamp is not None and record.timestamp < timestamp):
                    continue
                out.append({
                    "offset": record.offset,
                    "timestamp": record.timestamp,
                    "key": shown(record.key),
                    "value": shown(record.value),
                    "headers": [{"key": shown(name.encode("utf-8", "surrogateescape")),
                                 "value": shown(value)} for name, value in record.headers],
                })
                if len(out) >= limit:
                    return out
            position = max(position, header.base_offset + header.last_offset_delta + 1)
    return out
