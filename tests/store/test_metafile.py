# -*- test-case-name: tests.store.test_metafile -*-
"""Tests for the versioned metadata files."""

from __future__ import annotations

import os

from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.store import metafile


class MetafileTests(SynchronousTestCase):
    """Writing and reading C{twisted-kafka <kind> <version>} + JSON files."""

    def setUp(self) -> None:
        """Set up what each test here uses."""
        self.path = os.path.join(self.mktemp(), "x.meta")
        os.makedirs(os.path.dirname(self.path))

    def test_round_trip(self) -> None:
        """What is written is read back; the header line names kind and version."""
        for durable in (True, False):
            metafile.write(self.path, "thing", {"a": 1, "b": [1, "x"]}, durable=durable)
            self.assertEqual(metafile.read(self.path, "thing"), {"a": 1, "b": [1, "x"]})
        with open(self.path, "rb") as f:
            self.assertEqual(f.readline(), b"twisted-kafka thing 1\n")
        self.assertFalse(os.path.exists(self.path + ".tmp"))

    def test_missing(self) -> None:
        """A missing file reads as None."""
        self.assertIsNone(metafile.read(self.path, "thing"))

    def test_rejects(self) -> None:
        """Wrong kind, unknown version, bad JSON or garbage raise MetadataFileError."""
        for data in (
            b"twisted-kafka other 1\n{}\n",
            b"twisted-kafka thing 2\n{}\n",
            b"twisted-kafka thing x\n{}\n",
            b"twisted-kafka thing 1\n{bad\n",
            b"twisted-kafka thing 1\n[]\n",
            b"\0\0\0",
            b"",
        ):
            with open(self.path, "wb") as f:
                f.write(data)
            self.assertRaises(metafile.MetadataFileError, metafile.read, self.path, "thing")

    def test_newer_versions_accepted_when_listed(self) -> None:
        """A reader lists the versions it understands."""
        metafile.write(self.path, "thing", {}, durable=False, version=2)
        self.assertEqual(metafile.read(self.path, "thing", versions=(1, 2)), {})
