# -*- test-case-name: tests.store.test_producers -*-
"""Idempotent-producer state of one partition: deduplication and sequence checks.

This follows Kafka's C{ProducerStateManager} / C{ProducerAppendInfo}: for
every producer id the partition remembers the current epoch and the last five
batches (first and last sequence, base offset). An append from an idempotent
producer (producerId >= 0) is checked against that:

- same epoch and the exact sequence range of one of the last five batches:
  a retry; its original base offset is returned and nothing is stored;
- older epoch: C{INVALID_PRODUCER_EPOCH};
- newer epoch: must start at sequence 0 (C{OUT_OF_ORDER_SEQUENCE_NUMBER});
- same epoch: must continue the last sequence by one, wrapping from
  Int32.MAX to 0 (C{OUT_OF_ORDER_SEQUENCE_NUMBER});
- an unknown producer (never seen, or its batches removed by retention) is
  accepted at any sequence, as Kafka does since 2.5.

The state is only ever derived from batch headers, so it can be rebuilt by
walking the log; snapshots (written at segment rolls and clean shutdown) save
that walk.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from twisted_kafka.errors import ErrorCode, KafkaError

#: How many batches per producer are remembered for deduplication.
BATCHES_TO_RETAIN = 5

INT32_MAX = 2**31 - 1

NO_SEQUENCE = -1

#: (first sequence, last sequence, base offset, lastOffsetDelta)
BatchMetadata = tuple[int, int, int, int]


def last_sequence(base_sequence: int, last_offset_delta: int) -> int:
    """The sequence of a batch's last record, wrapping at Int32.MAX like Kafka."""
    if base_sequence > INT32_MAX - last_offset_delta:
        return base_sequence - (INT32_MAX - last_offset_delta) - 1
    return base_sequence + last_offset_delta


def in_sequence(last_seq: int, next_seq: int) -> bool:
    """Whether C{next_seq} directly follows C{last_seq}."""
    return next_seq == last_seq + 1 or (next_seq == 0 and last_seq == INT32_MAX)


class ProducerEntry:
    """What a partition remembers about one producer id.

    @ivar epoch: the producer epoch of its latest batch.
    @ivar batches: its last L{BATCHES_TO_RETAIN} batches, oldest first.
    @ivar last_timestamp: maxTimestamp of its latest batch (for expiry).
    """

    __slots__ = ("epoch", "batches", "last_timestamp")

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch
        self.batches: deque[BatchMetadata] = deque(maxlen=BATCHES_TO_RETAIN)
        self.last_timestamp = -1

    def last_offset(self) -> int:
        """The last offset written by this producer (-1 if none)."""
        if not self.batches:
            return -1
        _, _, base, delta = self.batches[-1]
        return base + delta


class ProducerStateTable:
    """Per-producer state of one partition."""

    def __init__(self) -> None:
        self.producers: dict[int, ProducerEntry] = {}

    def __len__(self) -> int:
        return len(self.producers)

    def check(self, producer_id: int, epoch: int, base_sequence: int, last_offset_delta: int) -> int | None:
        """Validate an idempotent batch before it is appended.

        @return: the original base offset if the batch is a retry of one of
            the last five batches (store nothing), else C{None} (append it).
        @raise KafkaError: C{INVALID_PRODUCER_EPOCH} or
            C{OUT_OF_ORDER_SEQUENCE_NUMBER}, or C{INVALID_RECORD} for a
            negative base sequence.
        """
        if base_sequence < 0:
            raise KafkaError(
                ErrorCode.INVALID_RECORD,
                f"batch from producer {producer_id} has invalid base sequence {base_sequence}",
            )
        entry = self.producers.get(producer_id)
        if entry is None:
            return None
        if epoch == entry.epoch:
            last_seq = last_sequence(base_sequence, last_offset_delta)
            for first, last, base_offset, _ in entry.batches:
                if first == base_sequence and last == last_seq:
                    return base_offset
        if epoch < entry.epoch:
            raise KafkaError(
                ErrorCode.INVALID_PRODUCER_EPOCH,
                f"epoch {epoch} of producer {producer_id} is older than the last seen epoch {entry.epoch}",
            )
        if epoch != entry.epoch:
            if base_sequence != 0:
                raise KafkaError(
                    ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
                    f"invalid sequence number {base_sequence} for new epoch {epoch} of producer"
                    f" {producer_id} (current epoch {entry.epoch}); a new epoch starts at 0",
                )
            return None
        current = entry.batches[-1][1] if entry.batches else NO_SEQUENCE
        if not in_sequence(current, base_sequence):
            raise KafkaError(
                ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
                f"out of order sequence number for producer {producer_id}: {base_sequence}"
                f" (incoming), {current} (current end sequence number)",
            )
        return None

    def record(
        self,
        producer_id: int,
        epoch: int,
        base_sequence: int,
        last_offset_delta: int,
        base_offset: int,
        max_timestamp: int,
    ) -> None:
        """Remember a batch that was appended (or found in the log)."""
        entry = self.producers.get(producer_id)
        if entry is None:
            entry = self.producers[producer_id] = ProducerEntry(epoch)
        elif entry.epoch != epoch:
            entry.batches.clear()
            entry.epoch = epoch
        entry.batches.append(
            (base_sequence, last_sequence(base_sequence, last_offset_delta), base_offset, last_offset_delta)
        )
        entry.last_timestamp = max_timestamp

    def evict_before(self, log_start_offset: int) -> None:
        """Forget producers whose every batch lies below the log start offset."""
        gone = [pid for pid, entry in self.producers.items() if entry.last_offset() < log_start_offset]
        for pid in gone:
            del self.producers[pid]

    def truncate(self, next_offset: int) -> None:
        """Forget batches at or after C{next_offset} (after a log truncation)."""
        for pid in list(self.producers):
            entry = self.producers[pid]
            while entry.batches and entry.batches[-1][2] >= next_offset:
                entry.batches.pop()
            if not entry.batches:
                del self.producers[pid]

    def expire(self, now_ms: int, expiration_ms: int) -> None:
        """Forget producers idle for C{expiration_ms} (Kafka's C{producer.id.expiration.ms})."""
        gone = [pid for pid, entry in self.producers.items() if now_ms - entry.last_timestamp >= expiration_ms]
        for pid in gone:
            del self.producers[pid]

    def to_json(self) -> list[list[Any]]:
        """A JSON-serialisable form (for snapshots)."""
        return [
            [pid, entry.epoch, entry.last_timestamp, [list(b) for b in entry.batches]]
            for pid, entry in sorted(self.producers.items())
        ]

    @classmethod
    def from_json(cls, data: list[list[Any]]) -> ProducerStateTable:
        """Rebuild a table from L{to_json}'s output.

        @raise ValueError: if C{data} is malformed.
        """
        table = cls()
        try:
            for pid, epoch, last_timestamp, batches in data:
                entry = ProducerEntry(int(epoch))
                entry.last_timestamp = int(last_timestamp)
                for first, last, base, delta in batches:
                    entry.batches.append((int(first), int(last), int(base), int(delta)))
                table.producers[int(pid)] = entry
        except (TypeError, ValueError) as e:
            raise ValueError(f"bad producer snapshot: {e}") from None
        return table
