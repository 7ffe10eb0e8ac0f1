# -*- test-case-name: tests.store.test_vhost -*-
"""A topic: its id, its partitions' stream queues and its config overrides.

The topic's metadata file C{<vhost dir>/<name>.topic} (topic id, partition
count, config overrides) is the commit point of the topic's existence:
partition directories without one are leftovers of an interrupted create or
delete and are removed at start-up.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable, Mapping

from twisted_kafka.errors import ErrorCode, KafkaError
from twisted_kafka.store import metafile, topic_configs
from twisted_kafka.store.partition import PartitionLog
from twisted_kafka.store.recovery import remove_path
from twisted_kafka.store.runtime import StoreRuntime
from twisted_kafka.store.topic_configs import TopicSettings

TOPIC_SUFFIX = ".topic"
TOPIC_KIND = "topic"


def metadata_path(vhost_dir: str, name: str) -> str:
    """Where the metadata file of topic C{name} lives."""
    return os.path.join(vhost_dir, name + TOPIC_SUFFIX)


def partition_dir(vhost_dir: str, name: str, index: int) -> str:
    """The directory of partition C{index} of topic C{name}."""
    return os.path.join(vhost_dir, f"{name}-{index}")


class TopicLog:
    """A topic of one vhost.

    @ivar name: the topic name.
    @ivar topic_id: 16 raw bytes (a uuid4), persisted.
    @ivar partitions: one L{PartitionLog} per partition, by index.
    @ivar configs: the topic's config overrides (normalised strings).
    @ivar settings: the effective values as L{TopicSettings}, which the
        topic hands to its partitions (a new object whenever they change).
    """

    def __init__(
        self,
        vhost_dir: str,
        name: str,
        topic_id: bytes,
        configs: Mapping[str, str],
        runtime: StoreRuntime,
    ) -> None:
        self.vhost_dir = vhost_dir
        self.name = name
        self.topic_id = topic_id
        self.configs: dict[str, str] = dict(configs)
        self.partitions: list[PartitionLog] = []
        self._runtime = runtime
        self.planned_partitions = 0
        self.settings = TopicSettings.of(self.configs, runtime.config)

    def __repr__(self) -> str:
        return f"<TopicLog {self.name} x{len(self.partitions)}>"

    @property
    def num_partitions(self) -> int:
        """The partition count (for a validate-only topic: the count it would have)."""
        return len(self.partitions) or self.planned_partitions

    @property
    def metadata_path(self) -> str:
        """The topic's metadata file."""
        return metadata_path(self.vhost_dir, self.name)

    # -- configs -------------------------------------------------------------

    def config(self, key: str) -> str:
        """The effective value of topic config C{key} in Kafka's string form.

        @raise KafkaError: C{INVALID_CONFIG} for a config this broker does not know.
        """
        try:
            return topic_configs.effective_value(key, self.configs, self._runtime.config)
        except KeyError:
            raise KafkaError(ErrorCode.INVALID_CONFIG, f"Unknown topic config name: {key}") from None

    def config_source(self, key: str) -> str:
        """C{"topic"} if the topic overrides C{key}, else C{"default"}."""
        return "topic" if key in self.configs else "default"

    def set_configs(self, configs: Mapping[str, str | None]) -> None:
        """Set (or, with C{None}, delete) config overrides; persisted, effective at once.

        @raise KafkaError: C{INVALID_CONFIG} (nothing is changed).
        """
        updated = dict(self.configs)
        for key, value in configs.items():
            if value is None:
                if key not in topic_configs.TOPIC_CONFIGS:
                    raise KafkaError(ErrorCode.INVALID_CONFIG, f"Unknown topic config name: {key}")
                updated.pop(key, None)
            else:
                updated[key] = topic_configs.normalise(key, value)
        topic_configs.check_combination(updated, self._runtime.config)
        previous = self.configs
        self.configs = updated
        try:
            self.save()
        except OSError as e:
            self.configs = previous
            raise KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, f"cannot save topic configs: {e}") from None
        self.settings = TopicSettings.of(updated, self._runtime.config)
        for partition in self.partitions:
            partition.apply_settings(self.settings)

    # -- files ---------------------------------------------------------------

    def save(self) -> None:
        """Write the metadata file (atomically; fsynced when the store fsyncs)."""
        metafile.write(
            self.metadata_path,
            TOPIC_KIND,
            {
                "name": self.name,
                "topic_id": str(uuid.UUID(bytes=self.topic_id)),
                "partitions": self.num_partitions,
                "configs": self.configs,
            },
            durable=self._runtime.durable,
        )

    def open_partition(self, index: int, clean: bool) -> PartitionLog:
        """Open (or create) partition C{index} and add it to L{partitions}."""
        directory = partition_dir(self.vhost_dir, self.name, index)
        fresh = not os.path.isdir(directory)
        partition = PartitionLog(self, index, directory, self._runtime, self.settings, clean=clean)
        if fresh:
            self._runtime.commit.dirty_paths.add(directory)
        self.partitions.append(partition)
        return partition

    def add_partitions(self, total: int, validate_only: bool = False) -> None:
        """Grow the topic to C{total} partitions (with C{validate_only}: only check it could).

        The new partitions must fit the open-file budget
        (L{twisted_kafka.store.descriptors}).  All or nothing: when one
        cannot be made, the ones made are closed and their directories
        removed, and the topic keeps its count, also after a restart.

        @raise KafkaError: C{INVALID_PARTITIONS} unless C{total} is larger
            than the current count; C{POLICY_VIOLATION} when the partitions
            would not fit the open-file budget; C{KAFKA_STORAGE_ERROR} on
            I/O errors.
        """
        current = len(self.partitions)
        if total <= current:
            raise KafkaError(
                ErrorCode.INVALID_PARTITIONS,
                f"Topic currently has {current} partitions, which is higher than or equal to the requested {total}.",
            )
        self._runtime.admit_partitions(total - current)
        if validate_only:
            return
        try:
            for index in range(current, total):
                remove_path(partition_dir(self.vhost_dir, self.name, index))
                self.open_partition(index, clean=True)
            self.save()
        except OSError as e:
            for partition in self.partitions[current:]:
                partition.release()
            del self.partitions[current:]
            self.remove_partition_dirs(range(current, total))
            try:
                self.save()  # in case the new count was written but not made durable
            except OSError:
                pass
            raise KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, f"cannot add partitions: {e}") from None

    def remove_partition_dirs(self, indexes: Iterable[int]) -> None:
        """Remove the directories of partitions C{indexes}, made by a create that failed.

        One that cannot be removed now (the error is logged) belongs to no
        topic at the next start-up, which removes it.
        """
        for index in indexes:
            path = partition_dir(self.vhost_dir, self.name, index)
            try:
                _remove_files_and_dir(path)
            except OSError as e:
                self._runtime.log.warn("Could not remove {path}: {error}", path=path, error=e)

    def release(self) -> None:
        """Close every partition's files (the topic is being deleted)."""
        for partition in self.partitions:
            partition.release()


