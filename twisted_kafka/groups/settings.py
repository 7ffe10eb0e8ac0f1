# -*- test-case-name: tests.groups.test_settings -*-
"""The group coordinator's tunables, read from the C{[kafka]} configuration section.

Each setting has Kafka's broker default.  They are read from
L{twisted_kafka.config.KafkaConfig} attributes of the same name when the
configuration has them, so a configuration without them still works.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from twisted_kafka.config import BrokerConfig


@dataclass(frozen=True)
class GroupSettings:
    """How the group coordinator behaves.

    @ivar group_initial_rebalance_delay_ms: how long the first rebalance of
        an empty group waits for more members (C{group.initial.rebalance.delay.ms}).
    @ivar group_min_session_timeout_ms: the shortest session timeout a member
        may ask for (C{group.min.session.timeout.ms}).
    @ivar group_max_session_timeout_ms: the longest session timeout a member
        may ask for (C{group.max.session.timeout.ms}).
    @ivar offsets_retention_minutes: how long committed offsets outlive their
        group's last member, or their last commit for groups not using the
        group protocol (C{offsets.retention.minutes}).
    @ivar offsets_retention_check_interval_ms: how often expired offsets and
        dead groups are looked for (C{offsets.retention.check.interval.ms}).
    @ivar offset_metadata_max_bytes: the longest metadata string a commit may
        carry (C{offset.metadata.max.bytes}).
    @ivar new_member_join_timeout_ms: how long a new member's JoinGroup may
        wait for its rebalance before the member is dropped (Kafka's
        C{NewMemberJoinTimeoutMs}).
    """

    group_initial_rebalance_delay_ms: int = 3000
    group_min_session_timeout_ms: int = 6000
    group_max_session_timeout_ms: int = 1800000
    offsets_retention_minutes: int = 7 * 24 * 60
    offsets_retention_check_interval_ms: int = 600000
    offset_metadata_max_bytes: int = 4096
    new_member_join_timeout_ms: int = 300000

    @property
    def offsets_retention_ms(self) -> int:
        """L{offsets_retention_minutes} in milliseconds."""
        return self.offsets_retention_minutes * 60000

    @classmethod
    def from_config(cls, config: BrokerConfig) -> "GroupSettings":
        """Return the settings found on C{config.kafka} (defaults for the others)."""
        kafka = getattr(config, "kafka", None)
        values = {}
        for f in fields(cls):
            value = getattr(kafka, f.name, None)
            if isinstance(value, int) and not isinstance(value, bool):
                values[f.name] = value
        return cls(**values)
