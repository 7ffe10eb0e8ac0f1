# -*- test-case-name: tests.store.test_vhost -*-
"""A vhost: a namespace of topics stored under C{vhosts/<percent-encoded name>/}.

Creating a topic makes its partition directories first and writes its
metadata file last; deleting one renames the metadata file away first, then
the partition directories, then removes them. So the metadata file decides
whether a topic exists, and anything else found at start-up is a leftover to
remove.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Mapping
from urllib.parse import quote, unquote

from twisted.logger import Logger

from twisted_kafka.store import topic_configs
from twisted_kafka.errors import ErrorCode, KafkaError
from twisted_kafka.store import metafile
from twisted_kafka.store.recovery import DELETED_SUFFIX, remove_path
from twisted_kafka.store.runtime import StoreRuntime
from twisted_kafka.store.partition import PartitionLog
from twisted_kafka.store.topic_names import validate_topic_name
from twisted_kafka.store.topic import TOPIC_SUFFIX, TopicLog, load_metadata, metadata_path, partition_dir

_PARTITION_DIR = re.compile(r"(.+)-(\d+)")


def vhost_dir_name(name: str) -> str:
    """The directory name of vhost C{name} (percent-encoded)."""
    return quote(name, safe="")


def vhost_name_from_dir(dirname: str) -> str:
    """Inverse of L{vhost_dir_name}."""
    return unquote(dirname)


def _collision_key(name: str) -> str:
    """Kafka treats names differing only in '.' vs '_' as colliding (metric names)."""
    return name.replace(".", "_")


class VhostStore:
    """The topics of one vhost.

    @ivar name: the vhost name ("/" is the default).
    @ivar directory: its directory under C{<data_dir>/vhosts}.
    """

    log = Logger()

    def __init__(self, name: str, directory: str, runtime: StoreRuntime, clean: bool = True) -> None:
        """Open the vhost directory (creating it), loading and recovering every topic."""
        self.name = name
        self.directory = directory
        self._runtime = runtime
        self._topics: dict[str, TopicLog] = {}
        self._by_id: dict[bytes, TopicLog] = {}
        self._collisions: dict[str, str] = {}
        if not os.path.isdir(directory):
            os.makedirs(directory)
            runtime.commit.dirty_paths.add(os.path.dirname(directory))
        self._load(clean)

    def __repr__(self) -> str:
        return f"<VhostStore {self.name!r} {len(self._topics)} topics>"

    def _load(self, clean: bool) -> None:
        """Load every topic with a metadata file; remove leftovers of interrupted operations."""
        entries = sorted(os.listdir(self.directory))
        for entry in entries:
            path = os.path.join(self.directory, entry)
            if entry.endswith(DELETED_SUFFIX) or entry.endswith(metafile.TEMP_SUFFIX):
                self.log.info("Removing leftover {path}", path=path)
                remove_path(path)
        owned: set[str] = set()
        for entry in entries:
            if not entry.endswith(TOPIC_SUFFIX):
                continue
            path = os.path.join(self.directory, entry)
            name, topic_id, count, configs = load_metadata(path)
            if name + TOPIC_SUFFIX != entry:
                raise metafile.MetadataFileError(f"{path} describes topic {name!r}")
            topic = TopicLog(self.directory, name, topic_id, configs, self._runtime)
            for index in range(count):
                topic.open_partition(index, clean)
                owned.add(f"{name}-{index}")
            self._register(topic)
        for entry in os.listdir(self.directory):
            path = os.path.join(self.directory, entry)
            if os.path.isdir(path) and _PARTITION_DIR.fullmatch(entry) and entry not in owned:
                self.log.warn("Removing partition directory {path}: no topic owns it", path=path)
                remove_path(path)

    def _register(self, topic: TopicLog) -> None:
        self._topics[topic.name] = topic
        self._by_id[topic.topic_id] = topic
        self._collisions[_collision_key(topic.name)] = topic.name

    def topics(self) -> list[TopicLog]:
        """Every topic, sorted by name."""
        return [self._topics[name] for name in sorted(self._topics)]

    def topic(self, name: str) -> TopicLog | None:
        """The topic called C{name}, if it exists."""
        return self._topics.get(name)

    def topic_by_id(self, topic_id: bytes) -> TopicLog | None:
        """The topic with id C{topic_id} (16 raw bytes), if it exists."""
        return self._by_id.get(topic_id)

    def check_new_name(self, name: str) -> None:
        """Check that a topic called C{name} may be created: a legal name, not taken yet.

        CreateTopics asks this first, as Kafka checks names and existence
        before a request's configs and layout; L{create_topic} asks it too.

        @raise KafkaError: C{INVALID_TOPIC_EXCEPTION}, C{TOPIC_ALREADY_EXISTS}.
        """
        validate_topic_name(name)
        if name in self._topics:
            raise KafkaError(ErrorCode.TOPIC_ALREADY_EXISTS, f"Topic '{name}' already exists.")

    def create_topic(
        self,
        name: str,
        num_partitions: int,
        configs: Mapping[str, str] | None = None,
        validate_only: bool = False,
    ) -> TopicLog:
        """Create a topic with C{num_partitions} partitions (-1: the store default).

        With C{validate_only} nothing is stored and the returned topic has no
        partitions (its C{num_partitions} says how many it would have).  The
        partitions must fit the open-file budget
        (L{twisted_kafka.store.descriptors}).  A create that fails leaves
        nothing behind: the partition directories made are removed.

        @raise KafkaError: C{INVALID_TOPIC_EXCEPTION}, C{TOPIC_ALREADY_EXISTS},
            C{INVALID_PARTITIONS}, C{INVALID_CONFIG}, C{POLICY_VIOLATION} (the
            open-file budget), C{KAFKA_STORAGE_ERROR}.
        """
        self.check_new_name(name)
        colliding = self._collisions.get(_collision_key(name))
        if colliding is not None:
            raise KafkaError(
                ErrorCode.INVALID_TOPIC_EXCEPTION, f"Topic '{name}' collides with existing topic: {colliding}"
            )
        if num_partitions == -1:
            num_partitions = self._runtime.config.num_partitions
        if num_partitions < 1:
            raise KafkaError(
                ErrorCode.INVALID_PARTITIONS, "Number of partitions was set to an invalid non-positive value."
            )
        overrides = topic_configs.validate(configs or {})
        topic_configs.check_combination(overrides, self._runtime.config)
        self._runtime.admit_partitions(num_partitions)
        topic = TopicLog(self.directory, name, uuid.uuid4().bytes, overrides, self._runtime)
        topic.planned_partitions = num_partitions
        if validate_only:
            return topic
        try:
            for index in range(num_partitions):
                stale = partition_dir(self.directory, name, index)
                if os.path.exists(stale):
                    remove_path(stale)
                topic.open_partition(index, clean=True)
            topic.save()
        except OSError as e:
            topic.release()
            topic.remove_partition_dirs(range(num_partitions))
            try:
                remove_path(topic.metadata_path)  # written but not made durable
            except OSError:
                pass
            raise KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, f"cannot create topic {name}: {e}") from None
        self._register(topic)
        return topic

    def delete_topic(self, name: str) -> None:
        """Delete a topic and all its data.

        The metadata file is renamed away first (from then on the topic is
        gone, even after a crash), then each partition directory is renamed
        to C{<dir>-<uuid>.deleted} and removed off the reactor thread.

        @raise KafkaError: C{UNKNOWN_TOPIC_OR_PARTITION}, C{KAFKA_STORAGE_ERROR}.
        """
        topic = self._topics.get(name)
        if topic is None:
            raise KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, f"Topic '{name}' does not exist.")
        tag = uuid.uuid4().hex
        try:
            os.rename(metadata_path(self.directory, name), os.path.join(self.directory, f"{name}-{tag}{TOPIC_SUFFIX}{DELETED_SUFFIX}"))
        except OSError as e:
            raise KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, f"cannot delete topic {name}: {e}") from None
        del self._topics[name]
        self._by_id.pop(topic.topic_id, None)
        self._collisions.pop(_collision_key(name), None)
        topic.release()
        doomed = [os.path.join(self.directory, f"{name}-{tag}{TOPIC_SUFFIX}{DELETED_SUFFIX}")]
        for partition in topic.partitions:
            target = f"{partition.directory}-{tag}{DELETED_SUFFIX}"
            try:
                os.rename(partition.directory, target)
                doomed.append(target)
            except OSError as e:
                self.log.warn("Could not rename {path}: {error}", path=partition.directory, error=e)
        if self._runtime.durable:
            metafile.fsync_dir(self.directory)
        for path in doomed:
            self._runtime.in_background(remove_path, path)

    def partitions(self) -> list[PartitionLog]:
        """Every partition of every topic (for the retention sweep)."""
        return [p for topic in self.topics() for p in topic.partitions]

    def release(self) -> None:
        """Close every file of every topic."""
        for topic in self._topics.values():
            topic.release()
