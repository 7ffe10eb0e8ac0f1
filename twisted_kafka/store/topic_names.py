# -*- test-case-name: tests.store.test_vhost -*-
"""The rules of topic names: what is legal, and which names are internal.

The store applies them when it creates a topic; responders ask them where
Kafka answers a name before anything else (Metadata, CreateTopics), and
refuse client writes to internal topics with them.  This is the one place
they are spelled.
"""

from __future__ import annotations

import re

from twisted_kafka.errors import ErrorCode, KafkaError

__all__ = ["INTERNAL_PREFIX", "MAX_TOPIC_NAME_LENGTH", "is_internal", "validate_topic_name"]

#: Kafka's limit on topic name length.
MAX_TOPIC_NAME_LENGTH = 249
#: Names of the broker's internal stream queues (the committed offsets log)
#: start with this: clients may not create, delete, grow or append to them.
INTERNAL_PREFIX = "__"

_LEGAL_TOPIC_NAME = re.compile(r"[a-zA-Z0-9._-]+")


def validate_topic_name(name: str) -> None:
    """Apply Kafka's topic name rules.

    @raise KafkaError: C{INVALID_TOPIC_EXCEPTION} with Kafka's wording.
    """
    if not name:
        raise KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, "Topic name is illegal, it can't be empty")
    if name in (".", ".."):
        raise KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, 'Topic name cannot be "." or ".."')
    if len(name) > MAX_TOPIC_NAME_LENGTH:
        raise KafkaError(
            ErrorCode.INVALID_TOPIC_EXCEPTION,
            f"Topic name is illegal, it can't be longer than {MAX_TOPIC_NAME_LENGTH} characters,"
            f" topic name: {name}",
        )
    if not _LEGAL_TOPIC_NAME.fullmatch(name):
        raise KafkaError(
            ErrorCode.INVALID_TOPIC_EXCEPTION,
            f'Topic name "{name}" is illegal, it contains a character other than ASCII alphanumerics,'
            " '.', '_' and '-'",
        )


def is_internal(name: str) -> bool:
    """Whether topic C{name} is reserved for an internal stream queue (see L{INTERNAL_PREFIX})."""
    return name.startswith(INTERNAL_PREFIX)
