# -*- test-case-name: tests.groups.test_settings -*-
"""Tests for L{twisted_kafka.groups.settings}."""

from __future__ import annotations

from dataclasses import replace

from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.config import BrokerConfig
from twisted_kafka.groups.settings import GroupSettings


class FromConfigTests(SynchronousTestCase):
    """L{GroupSettings.from_config} reads what the configuration has."""

    def test_defaults(self) -> None:
        """Kafka's defaults apply to keys the configuration does not have."""
        settings = GroupSettings.from_config(BrokerConfig())
        self.assertEqual(settings.group_min_session_timeout_ms, 6000)
        self.assertEqual(settings.offsets_retention_ms, 7 * 24 * 3600 * 1000)

    def test_configured(self) -> None:
        """Integer attributes of C{config.kafka} with a setting's name override it."""
        config = replace(BrokerConfig(), kafka=replace(
            BrokerConfig().kafka, group_initial_rebalance_delay_ms=10, offsets_retention_minutes=5))
        settings = GroupSettings.from_config(config)
        self.assertEqual(settings.group_initial_rebalance_delay_ms, 10)
        self.assertEqual(settings.offsets_retention_ms, 300000)
