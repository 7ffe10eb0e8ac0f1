# -*- test-case-name: tests.store.test_scan -*-
"""Tests for L{twisted_kafka.store.scan.BatchScanner}."""

from __future__ import annotations

import os

from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.store.batch_header import F_BASE_OFFSET
from twisted_kafka.store.scan import BatchScanner

from .helpers import as_stored, make_batch


class BatchScannerTests(SynchronousTestCase):
    """Walking a file of batches and stopping at the first bad one."""

    def _file(self, data: bytes) -> int:
        path = self.mktemp()
        with open(path, "wb") as f:
            f.write(data)
        fd = os.open(path, os.O_RDONLY)
        self.addCleanup(os.close, fd)
        return fd

    def _batches(self) -> list[bytes]:
        out, offset = [], 10
        for i in range(6):
            out.append(as_stored(make_batch(3, tag=i, value_size=50 + 400 * i), offset))
            offset += 3
        return out

    def _scan(self, data: bytes, chunk: int = 1 << 20, crc: bool = True) -> tuple[list[int], BatchScanner]:
        scanner = BatchScanner(self._file(data), 0, len(data), 10, verify_crc=crc, chunk=chunk)
        return [header[F_BASE_OFFSET] for _, _, header in scanner], scanner

    def test_all_valid(self) -> None:
        """Every batch is found, whatever the chunk size."""
        data = b"".join(self._batches())
        for chunk in (61, 100, 1000, 1 << 20):
            offsets, scanner = self._scan(data, chunk)
            self.assertEqual(offsets, [10, 13, 16, 19, 22, 25])
            self.assertIsNone(scanner.error)
            self.assertEqual((scanner.position, scanner.next_offset), (len(data), 28))

    def test_torn(self) -> None:
        """A partial batch at the end stops the scan before it."""
        batches = self._batches()
        data = b"".join(batches)[:-5]
        offsets, scanner = self._scan(data, 200)
        self.assertEqual(offsets, [10, 13, 16, 19, 22])
        self.assertEqual(scanner.position, len(data) - len(batches[-1]) + 5)
        self.assertIn("torn", scanner.error or "")

    def test_crc(self) -> None:
        """A flipped byte fails the CRC; without CRC checks it goes unnoticed."""
        batches = self._batches()
        damaged = bytearray(batches[2])
        damaged[-1] ^= 1
        data = b"".join(batches[:2]) + bytes(damaged) + b"".join(batches[3:])
        offsets, scanner = self._scan(data)
        self.assertEqual(offsets, [10, 13])
        self.assertIn("CRC", scanner.error or "")
        self.assertEqual(self._scan(data, crc=False)[0], [10, 13, 16, 19, 22, 25])

    def test_offset_gap(self) -> None:
        """A batch skipping offsets is accepted (a compacted segment has gaps)."""
        batches = self._batches()
        data = batches[0] + as_stored(make_batch(1), 50)
        offsets, scanner = self._scan(data)
        self.assertEqual(offsets, [10, 50])
        self.assertIsNone(scanner.error)
        self.assertEqual(scanner.next_offset, 51)

    def test_offsets_backwards(self) -> None:
        """A batch starting below the end of the one before it stops the scan."""
        batches = self._batches()
        data = batches[0] + as_stored(make_batch(1), 11)
        offsets, scanner = self._scan(data)
        self.assertEqual(offsets, [10])
        self.assertIn("expected at least 13", scanner.error or "")

    def test_garbage_header(self) -> None:
        """Zeros or a bad magic stop the scan."""
        offsets, scanner = self._scan(self._batches()[0] + b"\0" * 100)
        self.assertEqual(offsets, [10])
        self.assertIn("invalid batch header", scanner.error or "")
