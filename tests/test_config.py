# -*- test-case-name: tests.test_config -*-
"""Tests for L{twisted_kafka.config}: INI loading, defaults and one-line errors."""

from __future__ import annotations

import os
import re

from twisted.logger import Logger
from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka import config
from twisted_kafka.config import (
    BrokerConfig,
    ConfigError,
    KafkaConfig,
    MainConfig,
    TlsConfig,
    load_config,
)
from twisted_kafka.store.config import StoreConfig

from twisted_kafka.testing.tls import write_tls_files


class ConfigTestMixin:
    """Writes INI files under a fresh directory and loads them."""

    def write_ini(self, text: str, name: str = "twisted-kafka.ini") -> str:
        """Write C{text} to a new INI file and return its path."""
        directory = self.mktemp()  # type: ignore[attr-defined]
        os.makedirs(directory)
        path = os.path.join(directory, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def load_error(self, text: str) -> str:
        """Return the text of the L{ConfigError} loading C{text} raises."""
        path = self.write_ini(text)
        error = self.assertRaises(ConfigError, load_config, path)  # type: ignore[attr-defined]
        message = str(error)
        self.assertNotIn("\n", message)  # type: ignore[attr-defined]
        return message.replace(path, "FILE")


class DefaultsTests(SynchronousTestCase):
    """The configuration with no file is the documented defaults."""

    def test_no_file(self) -> None:
        """C{load_config(None)} gives every section's defaults."""
        loaded = load_config(None)
        self.assertEqual(loaded, BrokerConfig(
            main=MainConfig(), kafka=KafkaConfig(), tls=TlsConfig(), store=StoreConfig(),
            source="<defaults>"))
        self.assertEqual((loaded.kafka.bind, loaded.kafka.port, loaded.main.data_dir),
                         ("127.0.0.1", 9092, "./kafka-data"))

    def test_empty_file(self) -> None:
        """An empty file gives the defaults too, with the file as source."""
        path = ConfigTestMixin.write_ini(self, "")  # type: ignore[arg-type]
        loaded = load_config(path)
        self.assertEqual((loaded.kafka, loaded.source), (KafkaConfig(), path))

    def test_sample_file_loads_as_defaults(self) -> None:
        """The shipped C{etc/twisted-kafka.ini} loads to exactly the defaults."""
        sample = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                              "etc", "twisted-kafka.ini")
        warnings: list[dict] = []
        self.patch(config, "log", Logger(observer=warnings.append))
        loaded = load_config(sample)
        self.assertEqual(
            (loaded.main, loaded.kafka, loaded.tls, loaded.store),
            (MainConfig(), KafkaConfig(), TlsConfig(), StoreConfig()))
        self.assertEqual(warnings, [])

    def test_sample_file_documents_every_key(self) -> None:
        """Every key appears commented out in the sample file with its true default:
        uncommenting them all still loads exactly the defaults."""
        sample = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                              "etc", "twisted-kafka.ini")
        with open(sample, encoding="utf-8") as f:
            text = f.read()
        for section, keys in config._SECTION_KEYS.items():
            self.assertIn(f"\n[{section}]\n", text)
            for key in keys():
                self.assertIn(f"\n# {key} =", text, f"[{section}] {key} undocumented")
        uncommented = re.sub(r"(?m)^# (\w+ =)", r"\1", text)
        path = ConfigTestMixin.write_ini(self, uncommented)  # type: ignore[arg-type]
        loaded = load_config(path)
        self.assertEqual(
            (loaded.main, loaded.kafka, loaded.tls, loaded.store),
            (MainConfig(), KafkaConfig(), TlsConfig(), StoreConfig()))


