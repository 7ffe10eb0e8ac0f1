# -*- test-case-name: tests.test_config -*-
"""The broker's configuration: one typed, validated dataclass per INI section.

L{load_config} reads an INI file (C{etc/twisted-kafka.ini} documents every
key) into a L{BrokerConfig}.  Every value is checked while loading, so a
broker that starts has a configuration it can use: a bad value, an unreadable
file or an unusable combination raises L{ConfigError}, whose text is a single
line naming the file, the section, the key and the value.  An unknown section
or key is only a warning (logged with the file, section and key), so a
configuration written for a newer version still loads.

Relative paths (the data directory, certificates, the unix socket) are
relative to the broker's working directory, as for every twistd option.
"""

from __future__ import annotations

import configparser
import dataclasses
import ipaddress
import os
import typing
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from twisted.logger import Logger

from twisted_kafka.security.principals import MappingRuleError, parse_rules
from twisted_kafka.store.config import StoreConfig
from twisted_kafka.store.topic_config_table import COMPRESSION_TYPES

log = Logger()

#: The file name errors use when no configuration file was given.
DEFAULTS_SOURCE = "<defaults>"

LOG_LEVELS = ("debug", "info", "warn", "error", "critical")
CLIENT_AUTH_MODES = ("none", "optional", "required")
TLS_VERSIONS = ("TLSv1.2", "TLSv1.3")
RECORD_VALIDATION_MODES = ("records", "full")
#: Older names of validation levels: C{header} was the default before every
#: batch's records were walked; it now means that default.
_RECORD_VALIDATION_ALIASES = {"header": "records"}
TIMESTAMP_TYPES = ("CreateTime", "LogAppendTime")
#: The values of C{[kafka] log_cleanup_policy}.
CLEANUP_POLICIES = ("delete", "compact", "compact,delete", "delete,compact")
#: Kafka's listener security protocols.
SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
#: The security protocols of a listener without TLS, and of one with it.
PLAIN_PROTOCOLS = ("PLAINTEXT", "SASL_PLAINTEXT")
TLS_PROTOCOLS = ("SSL", "SASL_SSL")
#: The SASL mechanisms the broker can serve.
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
#: The values of C{[security] authorizer}.
AUTHORIZERS = ("none", "acl")

_TRUE = frozenset({"1", "yes", "true", "on"})
_FALSE = frozenset({"0", "no", "false", "off"})


class ConfigError(Exception):
    """A configuration that cannot be used; C{str()} of it is one line.

    The line names where the problem is, for example
    C{twisted-kafka.ini: [kafka] port = abc: not an integer}.
    """


@dataclass(frozen=True)
class MainConfig:
    """The C{[main]} section: process-wide settings.

    @ivar data_dir: where the stream queues live on disk.
    @ivar log_level: the lowest level of log event written (one of
        L{LOG_LEVELS}).
    """

    data_dir: str = "./kafka-data"
    log_level: str = "info"


