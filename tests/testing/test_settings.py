# -*- test-case-name: tests.testing.test_settings -*-
"""Tests for L{twisted_kafka.testing.settings}: a test broker's INI file."""

from __future__ import annotations

import os
import shutil
import tempfile

from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.config import load_config
from twisted_kafka.testing.settings import (
    BrokerSettings, ini_text, settings_from, write_config)


class SectionsTests(SynchronousTestCase):
    """L{BrokerSettings.sections} puts the test defaults under the caller's keys."""

    def test_defaults(self) -> None:
        """Loopback only, no fsync, no rebalance delay, no configured ports."""
        sections = BrokerSettings().sections("/d/data", None)
        self.assertEqual(sections["main"], {"data_dir": "/d/data"})
        self.assertEqual(sections["kafka"], {
            "bind": "127.0.0.1", "group_initial_rebalance_delay_ms": 0,
            "port": -1, "tls_port": -1})
        self.assertEqual(sections["store"], {"fsync": False})
        self.assertEqual(sections["tls"], {})

    def test_overrides(self) -> None:
        """Named options and section keys override the defaults; data_dir stays the broker's."""
        settings = BrokerSettings(
            partitions=3, retention_ms=1000, main={"log_level": "debug", "data_dir": "/x"},
            kafka={"group_initial_rebalance_delay_ms": 50}, store={"fsync": True})
        sections = settings.sections("/d/data", None)
        self.assertEqual(sections["main"], {"log_level": "debug", "data_dir": "/d/data"})
        self.assertEqual(sections["kafka"]["num_partitions"], 3)
        self.assertEqual(sections["kafka"]["group_initial_rebalance_delay_ms"], 50)
        self.assertEqual(sections["store"], {"fsync": True, "retention_ms": 1000})

    def test_listener_keys_refused(self) -> None:
        """The listeners are the toolkit's: setting them is an error naming the keys."""
        with self.assertRaises(ValueError) as caught:
            BrokerSettings(kafka={"port": 9092, "listeners": "tcp:1", "bind": "::1"})
        self.assertIn("[kafka] listeners, port:", str(caught.exception))

    def test_client_auth_needs_tls(self) -> None:
        """Asking for client certificates without TLS is an error."""
        self.assertRaises(ValueError, BrokerSettings, client_auth="required")

    def test_settings_from(self) -> None:
        """Settings or keyword options, not both; an unknown option is a TypeError."""
        settings = BrokerSettings(partitions=2)
        self.assertIs(settings_from(settings), settings)
        self.assertEqual(settings_from(partitions=2), settings)
        self.assertEqual(settings_from(), BrokerSettings())
        self.assertRaises(TypeError, settings_from, settings, tls=True)
        self.assertRaises(TypeError, settings_from, partition=2)

    def test_ini_text(self) -> None:
        """Sections become INI text, booleans as true/false."""
        self.assertEqual(ini_text({"a": {"x": True, "y": 1}, "b": {"z": False}}),
                         "[a]\nx = true\ny = 1\n\n[b]\nz = false\n")


class WriteConfigTests(SynchronousTestCase):
    """L{write_config} writes a file the broker's own loader accepts."""

    def setUp(self) -> None:
        self.directory = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.directory)

    def test_loads(self) -> None:
        """The broker loads what was written, test defaults and options included."""
        path, tls_files = write_config(self.directory, BrokerSettings(
            partitions=4, retention_ms=5000, kafka={"auto_create_topics": False}))
        self.assertIsNone(tls_files)
        self.assertEqual(path, os.path.join(self.directory, "twisted-kafka.ini"))
        config = load_config(path)
        self.assertEqual(config.main.data_dir, os.path.join(self.directory, "data"))
        self.assertEqual((config.kafka.bind, config.kafka.port, config.kafka.tls_port),
                         ("127.0.0.1", -1, -1))
        self.assertEqual(config.kafka.num_partitions, 4)
        self.assertFalse(config.kafka.auto_create_topics)
        self.assertEqual(config.kafka.group_initial_rebalance_delay_ms, 0)
        self.assertFalse(config.store.fsync)
        self.assertEqual(config.store.retention_ms, 5000)

    def test_tls(self) -> None:
        """With TLS, certificates are generated in tls/ and named in [tls]."""
        path, tls_files = write_config(
            self.directory, BrokerSettings(tls=True, client_auth="required"))
        assert tls_files is not None
        self.assertEqual(os.path.dirname(tls_files.server_cert),
                         os.path.join(self.directory, "tls"))
        config = load_config(path)
        self.assertEqual((config.tls.cert, config.tls.key, config.tls.ca),
                         (tls_files.server_cert, tls_files.server_key, tls_files.ca_cert))
        self.assertEqual(config.tls.client_auth, "required")
