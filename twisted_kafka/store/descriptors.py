# -*- test-case-name: tests.store.test_descriptors -*-
"""The open-file budget: the descriptors the broker needs, against C{RLIMIT_NOFILE}.

What the broker keeps open:

  - one descriptor per partition, its active segment's C{.log} file (a
    segment's indexes are opened only while they are read or written);
  - at most C{[store] max_open_sealed_files} C{.log} files of sealed
    segments (L{twisted_kafka.store.open_files});
  - one per client connection, at most C{[kafka] max_connections};
  - a dozen or so of its own: standard input and output, the log file, the
    listening sockets, the reactor's poller and waker, and files open for a
    moment (an index or metadata file being written, a directory being
    fsynced, the log cleaner's input and output segments).

So the budget for C{P} partitions is::

    need(P) = P + max_open_sealed_files + FIXED_RESERVE + connection reserve

where the connection reserve is C{min(max_connections, CONNECTION_RESERVE)}
(C{CONNECTION_RESERVE} when C{max_connections} is 0, no limit).  Partitions
may take descriptors from connections down to that reserve, never below.

L{DescriptorBudget.start} runs before the store opens its partitions: it
raises the soft limit toward the hard one so that the stored partitions and
every allowed connection fit, and raises L{DescriptorLimitError} when even
the hard limit cannot hold C{need(P)}.  L{DescriptorBudget.admit} runs before
partitions are created (CreateTopics, CreatePartitions, auto-creation): it
raises the soft limit further when needed and refuses with
C{POLICY_VIOLATION} a create that would not fit under the hard limit.
"""

from __future__ import annotations

import resource
from typing import Protocol

from twisted_kafka.errors import ErrorCode, KafkaError

#: Descriptors kept for the broker's own files and sockets (see the module
#: docstring); a broker with no partition and no connection uses about a dozen.
FIXED_RESERVE = 64

#: Descriptors kept for client connections however many partitions exist
#: (fewer when C{max_connections} is lower).
CONNECTION_RESERVE = 256


class DescriptorLimitError(Exception):
    """The hard open-file limit cannot hold the stored partitions; C{str()} is one line."""


class FileLimit(Protocol):
    """A process's open-file limit (C{RLIMIT_NOFILE})."""

    def get(self) -> tuple[int, int]:
        """Return the soft and the hard limit (C{None}-free: unlimited is a large number)."""

    def set_soft(self, soft: int) -> None:
        """Set the soft limit (at most the hard one).

        @raise OSError: or L{ValueError}, when the system refuses it.
        """


#: What an unlimited C{RLIMIT_NOFILE} counts as (Linux never allows more
#: open files than C{fs.nr_open}, 1048576 by default).
UNLIMITED = 2**31 - 1


class ProcessFileLimit:
    """This process's C{RLIMIT_NOFILE}, through L{resource}."""

    def get(self) -> tuple[int, int]:
        """Return the soft and the hard limit; unlimited is L{UNLIMITED}."""
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        return _finite(soft), _finite(hard)

    def set_soft(self, soft: int) -> None:
        """Set the soft limit, keeping the hard one."""
        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def _finite(limit: int) -> int:
    return UNLIMITED if limit == resource.RLIM_INFINITY or limit < 0 else min(limit, UNLIMITED)


class DescriptorBudget:
    """The open-file budget of one store.

    @ivar sealed_files: C{[store] max_open_sealed_files}.
    @ivar max_connections: C{[kafka] max_connections} (0: no limit).
    @ivar limit: the process's open-file limit.
    """

    def __init__(self, sealed_files: int, max_connections: int, limit: FileLimit | None = None) -> None:
        self.sealed_files = sealed_files
        self.max_connections = max_connections
        self.limit: FileLimit = limit if limit is not None else ProcessFileLimit()

    @property
    def connection_reserve(self) -> int:
        """Descriptors partitions never take from connections."""
        if self.max_connections <= 0:
            return CONNECTION_RESERVE
        return min(self.max_connections, CONNECTION_RESERVE)

    @property
    def reserve(self) -> int:
        """Descriptors for everything but segment files: L{FIXED_RESERVE} and the connection reserve."""
        return FIXED_RESERVE + self.connection_reserve

    def need(self, partitions: int) -> int:
        """The descriptors C{partitions} partitions need, with the sealed files and the reserve."""
        return partitions + self.sealed_files + self.reserve

    def wanted(self, partitions: int) -> int:
        """The descriptors that also let every allowed connection open (L{UNLIMITED} without a limit)."""
        if self.max_connections <= 0:
            return UNLIMITED
        return max(self.need(partitions), partitions + self.sealed_files + FIXED_RESERVE + self.max_connections)

    def start(self, partitions: int) -> str | None:
        """Make room for the C{partitions} stored partitions before the store opens them.

        The soft limit is raised (toward the hard one) to L{wanted}.

        @return: a warning line when not every allowed connection fits, else C{None}.
        @raise DescriptorLimitError: when even the hard limit is below L{need}.
        """
        need = self.need(partitions)
        wanted = self.wanted(partitions)
        soft = self._raise_soft(wanted, wanted)
        if soft < need:
            raise DescriptorLimitError(
                f"{partitions} stored partition(s) need {need} open files "
                f"({self._need_parts(partitions)}), above the open-file limit of {soft} "
                f"(RLIMIT_NOFILE): raise it (ulimit -n, systemd LimitNOFILE=) "
                f"or lower max_open_sealed_files or [kafka] max_connections")
        if self.max_connections > 0:
            room = soft - (partitions + self.sealed_files + FIXED_RESERVE)
            if room < self.max_connections:
                return (f"the open-file limit of {soft} (RLIMIT_NOFILE) leaves room for about "
                        f"{room} of [kafka] max_connections = {self.max_connections} connections "
                        f"beside {partitions} partition(s) and {self.sealed_files} sealed segment files")
        return None

    def admit(self, partitions: int, more: int) -> None:
        """Make room for C{more} partitions beside the C{partitions} open ones, or refuse them.

        @raise KafkaError: C{POLICY_VIOLATION} when they would not fit under
            the hard limit (the soft one if it cannot be raised).
        """
        total = partitions + more
        need = self.need(total)
        soft = self._raise_soft(need, self.wanted(total))
        if soft < need:
            raise KafkaError(
                ErrorCode.POLICY_VIOLATION,
                f"Cannot add {more} partition(s): {total} partitions would need {need} open files "
                f"({self._need_parts(total)}), above the broker's open-file limit of {soft}.")

    def _need_parts(self, partitions: int) -> str:
        return (f"{partitions} active segments, {self.sealed_files} sealed segment files, "
                f"{self.connection_reserve} for connections, {FIXED_RESERVE} for the broker")

    def _raise_soft(self, below: int, target: int) -> int:
        """Raise the soft limit to C{target} (at most the hard limit) if it is below C{below}; return it."""
        soft, hard = self.limit.get()
        if soft >= below:
            return soft
        for value in (min(hard, target), min(hard, below)):
            try:
                self.limit.set_soft(value)
                break
            except (OSError, ValueError):
                continue
        return self.limit.get()[0]