@dataclass(frozen=True)
class KafkaConfig:
    """The C{[kafka]} section: listeners and Kafka protocol behaviour.

    @ivar bind: the IP address the TCP and TLS listeners bind to.
    @ivar port: the plain TCP port; 0 or -1 disables it.
    @ivar tls_port: the TLS port; 0 or -1 disables it.
    @ivar unix_path: a unix socket path to listen on; empty disables it.
    @ivar default_vhost: the vhost connections land in.
    @ivar auto_create_topics: create a topic the first time a client names it.
    @ivar num_partitions: partitions of an auto-created topic.
    @ivar log_cleanup_policy: the C{cleanup.policy} of a topic that does not
        set one (Kafka's C{log.cleanup.policy}): C{delete}, C{compact} or
        C{compact,delete}.
    @ivar advertised_host: the host Metadata tells clients; empty means the
        address the client connected to.
    @ivar advertised_port: the port Metadata tells clients; 0 means the port
        the client connected to.
    @ivar max_request_size: the largest request frame accepted, in bytes
        (Kafka's C{socket.request.max.bytes}).
    @ivar idle_timeout: seconds after which an idle connection is closed
        (Kafka's C{connections.max.idle.ms}); 0 never closes one.
    @ivar queued_max_request_bytes: the broker-wide budget of bytes in
        incomplete requests and requests read but not yet processed (Kafka's
        C{queued.max.request.bytes}); past it, connections stop reading
        until bytes are released.  0 or -1: no budget.
    @ivar request_completion_timeout_ms: once a request's first byte has
        arrived, the rest must arrive within this long (time the broker
        does not read the connection excluded) or the connection is
        closed; 0 never closes one.
    @ivar max_connections: the most client connections open at once, every
        listener together (Kafka's C{max.connections}); 0: no limit.
    @ivar max_connections_per_ip: the most connections from one IP address
        (Kafka's C{max.connections.per.ip}); 0: no limit.  Unix-socket
        connections count toward C{max_connections} only.
    @ivar port_security_protocol: the security protocol of C{port}:
        C{PLAINTEXT} or C{SASL_PLAINTEXT}.
    @ivar tls_port_security_protocol: the security protocol of C{tls_port}:
        C{SSL} or C{SASL_SSL}.
    @ivar unix_security_protocol: the security protocol of C{unix_path}:
        C{PLAINTEXT} or C{SASL_PLAINTEXT}.
    @ivar listeners: extra listeners as Twisted server endpoint strings,
        each optionally prefixed by its security protocol
        (C{SASL_PLAINTEXT://tcp:9094}); without a prefix an C{ssl:} string
        is C{SSL} and any other C{PLAINTEXT}.
    @ivar listen_backlog: how many connections the kernel queues for the
        TCP, TLS and unix listeners before the broker accepts them.
    @ivar record_validation: C{records} checks each batch's header and CRC
        and walks its records (count, lengths, offsetDeltas, timestamps),
        decompressing them; C{full} also checks every record's key, value
        and headers.
    @ivar max_decompressed_bytes: the most bytes one batch may decompress to
        when records are decompressed.
    @ivar max_compression_ratio: a produced batch may decompress to at most
        this many times its compressed size (or 1 MiB); 0 for no ratio limit.
    @ivar group_initial_rebalance_delay_ms: how long a new group waits for
        more members before its first rebalance (Kafka's
        C{group.initial.rebalance.delay.ms}).
    @ivar group_min_session_timeout_ms: the smallest session timeout a
        consumer may ask for (C{group.min.session.timeout.ms}).
    @ivar group_max_session_timeout_ms: the largest session timeout a
        consumer may ask for (C{group.max.session.timeout.ms}).
    @ivar offsets_retention_minutes: how long committed offsets of an empty
        group are kept (C{offsets.retention.minutes}).
    @ivar offsets_retention_check_interval_ms: how often expired offsets are
        removed (C{offsets.retention.check.interval.ms}).
    @ivar offset_metadata_max_bytes: the longest metadata string of a
        committed offset (C{offset.metadata.max.bytes}).
    """

    bind: str = "127.0.0.1"
    port: int = 9092
    tls_port: int = -1
    unix_path: str = ""
    default_vhost: str = "/"
    auto_create_topics: bool = True
    num_partitions: int = 1
    log_cleanup_policy: str = "delete"
    advertised_host: str = ""
    advertised_port: int = 0
    max_request_size: int = 104857600
    idle_timeout: int = 600
    queued_max_request_bytes: int = 104857600
    request_completion_timeout_ms: int = 60000
    max_connections: int = 10000
    max_connections_per_ip: int = 0
    port_security_protocol: str = "PLAINTEXT"
    tls_port_security_protocol: str = "SSL"
    unix_security_protocol: str = "PLAINTEXT"
    listeners: list[str] = field(default_factory=list)
    listen_backlog: int = 1024
    record_validation: str = "records"
    max_decompressed_bytes: int = 67108864
    max_compression_ratio: int = 500
    group_initial_rebalance_delay_ms: int = 3000
    group_min_session_timeout_ms: int = 6000
    group_max_session_timeout_ms: int = 1800000
    offsets_retention_minutes: int = 10080
    offsets_retention_check_interval_ms: int = 600000
    offset_metadata_max_bytes: int = 4096


