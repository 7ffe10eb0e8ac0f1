# -*- test-case-name: tests.store.test_interfaces -*-
"""The disk store provides the interfaces of L{twisted_kafka.store.interfaces}.

mypy checks the signatures (the assignments to interface-typed names below
fail type checking if they drift); these tests check at run time that every
member an interface names exists on the disk store's objects.
"""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from tests.store.helpers import StoreTestMixin, make_batch
from twisted_kafka.store.interfaces import (
    Appended,
    IOffsetsJournal,
    IPartitionLog,
    IStore,
    ITopic,
    IVhost,
)


def _members(interface: type) -> set[str]:
    """The public names an interface declares (its own and inherited ones)."""
    names: set[str] = set()
    for cls in interface.__mro__:
        if cls is object or cls.__module__ != IStore.__module__:
            continue
        names.update(name for name in vars(cls) if not name.startswith("_"))
    return names


class DiskStoreProvidesInterfacesTests(StoreTestMixin, SynchronousTestCase):
    """The store service, vhost, topic and partition provide their interfaces."""

    def setUp(self) -> None:
        """Open a store with one topic of two partitions."""
        super().setUp()
        self.store: IStore = self.open_store()
        self.vhost: IVhost = self.store.vhost("/")
        self.topic: ITopic = self.vhost.create_topic("t", 2)
        self.partition_log: IPartitionLog = self.topic.partitions[0]
        self.journal: IOffsetsJournal = self.topic.partitions[1]

    def assertProvides(self, obj: object, interface: type) -> None:
        """Every member C{interface} declares is an attribute of C{obj}."""
        members = _members(interface)
        self.assertTrue(members, f"{interface.__name__} declares nothing")
        missing = sorted(name for name in members if not hasattr(obj, name))
        self.assertEqual(missing, [], f"{obj!r} lacks {interface.__name__} members")

    def test_store(self) -> None:
        """The store service provides L{IStore}."""
        self.assertProvides(self.store, IStore)

    def test_vhost(self) -> None:
        """A vhost provides L{IVhost}."""
        self.assertProvides(self.vhost, IVhost)

    def test_topic(self) -> None:
        """A topic provides L{ITopic}."""
        self.assertProvides(self.topic, ITopic)

    def test_partition(self) -> None:
        """A partition provides L{IPartitionLog}, and so L{IOffsetsJournal}."""
        self.assertProvides(self.partition_log, IPartitionLog)
        self.assertProvides(self.journal, IOffsetsJournal)
        self.assertLess(_members(IOffsetsJournal), _members(IPartitionLog))

    def test_append_reports_appended(self) -> None:
        """An append answers an L{Appended}: base offset, and -1 under CreateTime."""
        self.assertEqual(self.partition_log.append(make_batch(2)), Appended(0, -1))
        self.assertEqual(self.partition_log.append(memoryview(make_batch(1))), Appended(2, -1))
