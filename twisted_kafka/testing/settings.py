# -*- test-case-name: tests.testing.test_inprocess -*-
"""What a test broker is configured with, written as the broker's INI file.

L{BrokerSettings} holds the options every way of starting a test broker
takes (TLS, partitions, retention, any C{[main]}, C{[kafka]} or C{[store]}
key); L{write_config} writes them, with the test defaults, into
C{twisted-kafka.ini} in the broker's directory, so that the broker loads
them through the same checks as a production configuration file.

Test defaults (each can be overridden): listeners on 127.0.0.1 only, no
fsync (a test does not survive a power cut, and a clean stop still writes
everything), and no initial rebalance delay for consumer groups.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping

if TYPE_CHECKING:
    from twisted_kafka.testing.tls import TlsFiles

#: The INI file's name in a broker's directory.
CONFIG_FILE = "twisted-kafka.ini"
#: The data directory's name in a broker's directory.
DATA_DIR = "data"

#: C{[kafka]} values a test broker has unless its settings say otherwise.
KAFKA_DEFAULTS: Mapping[str, Any] = {"bind": "127.0.0.1", "group_initial_rebalance_delay_ms": 0}
#: C{[store]} values a test broker has unless its settings say otherwise.
STORE_DEFAULTS: Mapping[str, Any] = {"fsync": False}
#: C{[kafka]} keys the toolkit owns: it listens on ports the kernel picks.
TOOLKIT_KAFKA_KEYS = frozenset({"port", "tls_port", "unix_path", "listeners"})


class BrokerStartError(Exception):
    """A test broker did not come up; the message says why (with its log's tail)."""


@dataclass(frozen=True)
class BrokerSettings:
    """How one test broker is configured.

    @ivar tls: also listen with TLS, on certificates generated for the
        broker (see L{twisted_kafka.testing.tls.write_tls_files}).
    @ivar client_auth: C{[tls] client_auth} (C{none}, C{optional},
        C{required}); client certificates are checked against the generated CA.
    @ivar partitions: partitions of an auto-created topic
        (C{[kafka] num_partitions}); C{None}: the broker's default.
    @ivar retention_ms: C{[store] retention_ms}; C{None}: the default.
    @ivar main: more C{[main]} keys (C{data_dir} is always the broker's own).
    @ivar kafka: more C{[kafka]} keys, except the listeners (C{port},
        C{tls_port}, C{unix_path}, C{listeners}): the toolkit listens on
        127.0.0.1 on ports the kernel picks.
    @ivar store: more C{[store]} keys.
    """

    tls: bool = False
    client_auth: str = "none"
    partitions: int | None = None
    retention_ms: int | None = None
    main: Mapping[str, Any] = field(default_factory=dict)
    kafka: Mapping[str, Any] = field(default_factory=dict)
    store: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Refuse the settings the toolkit owns, and a C{client_auth} without TLS."""
        owned = sorted(TOOLKIT_KAFKA_KEYS & set(self.kafka))
        if owned:
            raise ValueError(f"[kafka] {', '.join(owned)}: the test broker's listeners are "
                             "chosen by the toolkit (read broker.port / broker.tls_port)")
        if self.client_auth != "none" and not self.tls:
            raise ValueError("client_auth needs tls=True")

    def sections(self, data_dir: str, tls_files: TlsFiles | None) -> dict[str, dict[str, Any]]:
        """Return the INI sections for a broker keeping its data in C{data_dir}."""
        kafka: dict[str, Any] = {**KAFKA_DEFAULTS, **self.kafka}
        if self.partitions is not None:
            kafka["num_partitions"] = self.partitions
        # The listeners are the toolkit's (see inprocess.InProcessBroker).
        kafka["port"] = -1
        kafka["tls_port"] = -1
        store: dict[str, Any] = {**STORE_DEFAULTS, **self.store}
        if self.retention_ms is not None:
            store["retention_ms"] = self.retention_ms
        tls: dict[str, Any] = {}
        if tls_files is not None:
            tls = {"cert": tls_files.server_cert, "key": tls_files.server_key,
                   "client_auth": self.client_auth}
            if self.client_auth != "none":
                tls["ca"] = tls_files.ca_cert
        return {"main": {**self.main, "data_dir": data_dir}, "kafka": kafka,
                "tls": tls, "store": store}


class BrokerAddresses:
    """Where a test broker keeps its files and listens; shared by every kind of test broker.

    @ivar directory: holds C{twisted-kafka.ini}, C{data/} and C{tls/}.
    @ivar port: the plain TCP port once started (kept across restarts).
    @ivar tls_port: the TLS port once started, or C{None} without TLS.
    """

    directory: str
    port: int | None
    tls_port: int | None

    @property
    def data_dir(self) -> str:
        """The broker's data directory."""
        return os.path.join(self.directory, DATA_DIR)

    @property
    def bootstrap(self) -> str:
        """The plain TCP bootstrap address, C{127.0.0.1:port}."""
        if self.port is None:
            raise RuntimeError("the broker has not been started")
        return f"127.0.0.1:{self.port}"

    @property
    def tls_bootstrap(self) -> str:
        """The TLS bootstrap address, C{127.0.0.1:tls_port}."""
        if self.tls_port is None:
            raise RuntimeError("this broker has no TLS listener (settings tls=True), "
                               "or has not been started")
        return f"127.0.0.1:{self.tls_port}"


def settings_from(settings: BrokerSettings | None = None, **options: Any) -> BrokerSettings:
    """Return C{settings}, or L{BrokerSettings} made from keyword C{options}.

    @raise TypeError: both were given, or an option is unknown.
    """
    if settings is not None:
        if options:
            raise TypeError("give BrokerSettings or keyword options, not both")
        return settings
    return BrokerSettings(**options)


def ini_text(sections: Mapping[str, Mapping[str, Any]]) -> str:
    """Return C{sections} as INI text (booleans as C{true}/C{false})."""
    lines = []
    for section, values in sections.items():
        lines.append(f"[{section}]")
        for key, value in values.items():
            if isinstance(value, bool):
                value = "true" if value else "false"
            lines.append(f"{key} = {value}")
        lines.append("")
    return "\n".join(lines)


def write_config(directory: str, settings: BrokerSettings) -> tuple[str, TlsFiles | None]:
    """Write C{settings} as C{directory}/twisted-kafka.ini; return its path and the TLS files.

    The data directory is C{directory}/data; TLS certificates, when asked
    for, are generated into C{directory}/tls.
    """
    from twisted_kafka.testing.tls import write_tls_files

    os.makedirs(directory, exist_ok=True)
    tls_files = write_tls_files(os.path.join(directory, "tls")) if settings.tls else None
    sections = settings.sections(os.path.join(directory, DATA_DIR), tls_files)
    path = os.path.join(directory, CONFIG_FILE)
    with open(path, "w", encoding="utf-8") as f:
        f.write(ini_text(sections))
    return path, tls_files