@dataclass(frozen=True)
class TlsConfig:
    """The C{[tls]} section: the TLS listener's certificate and peer checks.

    @ivar cert: PEM file with the server certificate, then any intermediates.
    @ivar key: PEM file with the server's private key (not encrypted).
    @ivar ca: PEM file with the CA certificates client certificates must
        chain to; needed when C{client_auth} is not C{none}.
    @ivar client_auth: C{none}, C{optional} (a certificate sent must be
        valid) or C{required} (connections without a valid one are refused).
    @ivar min_version: the lowest TLS version accepted.
    """

    cert: str = ""
    key: str = ""
    ca: str = ""
    client_auth: str = "none"
    min_version: str = "TLSv1.2"
    principal_mapping_rules: str = "DEFAULT"


@dataclass(frozen=True)
class SecurityConfig:
    """The C{[security]} section: SASL, users and the authorizer.

    @ivar sasl_mechanisms: the SASL mechanisms SASL listeners offer
        (Kafka's C{sasl.enabled.mechanisms}).
    @ivar sasl_max_receive_size: the largest frame accepted before a SASL
        connection has authenticated (C{sasl.server.max.receive.size}).
    @ivar max_reauth_ms: the longest session a SASL authentication gives
        (C{connections.max.reauth.ms}, KIP-368): a connection that has not
        re-authenticated by then is closed; 0: sessions never expire.
    @ivar failed_authentication_delay_ms: how long a failed authentication
        waits before its answer, after which the connection is closed
        (C{connection.failed.authentication.delay.ms}).
    @ivar users_file: the users file; empty: C{users.json} in the data directory.
    @ivar authorizer: C{none} allows every request; C{acl} checks Kafka ACLs.
    @ivar super_users: principals every ACL check allows (C{super.users}).
    @ivar allow_everyone_if_no_acl_found: with C{acl}, a resource without
        any ACL is open to everyone (Kafka's
        C{allow.everyone.if.no.acl.found}).
    @ivar acls_file: the ACLs file; empty: C{acls.json} in the data directory.
    """

    sasl_mechanisms: tuple[str, ...] = SASL_MECHANISMS
    sasl_max_receive_size: int = 524288
    max_reauth_ms: int = 0
    failed_authentication_delay_ms: int = 100
    users_file: str = ""
    authorizer: str = "none"
    super_users: tuple[str, ...] = ()
    allow_everyone_if_no_acl_found: bool = False
    acls_file: str = ""


@dataclass(frozen=True)
class HttpConfig:
    """The C{[http]} section: the listener of metrics, health checks, the JSON API and the UI.

    @ivar listen: a Twisted server endpoint string for the HTTP listener
        (for example C{tcp:9644:interface=127.0.0.1}); empty (the default)
        serves no HTTP at all.  Nothing on it asks for a password yet: keep
        it on 127.0.0.1 or behind a proxy that does.
    @ivar max_partition_series: the most per-partition series (offsets and
        sizes; group lag) one scrape of C{/metrics} reports; topic and
        group totals are always reported (docs/metrics.md).
    @ivar max_peek_records: the most records one records request of the
        JSON API returns.
    """

    listen: str = ""
    max_partition_series: int = 10000
    max_peek_records: int = 500


@dataclass(frozen=True)
class BrokerConfig:
    """The whole configuration of one broker.

    @ivar source: the configuration file's path as given (or
        L{DEFAULTS_SOURCE}), for messages about it.
    """

    main: MainConfig = field(default_factory=MainConfig)
    kafka: KafkaConfig = field(default_factory=KafkaConfig)
    tls: TlsConfig = field(default_factory=TlsConfig)
    security: SecurityConfig = field(default_factory=SecurityConfig)
    store: StoreConfig = field(default_factory=StoreConfig)
    http: HttpConfig = field(default_factory=HttpConfig)
    source: str = DEFAULTS_SOURCE