class ValuesTests(ConfigTestMixin, SynchronousTestCase):
    """Values in the file are parsed into typed fields."""

    def test_every_section(self) -> None:
        """Values of every type land in their dataclass fields."""
        tls = write_tls_files(self.mktemp())
        path = self.write_ini(f"""
[main]
data_dir = {self.mktemp()}
log_level = DEBUG
[kafka]
bind = 0.0.0.0
port = 19092
tls_port = 19093
unix_path = /tmp/k.sock
default_vhost = prod
auto_create_topics = off
num_partitions = 3
advertised_host = kafka.example.com
advertised_port = 29092
max_request_size = 2048
idle_timeout = 0   # never
listeners = tcp:1:interface=127.0.0.1, unix:/tmp/a.sock
  tcp:2:interface=127.0.0.1
record_validation = full
max_decompressed_bytes = 4096
max_compression_ratio = 50
listen_backlog = 64
queued_max_request_bytes = 5000000
request_completion_timeout_ms = 1500
max_connections = 300
max_connections_per_ip = 20
[tls]
cert = {tls.server_cert}
key = {tls.server_key}
ca = {tls.ca_cert}
client_auth = required
min_version = tlsv1.3
""")
        loaded = load_config(path)
        self.assertEqual(loaded.main.log_level, "debug")
        self.assertEqual(loaded.kafka, KafkaConfig(
            bind="0.0.0.0", port=19092, tls_port=19093, unix_path="/tmp/k.sock",
            default_vhost="prod", auto_create_topics=False, num_partitions=3,
            advertised_host="kafka.example.com", advertised_port=29092, max_request_size=2048,
            idle_timeout=0,
            listeners=["tcp:1:interface=127.0.0.1", "unix:/tmp/a.sock", "tcp:2:interface=127.0.0.1"],
            record_validation="full", max_decompressed_bytes=4096, listen_backlog=64,
            max_compression_ratio=50, queued_max_request_bytes=5000000,
            request_completion_timeout_ms=1500, max_connections=300,
            max_connections_per_ip=20))
        self.assertEqual(loaded.tls, TlsConfig(
            cert=tls.server_cert, key=tls.server_key, ca=tls.ca_cert, client_auth="required",
            min_version="TLSv1.3"))

    def test_store_section(self) -> None:
        """C{[store]} keys map onto L{StoreConfig} fields of the same names."""
        path = self.write_ini("""
[store]
fsync = false
segment_bytes = 1048576
retention_ms = -1
""")
        loaded = load_config(path)
        default = StoreConfig()
        self.assertEqual(
            (loaded.store.fsync, loaded.store.segment_bytes, loaded.store.retention_ms),
            (False, 1048576, -1))
        self.assertEqual(loaded.store.segment_ms, default.segment_ms)

    def test_compression_type(self) -> None:
        """C{[store] compression_type} is one of Kafka's values, matched case-insensitively."""
        loaded = load_config(self.write_ini("[store]\ncompression_type = GZIP\n"))
        self.assertEqual((StoreConfig().compression_type, loaded.store.compression_type),
                         ("producer", "gzip"))
        self.assertIn("FILE: [store] compression_type = brotli: must be one of",
                      self.load_error("[store]\ncompression_type = brotli\n"))

    def test_partitions_reach_store(self) -> None:
        """C{[kafka] num_partitions} is also the store's default partition count."""
        loaded = load_config(self.write_ini("[kafka]\nnum_partitions = 4\n"))
        self.assertEqual((loaded.kafka.num_partitions, loaded.store.num_partitions), (4, 4))
        events: list[dict] = []
        self.patch(config, "log", Logger(observer=events.append))
        load_config(self.write_ini("[store]\nnum_partitions = 4\n"))
        self.assertEqual(len(events), 1, "[store] num_partitions is not a key")

    def test_overrides(self) -> None:
        """C{data_dir} and C{listen} arguments override and extend the file."""
        path = self.write_ini("[main]\ndata_dir = elsewhere\n[kafka]\nlisteners = tcp:1\n")
        data_dir = self.mktemp()
        loaded = load_config(path, data_dir=data_dir, listen=["tcp:2", "unix:/x"])
        self.assertEqual(loaded.main.data_dir, data_dir)
        self.assertEqual(loaded.kafka.listeners, ["tcp:1", "tcp:2", "unix:/x"])

    def test_validation_alias(self) -> None:
        """C{record_validation = header}, the older name, means the default C{records}."""
        loaded = load_config(self.write_ini("[kafka]\nrecord_validation = Header\n"))
        self.assertEqual(loaded.kafka.record_validation, "records")

    def test_ports_disabled(self) -> None:
        """Port 0 and -1 both load; neither is a listening port."""
        loaded = load_config(self.write_ini("[kafka]\nport = 0\ntls_port = -1\n"))
        self.assertEqual((loaded.kafka.port, loaded.kafka.tls_port), (0, -1))

    def test_unknown_keys_warn(self) -> None:
        """An unknown section or key is a warning naming file, section and key."""
        events: list[dict] = []
        self.patch(config, "log", Logger(observer=events.append))
        path = self.write_ini("[kafka]\nprot = 1\nport = 9\n[rabbit]\nx = 1\n")
        loaded = load_config(path)
        self.assertEqual(loaded.kafka.port, 9)
        from twisted.logger import formatEvent

        self.assertEqual(sorted(formatEvent(e) for e in events), [
            f"{path}: [kafka] prot: unknown key ignored",
            f"{path}: unknown section [rabbit] ignored",
        ])
        self.assertEqual({e["log_level"].name for e in events}, {"warn"})


