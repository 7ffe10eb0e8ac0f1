# -*- test-case-name: tests.security.test_acl_store -*-
"""The ACLs of every vhost, kept in one metadata file.

The file (C{acls.json} in the data directory unless C{[security]
acls_file} names another) maps each vhost to its ACLs; it is replaced
atomically on every change (L{twisted_kafka.store.metafile}), so a crash
keeps the old or the new ACLs, never a mix.  L{AclStore.vhost} returns the
live L{VhostAcls} of a vhost, which the authorizer of its connections reads.
"""

from __future__ import annotations

import os
from typing import Iterable

from twisted_kafka.security.acl import AclBinding, AclFilter, VhostAcls
from twisted_kafka.store import metafile

KIND = "acls"
ACLS_FILE = "acls.json"


class AclStore:
    """Every vhost's ACLs, read at start-up and rewritten on every change."""

    def __init__(self, path: str, durable: bool = True) -> None:
        """Read C{path} if it exists.

        @raise metafile.MetadataFileError: it exists but is not an ACL file.
        """
        self.path = path
        self._durable = durable
        self._vhosts: dict[str, VhostAcls] = {}
        content = metafile.read(path, KIND)
        if content is not None:
            try:
                for vhost, items in content.get("vhosts", {}).items():
                    acls = self.vhost(vhost)
                    for item in items:
                        acls.add(AclBinding.from_list(item))
            except (TypeError, ValueError) as e:
                raise metafile.MetadataFileError(f"bad ACL in {path}: {e}") from None

    @classmethod
    def in_directory(cls, data_dir: str, path: str = "", durable: bool = True) -> AclStore:
        """Return the store at C{path}, or at C{acls.json} in C{data_dir} when empty."""
        if not path:
            os.makedirs(data_dir, exist_ok=True)
            path = os.path.join(data_dir, ACLS_FILE)
        return cls(path, durable)

    def vhost(self, name: str) -> VhostAcls:
        """Return the (live) ACLs of vhost C{name}, empty at first."""
        acls = self._vhosts.get(name)
        if acls is None:
            acls = self._vhosts[name] = VhostAcls()
        return acls

    def _save(self) -> None:
        metafile.write(self.path, KIND, {"vhosts": {
            name: [acl.as_list() for acl in acls.bindings()]
            for name, acls in sorted(self._vhosts.items()) if len(acls)}}, self._durable)

    def create(self, vhost: str, acls: Iterable[AclBinding]) -> None:
        """Add C{acls} to C{vhost} (ACLs it has already are kept once)."""
        target = self.vhost(vhost)
        changed = False
        for acl in acls:
            changed = target.add(acl) or changed
        if changed:
            self._save()

    def describe(self, vhost: str, acl_filter: AclFilter) -> list[AclBinding]:
        """Return the ACLs of C{vhost} C{acl_filter} matches."""
        return [acl for acl in self.vhost(vhost).bindings() if acl_filter.matches(acl)]

    def delete(self, vhost: str, filters: list[AclFilter]) -> list[list[AclBinding]]:
        """Delete the ACLs each filter matches; return them, per filter."""
        acls = self.vhost(vhost)
        matched = [[acl for acl in acls.bindings() if f.matches(acl)] for f in filters]
        gone = {acl for found in matched for acl in found}
        for acl in gone:
            acls.remove(acl)
        if gone:
            self._save()
        return matched