class _Reader:
    """Turns one section's raw strings into typed values, or L{ConfigError}s."""

    def __init__(self, source: str, section: str, values: dict[str, str]) -> None:
        self.source = source
        self.section = section
        self.values = values

    def error(self, key: str, value: object, reason: str) -> ConfigError:
        """Return the error for C{key = value} in this section."""
        return ConfigError(f"{self.source}: [{self.section}] {key} = {value}: {reason}")

    def string(self, key: str, default: str) -> str:
        """Return C{key} as a string, C{default} when absent."""
        return self.values.get(key, default)

    def boolean(self, key: str, default: bool) -> bool:
        """Return C{key} as a boolean (true/false, yes/no, on/off, 1/0)."""
        raw = self.values.get(key)
        if raw is None:
            return default
        if raw.lower() in _TRUE:
            return True
        if raw.lower() in _FALSE:
            return False
        raise self.error(key, raw, "not a boolean (use true or false)")

    def integer(self, key: str, default: int, minimum: int, maximum: int | None = None) -> int:
        """Return C{key} as an integer in C{[minimum, maximum]}."""
        raw = self.values.get(key)
        if raw is None:
            return default
        try:
            value = int(raw, 10)
        except ValueError:
            raise self.error(key, raw, "not an integer") from None
        if value < minimum or (maximum is not None and value > maximum):
            bound = f"at least {minimum}" if maximum is None else f"between {minimum} and {maximum}"
            raise self.error(key, raw, f"out of range (must be {bound})")
        return value

    def port(self, key: str, default: int) -> int:
        """Return C{key} as a listening port number; 0 and -1 both mean "off"."""
        return self.integer(key, default, -1, 65535)

    def choice(self, key: str, default: str, choices: Iterable[str]) -> str:
        """Return C{key} as one of C{choices} (matched case-insensitively)."""
        raw = self.values.get(key)
        if raw is None:
            return default
        for choice in choices:
            if raw.lower() == choice.lower():
                return choice
        raise self.error(key, raw, f"must be one of {', '.join(choices)}")

    def ratio(self, key: str, default: float) -> float:
        """Return C{key} as a number from 0 to 1."""
        raw = self.values.get(key)
        if raw is None:
            return default
        try:
            value = float(raw)
        except ValueError:
            raise self.error(key, raw, "not a number") from None
        if not 0.0 <= value <= 1.0:
            raise self.error(key, raw, "out of range (must be 0 to 1)")
        return value

    def string_list(self, key: str) -> list[str]:
        """Return C{key} split on commas and newlines, blanks dropped."""
        raw = self.values.get(key, "")
        return [item.strip() for item in raw.replace("\n", ",").split(",") if item.strip()]


def _read_main(reader: _Reader, data_dir: str | None) -> MainConfig:
    default = MainConfig()
    if data_dir is None:
        data_dir = reader.string("data_dir", default.data_dir)
        if not data_dir:
            raise reader.error("data_dir", "", "must not be empty")
        problem = _unwritable_directory(data_dir)
        if problem:
            raise reader.error("data_dir", data_dir, problem)
    else:
        problem = _unwritable_directory(data_dir) if data_dir else "must not be empty"
        if problem:
            raise ConfigError(f"--data-dir {data_dir}: {problem}")
    return MainConfig(
        data_dir=data_dir,
        log_level=reader.choice("log_level", default.log_level, LOG_LEVELS),
    )


def _unwritable_directory(path: str) -> str:
    """Return why C{path} cannot be used as (or created as) a directory, or ''."""
    if os.path.exists(path):
        if not os.path.isdir(path):
            return "not a directory"
        if not os.access(path, os.W_OK | os.X_OK):
            return "directory not writable"
        return ""
    parent = os.path.dirname(os.path.abspath(path))
    while not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent) or not os.access(parent, os.W_OK | os.X_OK):
        return f"cannot be created ({parent} is not a writable directory)"
    return ""