class ErrorTests(ConfigTestMixin, SynchronousTestCase):
    """Every unusable configuration is one line naming file, section, key, value."""

    def test_bad_integer(self) -> None:
        """A port that is not a number."""
        self.assertEqual(self.load_error("[kafka]\nport = abc\n"),
                         "FILE: [kafka] port = abc: not an integer")

    def test_out_of_range(self) -> None:
        """A port above 65535 and a partition count of zero."""
        self.assertEqual(self.load_error("[kafka]\nport = 70000\n"),
                         "FILE: [kafka] port = 70000: out of range (must be between -1 and 65535)")
        self.assertEqual(self.load_error("[kafka]\nnum_partitions = 0\n"),
                         "FILE: [kafka] num_partitions = 0: out of range "
                         "(must be between 1 and 100000)")

    def test_bad_record_validation(self) -> None:
        """An unknown validation level is refused, naming the levels."""
        self.assertEqual(self.load_error("[kafka]\nrecord_validation = none\n"),
                         "FILE: [kafka] record_validation = none: must be one of "
                         "records, full, header")

    def test_bad_backlog(self) -> None:
        """A listen backlog of zero is refused, naming the key."""
        self.assertEqual(self.load_error("[kafka]\nlisten_backlog = 0\n"),
                         "FILE: [kafka] listen_backlog = 0: out of range "
                         "(must be between 1 and 65535)")

    def test_session_timeouts_inverted(self) -> None:
        """A group max session timeout below the min is refused, naming the key."""
        self.assertEqual(
            self.load_error("[kafka]\ngroup_min_session_timeout_ms = 9000\n"
                            "group_max_session_timeout_ms = 8000\n"),
            "FILE: [kafka] group_max_session_timeout_ms = 8000: less than "
            "group_min_session_timeout_ms (9000)")

    def test_bad_boolean(self) -> None:
        """A boolean that is not one."""
        self.assertEqual(self.load_error("[kafka]\nauto_create_topics = maybe\n"),
                         "FILE: [kafka] auto_create_topics = maybe: not a boolean "
                         "(use true or false)")

    def test_bad_store_boolean(self) -> None:
        """A C{[store]} boolean that is not one."""
        self.assertEqual(self.load_error("[store]\nfsync = sometimes\n"),
                         "FILE: [store] fsync = sometimes: not a boolean (use true or false)")

    def test_bad_store_integer(self) -> None:
        """A C{[store]} size that is not a positive number."""
        self.assertEqual(self.load_error("[store]\nsegment_bytes = 0\n"),
                         "FILE: [store] segment_bytes = 0: out of range (must be at least 1)")

    def test_compaction_lags_conflict(self) -> None:
        """C{[store] min_compaction_lag_ms} above C{max_compaction_lag_ms}, as Kafka refuses the broker pair."""
        self.assertEqual(
            self.load_error("[store]\nmin_compaction_lag_ms = 2000\nmax_compaction_lag_ms = 1000\n"),
            "FILE: [store] min_compaction_lag_ms (2000) is larger than max_compaction_lag_ms (1000)")

    def test_bad_enum(self) -> None:
        """An enumerated value outside its choices."""
        self.assertEqual(self.load_error("[tls]\nclient_auth = sometimes\n"),
                         "FILE: [tls] client_auth = sometimes: must be one of none, optional, "
                         "required")
        self.assertEqual(self.load_error("[main]\nlog_level = loud\n"),
                         "FILE: [main] log_level = loud: must be one of debug, info, warn, "
                         "error, critical")

    def test_bad_bind(self) -> None:
        """A bind address that is not an IP address."""
        self.assertEqual(self.load_error("[kafka]\nbind = my host\n"),
                         "FILE: [kafka] bind = my host: not an IP address")

    def test_missing_cert(self) -> None:
        """A certificate file that does not exist."""
        self.assertEqual(self.load_error("[tls]\ncert = /nonexistent/server.crt\n"),
                         "FILE: [tls] cert = /nonexistent/server.crt: No such file or directory")

    def test_tls_port_without_cert(self) -> None:
        """A TLS port with no certificate and key to serve."""
        self.assertEqual(self.load_error("[kafka]\ntls_port = 9093\n"),
                         "FILE: [kafka] tls_port = 9093: needs [tls] cert and key")

    def test_client_auth_without_ca(self) -> None:
        """Client-certificate checks with no CA to check against."""
        tls = write_tls_files(self.mktemp())
        self.assertEqual(
            self.load_error(f"[tls]\ncert = {tls.server_cert}\nkey = {tls.server_key}\n"
                            "client_auth = optional\n"),
            "FILE: [tls] client_auth = optional: needs [tls] ca (the CA client certificates "
            "are checked against)")

    def test_missing_file(self) -> None:
        """A configuration file that does not exist."""
        error = self.assertRaises(ConfigError, load_config, "/nonexistent/twisted-kafka.ini")
        self.assertEqual(str(error), "/nonexistent/twisted-kafka.ini: cannot read configuration: "
                                     "No such file or directory")

    def test_unreadable_file(self) -> None:
        """A configuration path that cannot be read (a directory, or not text)."""
        directory = self.mktemp()
        os.makedirs(directory)
        error = self.assertRaises(ConfigError, load_config, directory)
        self.assertEqual(str(error), f"{directory}: cannot read configuration: is a directory")
        path = self.write_ini("")
        with open(path, "wb") as f:
            f.write(b"[kafka]\nport = \xff\n")
        error = self.assertRaises(ConfigError, load_config, path)
        self.assertEqual(str(error), f"{path}: cannot read configuration: not UTF-8 text")

    def test_syntax_errors(self) -> None:
        """Lines that are not INI, and keys given twice, name the line."""
        self.assertEqual(self.load_error("port = 1\n"),
                         "FILE: line 1: a key before any [section]")
        self.assertEqual(self.load_error("[kafka]\nport 1\n"),
                         "FILE: line 2: not 'key = value': port 1")
        self.assertEqual(self.load_error("[kafka]\nport = 1\nport = 2\n"),
                         "FILE: line 3: [kafka] port given twice")

    def test_data_dir_unusable(self) -> None:
        """A data directory that is a file, from the file or from C{--data-dir}."""
        path = self.write_ini("")
        self.assertEqual(self.load_error(f"[main]\ndata_dir = {path}\n"),
                         f"FILE: [main] data_dir = {path}: not a directory")
        error = self.assertRaises(ConfigError, load_config, None, data_dir=path)
        self.assertEqual(str(error), f"--data-dir {path}: not a directory")


