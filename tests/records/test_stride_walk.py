# -*- test-case-name: tests.records.test_stride_walk -*-
"""Tests for L{twisted_kafka.records.stride_walk}: the column-wise walk of same-sized records."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.errors import KafkaError
from twisted_kafka.records.record import build_batch
from twisted_kafka.records.record_walk import walk_each_record, walk_records
from twisted_kafka.records.stride_walk import COPY_LIMIT, MAX_COUNT, stride_walk

#: Where the records section starts in a batch.
RECORDS = 61


def section(count: int, value: bytes = b"v" * 100, key: bytes | None = None,
            steps: list[int] | None = None) -> bytes:
    """The records section of C{count} records with C{value}, timestamps 1000 + C{steps[i]}."""
    deltas = steps if steps is not None else [i % 5 for i in range(count)]
    return build_batch([(key, value, [], 1000 + deltas[i]) for i in range(count)])[RECORDS:]


def both(buf: bytes | memoryview, count: int) -> tuple[tuple[int, int] | None, object]:
    """C{stride_walk}'s answer and the record-by-record walk's (or the error it raised)."""
    try:
        each: object = walk_each_record(buf, 0, len(buf), count)
    except KafkaError as e:
        each = e
    return stride_walk(buf, 0, len(buf), count), each


class StrideWalkTests(SynchronousTestCase):
    """Same-sized records are walked column-wise with the walk's result."""

    def test_common_shapes(self) -> None:
        """Batches of 8 to 8192 same-sized records get the walk's answer from the columns."""
        for count in (8, 63, 64, 65, 150, 1000, MAX_COUNT):
            for key in (None, b"key-0001"):
                for value in (b"", b"x" * 20, b"x" * 100, b"x" * 8000):
                    buf = section(count, value, key)
                    found, each = both(buf, count)
                    self.assertEqual(found, (0, 4), (count, key, len(value)))
                    self.assertEqual(found, each)

    def test_memoryview(self) -> None:
        """A memoryview of a frame, below and above the copy limit, gives the same answer."""
        for value in (b"x" * 100, b"x" * 8000):
            buf = section(150, value)
            self.assertEqual(len(buf) > COPY_LIMIT, len(value) > 100)
            framed = memoryview(b"\0" * 7 + buf + b"\0" * 3)
            self.assertEqual(stride_walk(framed, 7, 7 + len(buf), 150), (0, 4))

    def test_timestamps(self) -> None:
        """Negative and positive one-byte timestampDeltas give their smallest and largest."""
        steps = [0, -64, 63, 5, -1, 1, 0, 2, 3]
        self.assertEqual(both(section(9, steps=steps), 9), ((-64, 63), (-64, 63)))

    def test_declines(self) -> None:
        """Shapes the columns do not cover are left to the walk, which accepts them."""
        sizes = build_batch([(None, b"x" * (i % 3), [], 1000) for i in range(20)])[RECORDS:]
        cases = [
            ("sizes differ", sizes, 20),
            ("two-byte timestampDelta", section(20, steps=[i * 10 for i in range(20)]), 20),
            ("few records", section(7), 7),
            ("three-byte length", section(10, b"x" * 20_000), 10),
            ("over 8192 records", section(MAX_COUNT + 1, b""), MAX_COUNT + 1),
        ]
        for name, buf, count in cases:
            found, each = both(buf, count)
            self.assertIsNone(found, name)
            self.assertIsInstance(each, tuple, name)

    def test_declines_lies(self) -> None:
        """A batch whose records break the walk's rules is declined, and the walk refuses it."""
        good = section(100)
        stride = (len(good) - 64 * 109) // 36
        cases = []
        # record 70's offsetDelta (second byte) says record 70 + 64
        lie = bytearray(good)
        lie[64 * 109 + 6 * stride + 5] += 1
        cases.append(("offsetDelta", bytes(lie), 100))
        cases.append(("count short by one", good, 99))
        cases.append(("count over by one", good, 101))
        cases.append(("trailing bytes", good + b"\0" * 100, 100))
        # a length one short in the last record: it no longer ends the section
        lie = bytearray(good)
        lie[len(good) - stride] -= 2
        cases.append(("length", bytes(lie), 100))
        for name, buf, count in cases:
            found, each = both(buf, count)
            self.assertIsNone(found, name)
            self.assertIsInstance(each, KafkaError, name)

    def test_walk_records_uses_it(self) -> None:
        """L{walk_records} answers same-sized batches and others alike."""
        buf = section(150)
        self.assertEqual(walk_records(buf, 0, len(buf), 150), (0, 4))
        steps = [i * 10 for i in range(150)]
        buf = section(150, steps=steps)
        self.assertEqual(walk_records(buf, 0, len(buf), 150), (0, 1490))

    @settings(max_examples=300, deadline=None)
    @given(st.integers(8, 200), st.integers(0, 60), st.integers(0, 2), st.data())
    def test_never_accepts_what_the_walk_refuses(self, count: int, value: int, mutations: int,
                                                 data: st.DataObject) -> None:
        """Whatever bytes are changed, a column-wise answer is the walk's answer."""
        spread = data.draw(st.integers(0, 70))
        steps = [data.draw(st.integers(-spread, spread)) for _ in range(count)]
        buf = bytearray(section(count, b"x" * value, steps=steps))
        for _ in range(mutations):
            at = data.draw(st.integers(0, len(buf) - 1))
            buf[at] = data.draw(st.integers(0, 255))
        found, each = both(bytes(buf), count)
        if found is not None:
            self.assertEqual(found, each)