def _read_kafka(reader: _Reader, listen: Iterable[str]) -> KafkaConfig:
    default = KafkaConfig()
    level = reader.choice("record_validation", default.record_validation,
                          RECORD_VALIDATION_MODES + tuple(_RECORD_VALIDATION_ALIASES))
    bind = reader.string("bind", default.bind)
    try:
        ipaddress.ip_address(bind)
    except ValueError:
        raise reader.error("bind", bind, "not an IP address") from None
    min_session = reader.integer(
        "group_min_session_timeout_ms", default.group_min_session_timeout_ms, 1)
    max_session = reader.integer(
        "group_max_session_timeout_ms", default.group_max_session_timeout_ms, 1)
    if max_session < min_session:
        raise reader.error("group_max_session_timeout_ms", str(max_session),
                           f"less than group_min_session_timeout_ms ({min_session})")
    return KafkaConfig(
        bind=bind,
        port=reader.port("port", default.port),
        tls_port=reader.port("tls_port", default.tls_port),
        unix_path=reader.string("unix_path", default.unix_path),
        default_vhost=reader.string("default_vhost", default.default_vhost) or default.default_vhost,
        auto_create_topics=reader.boolean("auto_create_topics", default.auto_create_topics),
        num_partitions=reader.integer("num_partitions", default.num_partitions, 1, 100000),
        log_cleanup_policy=reader.choice("log_cleanup_policy", default.log_cleanup_policy,
                                         CLEANUP_POLICIES),
        advertised_host=reader.string("advertised_host", default.advertised_host),
        advertised_port=reader.integer("advertised_port", default.advertised_port, 0, 65535),
        max_request_size=reader.integer("max_request_size", default.max_request_size, 1024, 2**31 - 1),
        idle_timeout=reader.integer("idle_timeout", default.idle_timeout, 0),
        queued_max_request_bytes=reader.integer(
            "queued_max_request_bytes", default.queued_max_request_bytes, -1),
        request_completion_timeout_ms=reader.integer(
            "request_completion_timeout_ms", default.request_completion_timeout_ms, 0),
        max_connections=reader.integer("max_connections", default.max_connections, 0),
        max_connections_per_ip=reader.integer(
            "max_connections_per_ip", default.max_connections_per_ip, 0),
        port_security_protocol=reader.choice(
            "port_security_protocol", default.port_security_protocol, PLAIN_PROTOCOLS),
        tls_port_security_protocol=reader.choice(
            "tls_port_security_protocol", default.tls_port_security_protocol, TLS_PROTOCOLS),
        unix_security_protocol=reader.choice(
            "unix_security_protocol", default.unix_security_protocol, PLAIN_PROTOCOLS),
        listeners=_listener_strings(reader, reader.string_list("listeners") + list(listen)),
        listen_backlog=reader.integer("listen_backlog", default.listen_backlog, 1, 65535),
        record_validation=_RECORD_VALIDATION_ALIASES.get(level, level),
        max_decompressed_bytes=reader.integer(
            "max_decompressed_bytes", default.max_decompressed_bytes, 1024, 2**31 - 1),
        max_compression_ratio=reader.integer(
            "max_compression_ratio", default.max_compression_ratio, 0),
        group_initial_rebalance_delay_ms=reader.integer(
            "group_initial_rebalance_delay_ms", default.group_initial_rebalance_delay_ms, 0),
        group_min_session_timeout_ms=min_session,
        group_max_session_timeout_ms=max_session,
        offsets_retention_minutes=reader.integer(
            "offsets_retention_minutes", default.offsets_retention_minutes, 1),
        offsets_retention_check_interval_ms=reader.integer(
            "offsets_retention_check_interval_ms",
            default.offsets_retention_check_interval_ms, 1),
        offset_metadata_max_bytes=reader.integer(
            "offset_metadata_max_bytes", default.offset_metadata_max_bytes, 0),
    )