class SecuritySectionTests(ConfigTestMixin, SynchronousTestCase):
    """The [security] section and the listeners' security protocols."""

    def test_values(self) -> None:
        """Every [security] key, with principals split on semicolons."""
        path = self.write_ini(
            "[kafka]\nport_security_protocol = sasl_plaintext\n"
            "listeners = SASL_SSL://ssl:9095:privateKey=k:certKey=c\n"
            "[security]\nsasl_mechanisms = scram-sha-512\nmax_reauth_ms = 60000\n"
            "authorizer = acl\nsuper_users = User:admin; User:CN=ops,O=Example\n"
            "allow_everyone_if_no_acl_found = true\n")
        loaded = load_config(path)
        self.assertEqual(loaded.kafka.port_security_protocol, "SASL_PLAINTEXT")
        security = loaded.security
        self.assertEqual(security.sasl_mechanisms, ("SCRAM-SHA-512",))
        self.assertEqual(security.max_reauth_ms, 60000)
        self.assertEqual(security.super_users, ("User:admin", "User:CN=ops,O=Example"))
        self.assertEqual((security.authorizer, security.allow_everyone_if_no_acl_found),
                         ("acl", True))

    def test_errors(self) -> None:
        """Bad protocols, prefixes, mechanisms, principals and mapping rules name their key."""
        for text, message in (
                ("[kafka]\nport_security_protocol = SSL\n", "[kafka] port_security_protocol = SSL"),
                ("[kafka]\nlisteners = SASL_SSL://tcp:9095\n", "needs an ssl: endpoint"),
                ("[kafka]\nlisteners = SSL://tcp:9095\n", "needs an ssl: endpoint"),
                ("[kafka]\nlisteners = SASL_PLAINTEXT://ssl:9095\n", "needs a non-ssl: endpoint"),
                ("[kafka]\nlisteners = KERBEROS://tcp:9095\n", "unknown security protocol"),
                ("[security]\nsasl_mechanisms = GSSAPI\n", "[security] sasl_mechanisms = GSSAPI"),
                ("[security]\nsuper_users = admin\n", "[security] super_users = admin"),
                ("[tls]\nprincipal_mapping_rules = RULE:x\n", "[tls] principal_mapping_rules")):
            error = self.assertRaises(ConfigError, load_config, self.write_ini(text))
            self.assertIn(message, str(error))


class HttpSectionTests(ConfigTestMixin, SynchronousTestCase):
    """The C{[http]} section: off by default, its values checked."""

    def test_off_by_default(self) -> None:
        """Without a section no HTTP listener is configured."""
        self.assertEqual(load_config(None).http.listen, "")

    def test_values(self) -> None:
        """Every key is read."""
        from twisted_kafka.config import HttpConfig

        loaded = load_config(self.write_ini(
            "[http]\nlisten = tcp:9644:interface=127.0.0.1\nmax_partition_series = 5\n"
            "max_peek_records = 20\n"))
        self.assertEqual(loaded.http, HttpConfig("tcp:9644:interface=127.0.0.1", 5, 20))

    def test_bad_cap(self) -> None:
        """A negative series cap is refused with one line."""
        self.assertEqual(self.load_error("[http]\nmax_partition_series = -1\n"),
                         "FILE: [http] max_partition_series = -1: out of range (must be at least 0)")
