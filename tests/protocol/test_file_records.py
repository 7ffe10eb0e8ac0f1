# -*- test-case-name: tests.protocol.test_file_records -*-
"""Tests for L{twisted_kafka.protocol.file_records}: a records value that is a file range."""

from __future__ import annotations

import os
import tempfile

from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.protocol import messages
from twisted_kafka.protocol.file_records import FileRecords


class FileRecordsTests(SynchronousTestCase):
    """A range of a file with a descriptor of its own."""

    def setUp(self) -> None:
        """A file holding the bytes 0 to 99."""
        handle, self.path = tempfile.mkstemp()
        self.addCleanup(os.unlink, self.path)
        os.write(handle, bytes(range(100)))
        self.fd = handle

    def test_own_descriptor(self) -> None:
        """L{FileRecords.of} keeps the range readable after the caller's descriptor is closed and the file deleted."""
        records = FileRecords.of(self.fd, 10, 20)
        os.close(self.fd)
        os.unlink(self.path)
        self.addCleanup(open(self.path, "wb").close)
        self.assertEqual(len(records), 20)
        self.assertEqual(records.read(), bytes(range(10, 30)))
        records.close()

    def test_advance(self) -> None:
        """Advancing drops the bytes sent from the front of the range."""
        records = FileRecords.of(self.fd, 10, 20)
        records.advance(15)
        self.assertEqual((records.position, len(records)), (25, 5))
        self.assertEqual(records.read(), bytes(range(25, 30)))
        records.close()
        os.close(self.fd)

    def test_short_file(self) -> None:
        """A range past the end of the file is an OSError, not short bytes."""
        records = FileRecords(self.fd, 90, 20)
        self.assertRaises(OSError, records.read)
        records.close()

    def test_close(self) -> None:
        """Closing closes the descriptor once; the range cannot be read after."""
        records = FileRecords(self.fd, 0, 1)
        records.close()
        records.close()
        self.assertRaises(OSError, os.fstat, self.fd)
        self.assertRaises(ValueError, records.read)

    def test_encoded_as_chunk(self) -> None:
        """A Fetch response encoder keeps a range as its own chunk, however small, after its length."""
        records = FileRecords(self.fd, 0, 10)
        encode = messages.response_encoder(1, 12)
        chunks = encode({"responses": [{"topic": "t", "partitions": [
            {"partition_index": 0, "records": records}]}]})
        self.assertIn(records, chunks)
        expected = encode({"responses": [{"topic": "t", "partitions": [
            {"partition_index": 0, "records": bytes(range(10))}]}]})
        self.assertEqual(messages.joined(chunks), messages.joined(expected))
        records.close()