def split_security_protocol(description: str) -> tuple[str, str]:
    """Return the security protocol of a listener string and its endpoint string.

    C{SASL_SSL://ssl:9094:...} gives C{("SASL_SSL", "ssl:9094:...")}; a
    string without a prefix is C{SSL} when it is an C{ssl:} endpoint, else
    C{PLAINTEXT}.

    @raise ValueError: an unknown protocol, or one that does not fit the
        endpoint (TLS protocols need an C{ssl:} endpoint, the others not).
    """
    prefix, sep, rest = description.partition("://")
    is_tls = (rest if sep else description).split(":", 1)[0].lower() == "ssl"
    if not sep:
        return ("SSL" if is_tls else "PLAINTEXT"), description
    protocol = prefix.upper()
    if protocol not in SECURITY_PROTOCOLS:
        raise ValueError(f"unknown security protocol {prefix!r} "
                         f"(one of {', '.join(SECURITY_PROTOCOLS)})")
    if (protocol in TLS_PROTOCOLS) != is_tls:
        raise ValueError(f"{protocol} needs "
                         f"{'an ssl:' if protocol in TLS_PROTOCOLS else 'a non-ssl:'} endpoint")
    return protocol, rest


def _listener_strings(reader: _Reader, descriptions: list[str]) -> list[str]:
    """Check the security protocol prefix of every listener string."""
    for description in descriptions:
        try:
            split_security_protocol(description)
        except ValueError as e:
            raise reader.error("listeners", description, str(e)) from None
    return descriptions


def _principal_list(reader: _Reader, key: str) -> tuple[str, ...]:
    """Return C{key} as principals separated by semicolons or newlines (as Kafka's)."""
    raw = reader.values.get(key, "")
    principals = tuple(p.strip() for p in raw.replace("\n", ";").split(";") if p.strip())
    for principal in principals:
        kind, sep, name = principal.partition(":")
        if not sep or not kind or not name:
            raise reader.error(key, principal, "not a principal (write User:name)")
    return principals


def _read_security(reader: _Reader) -> SecurityConfig:
    default = SecurityConfig()
    mechanisms = []
    for name in reader.string_list("sasl_mechanisms") or list(default.sasl_mechanisms):
        if name.upper() not in SASL_MECHANISMS:
            raise reader.error("sasl_mechanisms", name,
                               f"unknown mechanism (one of {', '.join(SASL_MECHANISMS)})")
        mechanisms.append(name.upper())
    return SecurityConfig(
        sasl_mechanisms=tuple(mechanisms),
        sasl_max_receive_size=reader.integer(
            "sasl_max_receive_size", default.sasl_max_receive_size, 1024, 2**31 - 1),
        max_reauth_ms=reader.integer("max_reauth_ms", default.max_reauth_ms, 0),
        failed_authentication_delay_ms=reader.integer(
            "failed_authentication_delay_ms", default.failed_authentication_delay_ms, 0),
        users_file=reader.string("users_file", default.users_file),
        authorizer=reader.choice("authorizer", default.authorizer, AUTHORIZERS),
        super_users=_principal_list(reader, "super_users"),
        allow_everyone_if_no_acl_found=reader.boolean(
            "allow_everyone_if_no_acl_found", default.allow_everyone_if_no_acl_found),
        acls_file=reader.string("acls_file", default.acls_file),
    )


