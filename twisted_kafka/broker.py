# -*- test-case-name: tests.apis.test_metadata -*-
"""The broker: what every responder reaches through its request context.

One L{Broker} per process holds the configuration, the stream-queue store,
the reactor (for timers) and the registry of served APIs, and knows the
broker-wide rules responders share, such as auto-creating topics.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from twisted_kafka.errors import ErrorCode, KafkaError
from twisted_kafka.groups.coordinator import GroupCoordinator
from twisted_kafka.security.acl_store import AclStore
from twisted_kafka.security.credentials import CredentialStore
from twisted_kafka.security.principals import certificate_name, parse_rules
from twisted_kafka.server.authorizer import ANONYMOUS, AllowEverything, Authorizer
from twisted_kafka.server.registry import ResponderRegistry
from twisted_kafka.server.request_stats import RequestStats
from twisted_kafka.store.interfaces import IStore, ITopic, IVhost
from twisted_kafka.store.topic_names import INTERNAL_PREFIX, is_internal

if TYPE_CHECKING:
    from twisted.internet.interfaces import IReactorTime

    from twisted_kafka.config import BrokerConfig
    from twisted_kafka.store.config import StoreConfig

#: This broker's node id in Metadata and everywhere a node is named.
NODE_ID = 0


@dataclass(frozen=True)
class ResponderSettings:
    """The configuration responders act on, read once from the L{BrokerConfig}.

    Responders read these through their context (C{context.settings}) rather
    than reaching into the configuration's sections.

    @ivar auto_create_topics: whether Metadata and Produce create unknown topics.
    @ivar default_partitions: partitions of an auto-created topic and of
        CreateTopics with -1 (C{[kafka] num_partitions}).
    @ivar full_record_validation: Produce checks every record's fields
        (C{[kafka] record_validation = full}), not only their framing.
    @ivar max_decompressed_bytes: the decompression budget of one request.
    @ivar max_compression_ratio: the largest compression ratio Produce accepts.
    @ivar durable_acks: acks=all produces and offset commits are answered
        only once fsynced (C{[store] fsync}).
    @ivar topic_defaults: the store settings a topic inherits unless it
        overrides them (what DescribeConfigs and CreateTopics report).
    @ivar sasl_mechanisms: the SASL mechanisms SaslHandshake accepts.
    @ivar max_reauth_ms: the session lifetime SaslAuthenticate gives; 0: none.
    @ivar failed_authentication_delay_ms: how long a failed
        authentication's answer waits.
    @ivar super_users: the principals C{[security] super_users} names
        (they manage users of every vhost).
    """

    auto_create_topics: bool
    default_partitions: int
    full_record_validation: bool
    max_decompressed_bytes: int
    max_compression_ratio: int
    durable_acks: bool
    topic_defaults: StoreConfig
    sasl_mechanisms: tuple[str, ...] = ()
    max_reauth_ms: int = 0
    failed_authentication_delay_ms: int = 0
    super_users: frozenset[str] = frozenset()

    @classmethod
    def from_config(cls, config: BrokerConfig) -> ResponderSettings:
        """Read the settings from C{config}."""
        kafka = config.kafka
        return cls(
            auto_create_topics=kafka.auto_create_topics,
            default_partitions=kafka.num_partitions,
            full_record_validation=kafka.record_validation == "full",
            max_decompressed_bytes=kafka.max_decompressed_bytes,
            max_compression_ratio=kafka.max_compression_ratio,
            durable_acks=config.store.fsync,
            topic_defaults=config.store,
            sasl_mechanisms=config.security.sasl_mechanisms,
            max_reauth_ms=config.security.max_reauth_ms,
            failed_authentication_delay_ms=config.security.failed_authentication_delay_ms,
            super_users=frozenset(config.security.super_users),
        )


class Broker:
    """The single node of a twisted-kafka cluster.

    @ivar config: the loaded L{BrokerConfig} (DescribeConfigs reports it;
        responders otherwise read L{settings}).
    @ivar settings: the L{ResponderSettings} read from it.
    @ivar store: the stream-queue store (the
        L{twisted_kafka.store.service.StreamStore}).
    @ivar reactor: the reactor used for every timer.
    @ivar registry: the served APIs; ApiVersions answers from it.
    @ivar groups: the L{GroupCoordinator} of every consumer group (a service
        to start after the store).
    @ivar node_id: this broker's node id.
    @ivar authorizer: decides what each request may do (allows everything
        unless C{[security] authorizer = acl}).
    @ivar request_stats: the request counters every connection adds to,
        when the metrics endpoint is on (see L{twisted_kafka.observability});
        C{None} otherwise.
    @ivar started_at: when the broker was built (the reactor's clock).
    """

    def __init__(self, config: BrokerConfig, store: IStore, reactor: IReactorTime,
                 registry: ResponderRegistry | None = None,
                 authorizer: Authorizer | None = None,
                 credentials: CredentialStore | None = None,
                 acls: AclStore | None = None) -> None:
        """
        @param credentials: the users; by default read from the users file
            on first use.
        @param acls: the ACLs of every vhost, with C{[security] authorizer =
            acl} (the authorizer reads them); C{None} without an authorizer.
        """
        self.config = config
        self.settings = ResponderSettings.from_config(config)
        self.store = store
        self.reactor = reactor
        self.node_id = NODE_ID
        if registry is None:
            from twisted_kafka.apis import build_registry

            registry = build_registry()
        self.registry = registry
        self.authorizer: Authorizer = authorizer if authorizer is not None else AllowEverything()
        self.groups = GroupCoordinator(store, reactor, config)
        self._credentials = credentials
        self.acls = acls
        self._principal_rules = parse_rules(config.tls.principal_mapping_rules)
        self.request_stats: RequestStats | None = None
        self.started_at = reactor.seconds()

    @property
    def credentials(self) -> CredentialStore:
        """The users and their SCRAM credentials (C{[security] users_file})."""
        if self._credentials is None:
            self._credentials = CredentialStore.in_directory(
                self.config.main.data_dir, self.config.security.users_file,
                durable=self.config.store.fsync)
        return self._credentials

    def certificate_principal(self, transport: object) -> str:
        """Return the principal of the client certificate C{transport} verified.

        C{User:} and the subject mapped by C{[tls] principal_mapping_rules};
        C{User:ANONYMOUS} without a certificate.
        """
        get_certificate = getattr(transport, "getPeerCertificate", None)
        certificate = get_certificate() if get_certificate is not None else None
        if certificate is None:
            return ANONYMOUS
        subject = certificate.to_cryptography().subject.rfc4514_string()
        return f"User:{certificate_name(self._principal_rules, subject)}"

    def auto_create_topic(self, vhost: IVhost, name: str) -> ITopic:
        """Create topic C{name} in C{vhost} as auto-creation does, or raise.

        @raise KafkaError: UNKNOWN_TOPIC_OR_PARTITION when auto-creation is
            off, INVALID_TOPIC_EXCEPTION when the name is not valid or is
            reserved for internal stream queues (it starts with C{__}),
            POLICY_VIOLATION when its partitions would not fit the open-file
            budget, KAFKA_STORAGE_ERROR when it cannot be stored.
        """
        if not self.settings.auto_create_topics:
            raise KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
                             f"topic {name!r} does not exist")
        existing = vhost.topic(name)
        if existing is not None:
            return existing
        if is_internal(name):
            raise KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION,
                             f"topic names starting with {INTERNAL_PREFIX!r} are reserved "
                             "for the broker's internal stream queues")
        return vhost.create_topic(name, self.settings.default_partitions)
