# -*- test-case-name: tests.apis.test_admin_topics -*-
"""Checks shared by the topic admin APIs on a single-node cluster.

Manual replica assignments (CreateTopics, CreatePartitions) can only name
this broker, once per partition: every partition has exactly one replica.
Requests naming one topic twice are refused for every copy of that name.
Messages follow Kafka's controller, with this broker's node id in them.
Internal stream queues (names starting with C{__}, such as the committed
offsets log) are managed by the broker: admin requests may describe them but
not delete, grow or reconfigure them.
"""

from __future__ import annotations

from typing import Hashable, Iterable, Sequence, TypeVar

from twisted_kafka.errors import ErrorCode, KafkaError
from twisted_kafka.store.topic_names import is_internal

#: The only replication factor a partition can have here.
REPLICATION_FACTOR = 1
#: Kafka's cap on the partitions one request may create.
MAX_PARTITIONS_PER_REQUEST = 10000

_T = TypeVar("_T", bound=Hashable)


def duplicates(keys: Iterable[_T]) -> set[_T]:
    """Return the keys that occur more than once in C{keys}."""
    seen: set[_T] = set()
    twice: set[_T] = set()
    for key in keys:
        if key in seen:
            twice.add(key)
        seen.add(key)
    return twice


def check_replicas(broker_ids: Sequence[int], node_id: int) -> None:
    """Check one partition's manual replica list: exactly C{[node_id]}.

    @raise KafkaError: INVALID_REPLICA_ASSIGNMENT naming what is wrong.
    """
    if not broker_ids:
        raise KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT,
                         "The manual partition assignment includes an empty replica list.")
    previous = None
    for broker_id in sorted(broker_ids):
        if broker_id != node_id:
            raise KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT,
                             f"The manual partition assignment includes broker {broker_id}, "
                             f"but no such broker is registered: this is a single-node "
                             f"cluster whose only broker is {node_id}.")
        if broker_id == previous:
            raise KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT,
                             f"The manual partition assignment includes the broker "
                             f"{broker_id} more than once.")
        previous = broker_id


def check_replication_factor(replication_factor: int) -> None:
    """Check a requested replication factor: 1, or -1 for the default (1).

    @raise KafkaError: INVALID_REPLICATION_FACTOR.
    """
    if replication_factor < -1 or replication_factor == 0:
        raise KafkaError(ErrorCode.INVALID_REPLICATION_FACTOR,
                         "Replication factor must be larger than 0, or -1 to use the "
                         "default value.")
    if replication_factor > REPLICATION_FACTOR:
        raise KafkaError(ErrorCode.INVALID_REPLICATION_FACTOR,
                         f"Unable to replicate the partition {replication_factor} time(s): "
                         f"this is a single-node broker, so the replication factor can "
                         f"only be 1 (or -1 for the default).")


def too_many_partitions() -> KafkaError:
    """Return Kafka's error for a request creating more than L{MAX_PARTITIONS_PER_REQUEST}."""
    return KafkaError(ErrorCode.POLICY_VIOLATION,
                      "Excessively large number of partitions per request.")


def check_not_internal(name: str, what: str) -> None:
    """Refuse to C{what} (e.g. "delete") internal topic C{name}.

    @raise KafkaError: POLICY_VIOLATION.
    """
    if is_internal(name):
        raise KafkaError(ErrorCode.POLICY_VIOLATION,
                         f"Topic '{name}' is internal and managed by the broker: "
                         f"it cannot {what}.")