def _read_tls(reader: _Reader) -> TlsConfig:
    default = TlsConfig()
    paths = {}
    for key in ("cert", "key", "ca"):
        path = reader.string(key, "")
        if path:
            problem = _unreadable_file(path)
            if problem:
                raise reader.error(key, path, problem)
        paths[key] = path
    tls = TlsConfig(
        cert=paths["cert"],
        key=paths["key"],
        ca=paths["ca"],
        client_auth=reader.choice("client_auth", default.client_auth, CLIENT_AUTH_MODES),
        min_version=reader.choice("min_version", default.min_version, TLS_VERSIONS),
        principal_mapping_rules=reader.string(
            "principal_mapping_rules", default.principal_mapping_rules),
    )
    try:
        parse_rules(tls.principal_mapping_rules)
    except MappingRuleError as e:
        raise reader.error("principal_mapping_rules", tls.principal_mapping_rules, str(e)) from None
    if tls.client_auth != "none" and not tls.ca:
        raise reader.error("client_auth", tls.client_auth,
                           "needs [tls] ca (the CA client certificates are checked against)")
    return tls


def _unreadable_file(path: str) -> str:
    """Return why C{path} cannot be read as a file, or ''."""
    try:
        with open(path, "rb"):
            pass
    except IsADirectoryError:
        return "is a directory"
    except OSError as e:
        return e.strerror or str(e)
    return ""


def _store_field_reader(reader: _Reader, name: str, kind: Any) -> Callable[[Any], Any]:
    """Return a function parsing store key C{name} of type C{kind} given its default."""
    if kind is bool:
        return lambda default: reader.boolean(name, default)
    if kind is int:
        minimum = 1 if name in _POSITIVE_STORE_KEYS else 0 if name in _NON_NEGATIVE_STORE_KEYS else -1
        return lambda default: reader.integer(name, default, minimum)
    if kind is float:
        return lambda default: reader.ratio(name, default)
    if name == "message_timestamp_type":
        return lambda default: reader.choice(name, default, TIMESTAMP_TYPES)
    if name == "compression_type":
        return lambda default: reader.choice(name, default, COMPRESSION_TYPES)
    return lambda default: reader.string(name, default)


#: [store] integer keys that must be positive; the others accept -1 ("no limit").
_POSITIVE_STORE_KEYS = frozenset({
    "segment_bytes", "segment_ms", "index_interval_bytes",
    "retention_check_interval_ms", "max_message_bytes", "producer_id_expiration_ms",
    "max_open_sealed_files", "max_compaction_lag_ms", "cleaner_dedupe_buffer_size",
    "cleaner_backoff_ms",
})

#: [store] integer keys that may be 0 but not -1.
_NON_NEGATIVE_STORE_KEYS = frozenset({"delete_retention_ms", "min_compaction_lag_ms"})

#: L{StoreConfig} fields set from another section, not from [store].
_STORE_FIELDS_FROM_KAFKA = frozenset({"num_partitions", "cleanup_policy", "max_connections"})


def _store_keys() -> dict[str, Any]:
    """Return the [store] keys: L{StoreConfig}'s field names and types."""
    hints = typing.get_type_hints(StoreConfig)
    return {f.name: hints[f.name] for f in dataclasses.fields(StoreConfig)
            if f.init and f.name not in _STORE_FIELDS_FROM_KAFKA}


def _read_store(reader: _Reader, kafka: KafkaConfig) -> StoreConfig:
    default = StoreConfig()
    values: dict[str, Any] = {"num_partitions": kafka.num_partitions,
                              "cleanup_policy": kafka.log_cleanup_policy,
                              "max_connections": kafka.max_connections}
    for name, kind in _store_keys().items():
        if name in reader.values:
            values[name] = _store_field_reader(reader, name, kind)(getattr(default, name))
    try:
        store = StoreConfig(**values)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"{reader.source}: [store] {e}") from None
    if store.min_compaction_lag_ms > store.max_compaction_lag_ms:
        # Kafka's LogConfig.validateBrokerLogConfigValues
        raise ConfigError(f"{reader.source}: [store] min_compaction_lag_ms ({store.min_compaction_lag_ms})"
                          f" is larger than max_compaction_lag_ms ({store.max_compaction_lag_ms})")
    return store


def _read_http(reader: _Reader) -> HttpConfig:
    default = HttpConfig()
    return HttpConfig(
        listen=reader.string("listen", default.listen),
        max_partition_series=reader.integer(
            "max_partition_series", default.max_partition_series, 0),
        max_peek_records=reader.integer("max_peek_records", default.max_peek_records, 1, 100000),
    )


