# -*- test-case-name: tests.apis.test_admin_configs -*-
"""What DescribeConfigs and CreateTopics report about a config: value, source, synonyms.

A L{ConfigValue} is one config as Kafka describes it.  For a topic config the
value in force comes from, in order: the topic's override (source
DYNAMIC_TOPIC_CONFIG), the broker's configuration file when it sets the
synonym (STATIC_BROKER_CONFIG, named by Kafka's broker config name such as
C{log.retention.ms}), or the built-in default (DEFAULT_CONFIG).  Synonyms list
those candidates in that order, the way Kafka does; a config Kafka gives no
broker config (C{remote.storage.enable}, the throttled-replica lists) has
only its override as a synonym.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from twisted_kafka.store import topic_configs
from twisted_kafka.protocol.messages import Fields
from twisted_kafka.store.config import StoreConfig

# Kafka's ConfigSource codes (DescribeConfigsResponse).
DYNAMIC_TOPIC_CONFIG = 1
STATIC_BROKER_CONFIG = 4
DEFAULT_CONFIG = 5

#: Kafka's ConfigType codes (DescribeConfigs v3+), by ConfigDef type name.
CONFIG_TYPES = {"BOOLEAN": 1, "STRING": 2, "INT": 3, "SHORT": 4, "LONG": 5,
                "DOUBLE": 6, "LIST": 7, "CLASS": 8, "PASSWORD": 9}

_STORE_DEFAULTS = StoreConfig()


@dataclass(frozen=True)
class Synonym:
    """One place a config's value can come from: C{(name, value, source)}."""

    name: str
    value: str | None
    source: int


@dataclass(frozen=True)
class ConfigValue:
    """One config as described to clients.

    @ivar name: Kafka's config name.
    @ivar value: the value in force, in Kafka's string form.
    @ivar source: where it comes from (a ConfigSource code).
    @ivar read_only: whether AlterConfigs may change it.
    @ivar type: Kafka's ConfigDef type name (C{LONG}, C{LIST}, ...).
    @ivar doc: what it does.
    @ivar synonyms: every source of a value, the one in force first.
    """

    name: str
    value: str | None
    source: int
    read_only: bool
    type: str
    doc: str
    synonyms: list[Synonym] = field(default_factory=list)

    def created(self) -> Fields:
        """Return this config as a CreateTopics (v5+) result entry."""
        return {
            "name": self.name,
            "value": self.value,
            "read_only": self.read_only,
            "config_source": self.source,
            "is_sensitive": False,
        }

    def described(self, include_synonyms: bool, include_documentation: bool) -> Fields:
        """Return this config as a DescribeConfigs result entry."""
        entry = self.created()
        entry["synonyms"] = [
            {"name": s.name, "value": s.value, "source": s.source} for s in self.synonyms
        ] if include_synonyms else []
        entry["config_type"] = CONFIG_TYPES.get(self.type, 0)
        entry["documentation"] = self.doc if include_documentation else None
        return entry


def broker_source(store_field: str | None, store: StoreConfig) -> int:
    """Return STATIC_BROKER_CONFIG if C{store} sets C{store_field} away from its default."""
    if store_field is not None and getattr(store, store_field) != getattr(_STORE_DEFAULTS, store_field):
        return STATIC_BROKER_CONFIG
    return DEFAULT_CONFIG


def topic_config_value(name: str, overrides: Mapping[str, str], store: StoreConfig) -> ConfigValue:
    """Describe topic config C{name} of a topic with C{overrides}.

    @raise KeyError: for a name that is not a topic config.
    """
    entry = topic_configs.TOPIC_CONFIGS[name]
    synonyms = []
    if name in overrides:
        synonyms.append(Synonym(name, overrides[name], DYNAMIC_TOPIC_CONFIG))
    if entry.synonym is None:
        # Kafka gives these no broker config: only an override is a synonym.
        value = overrides.get(name, entry.default(store))
        source = DYNAMIC_TOPIC_CONFIG if name in overrides else DEFAULT_CONFIG
        return ConfigValue(name=name, value=value, source=source, read_only=False,
                           type=entry.type, doc=entry.doc, synonyms=synonyms)
    if broker_source(entry.store_field, store) == STATIC_BROKER_CONFIG:
        synonyms.append(Synonym(entry.synonym, entry.default(store), STATIC_BROKER_CONFIG))
    synonyms.append(Synonym(entry.synonym, entry.default(_STORE_DEFAULTS), DEFAULT_CONFIG))
    return ConfigValue(name=name, value=synonyms[0].value, source=synonyms[0].source,
                       read_only=False, type=entry.type, doc=entry.doc, synonyms=synonyms)


def topic_config_values(overrides: Mapping[str, str], store: StoreConfig) -> list[ConfigValue]:
    """Describe every topic config of a topic with C{overrides}, sorted by name."""
    return [topic_config_value(name, overrides, store) for name in sorted(topic_configs.TOPIC_CONFIGS)]