def _remove_files_and_dir(path: str) -> None:
    """Remove directory C{path} and the files in it, using one descriptor at most.

    A create fails for want of descriptors (EMFILE) more often than for
    anything else; C{shutil.rmtree} needs two, listing a directory one.  A
    subdirectory (never made by a create) is left to L{remove_path}.
    """
    try:
        names = os.listdir(path)
    except FileNotFoundError:
        return
    try:
        for name in names:
            os.unlink(os.path.join(path, name))
        os.rmdir(path)
    except IsADirectoryError:
        remove_path(path)


def load_metadata(path: str) -> tuple[str, bytes, int, dict[str, str]]:
    """Read a topic metadata file: C{(name, topic_id, partitions, configs)}.

    @raise metafile.MetadataFileError: if it is unreadable.
    """
    content = metafile.read(path, TOPIC_KIND)
    if content is None:
        raise metafile.MetadataFileError(f"{path} is missing")
    try:
        name = content["name"]
        topic_id = uuid.UUID(content["topic_id"]).bytes
        partitions = int(content["partitions"])
        configs = {str(k): str(v) for k, v in content.get("configs", {}).items()}
    except (KeyError, ValueError, TypeError, AttributeError) as e:
        raise metafile.MetadataFileError(f"{path}: bad topic metadata ({e})") from None
    if not isinstance(name, str) or partitions < 1:
        raise metafile.MetadataFileError(f"{path}: bad topic metadata")
    return name, topic_id, partitions, configs