_SECTION_KEYS: dict[str, Callable[[], Iterable[str]]] = {
    "main": lambda: (f.name for f in dataclasses.fields(MainConfig)),
    "kafka": lambda: (f.name for f in dataclasses.fields(KafkaConfig)),
    "tls": lambda: (f.name for f in dataclasses.fields(TlsConfig)),
    "security": lambda: (f.name for f in dataclasses.fields(SecurityConfig)),
    "store": lambda: _store_keys(),
    "http": lambda: (f.name for f in dataclasses.fields(HttpConfig)),
}


def _parse_ini(path: str) -> dict[str, dict[str, str]]:
    """Return the sections of the INI file at C{path}, or raise L{ConfigError}."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except IsADirectoryError:
        raise ConfigError(f"{path}: cannot read configuration: is a directory") from None
    except OSError as e:
        raise ConfigError(f"{path}: cannot read configuration: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: cannot read configuration: not UTF-8 text") from None
    parser = configparser.ConfigParser(
        interpolation=None,
        default_section="\0no default section\0",
        inline_comment_prefixes=("#", ";"),
        strict=True,
    )
    try:
        parser.read_string(text, source=path)
    except configparser.MissingSectionHeaderError as e:
        raise ConfigError(f"{path}: line {e.lineno}: a key before any [section]") from None
    except configparser.ParsingError as e:
        lineno = e.errors[0][0]
        line = text.splitlines()[lineno - 1].strip()
        raise ConfigError(f"{path}: line {lineno}: not 'key = value': {line}") from None
    except configparser.DuplicateSectionError as e:
        raise ConfigError(f"{path}: line {e.lineno}: section [{e.section}] given twice") from None
    except configparser.DuplicateOptionError as e:
        raise ConfigError(
            f"{path}: line {e.lineno}: [{e.section}] {e.option} given twice") from None
    except configparser.Error as e:
        raise ConfigError(f"{path}: {e.message.splitlines()[0]}") from None
    return {name: {k: v.strip() for k, v in parser[name].items()} for name in parser.sections()}


def _warn_unknown(source: str, sections: dict[str, dict[str, str]]) -> None:
    """Log a warning for every section and key this version does not know."""
    for section, values in sections.items():
        known = _SECTION_KEYS.get(section)
        if known is None:
            log.warn("{source}: unknown section [{section}] ignored", source=source, section=section)
            continue
        for key in sorted(set(values) - set(known())):
            log.warn("{source}: [{section}] {key}: unknown key ignored",
                     source=source, section=section, key=key)


def load_config(path: str | None, *, data_dir: str | None = None,
                listen: Iterable[str] = ()) -> BrokerConfig:
    """Load and validate the configuration.

    @param path: the INI file, or C{None} for the built-in defaults.
    @param data_dir: overrides C{[main] data_dir} (the C{--data-dir} option).
    @param listen: extra listener strings (C{--listen}), added after
        C{[kafka] listeners}.
    @raise ConfigError: when the file cannot be read or a value cannot be
        used; its text is one line naming the file, section, key and value.
    """
    if path is None:
        source, sections = DEFAULTS_SOURCE, {}
    else:
        source, sections = path, _parse_ini(path)
        _warn_unknown(source, sections)

    def reader(section: str) -> _Reader:
        return _Reader(source, section, sections.get(section, {}))

    kafka = _read_kafka(reader("kafka"), listen)
    tls = _read_tls(reader("tls"))
    if kafka.tls_port > 0 and not (tls.cert and tls.key):
        raise reader("kafka").error("tls_port", kafka.tls_port, "needs [tls] cert and key")
    return BrokerConfig(
        main=_read_main(reader("main"), data_dir),
        kafka=kafka,
        tls=tls,
        security=_read_security(reader("security")),
        store=_read_store(reader("store"), kafka),
        http=_read_http(reader("http")),
        source=source,
    )
