# -*- test-case-name: tests.security.test_credentials -*-
"""The users of the broker: SCRAM credentials and granted vhosts, on disk.

Every user has one stored credential per SCRAM mechanism it may use (salt,
iterations, stored key, server key: never the password), the vhosts it is
granted and its default vhost.  SASL/PLAIN checks a password against the
same credentials.  The store is one metadata file (C{users.json} in the data
directory unless the configuration names another), replaced atomically on
every change (L{twisted_kafka.store.metafile}), so a crash leaves the old or
the new set of users.

A login name picks a vhost as LavinMQ's do: C{vhost:user} logs C{user} into
C{vhost} (which it must be granted); a plain C{user} lands in its default
vhost.  A name that is itself a user is always that user.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass, field, replace
from typing import Any

from twisted_kafka.security.scram import (
    MAX_ITERATIONS, MECHANISMS, MIN_ITERATIONS, ScramCredential, ScramMechanism)
from twisted_kafka.store import metafile

#: The metadata file kind of the users file.
KIND = "users"
#: Its file name in the data directory.
USERS_FILE = "users.json"


class CredentialError(Exception):
    """A change the store refuses (bad name, iterations, unknown user)."""


@dataclass(frozen=True)
class User:
    """One user.

    @ivar scram: the stored credential per SCRAM mechanism name.
    @ivar vhosts: the vhosts the user may log into.
    @ivar default_vhost: where a login without C{vhost:} lands.
    """

    name: str
    default_vhost: str
    vhosts: tuple[str, ...]
    scram: dict[str, ScramCredential] = field(default_factory=dict)

    @property
    def principal(self) -> str:
        """The user's principal in ACLs (Kafka's C{User:name})."""
        return f"User:{self.name}"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _encode(user: User) -> dict[str, Any]:
    return {
        "default_vhost": user.default_vhost,
        "vhosts": list(user.vhosts),
        "scram": {name: {"salt": _b64(c.salt), "iterations": c.iterations,
                         "stored_key": _b64(c.stored_key), "server_key": _b64(c.server_key)}
                  for name, c in sorted(user.scram.items())},
    }


def _decode(name: str, content: dict[str, Any]) -> User:
    scram = {
        mechanism: ScramCredential(
            salt=base64.b64decode(c["salt"]), iterations=int(c["iterations"]),
            stored_key=base64.b64decode(c["stored_key"]),
            server_key=base64.b64decode(c["server_key"]))
        for mechanism, c in content.get("scram", {}).items() if mechanism in MECHANISMS
    }
    return User(name=name, default_vhost=str(content["default_vhost"]),
                vhosts=tuple(str(v) for v in content["vhosts"]), scram=scram)


def check_name(name: str) -> None:
    """Refuse a username this store cannot keep (empty, control characters, a colon).

    @raise CredentialError: naming the problem.
    """
    if not name:
        raise CredentialError("the username must not be empty")
    if ":" in name:
        raise CredentialError(f"username {name!r}: ':' separates a vhost from the user "
                              "in login names and cannot be part of a username")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        raise CredentialError(f"username {name!r} contains a control character")


def check_iterations(mechanism: ScramMechanism, iterations: int) -> None:
    """Refuse an iteration count outside Kafka's bounds (4096..16384)."""
    if not MIN_ITERATIONS <= iterations <= MAX_ITERATIONS:
        raise CredentialError(
            f"{mechanism.name} iterations {iterations} must be between "
            f"{MIN_ITERATIONS} and {MAX_ITERATIONS}")


class CredentialStore:
    """The users file: read at start-up, rewritten on every change.

    @ivar path: the users file.
    """

    def __init__(self, path: str, durable: bool = True) -> None:
        """Read C{path} if it exists.

        @param durable: fsync the file and its directory on each write.
        @raise metafile.MetadataFileError: the file exists but is not a users file.
        """
        self.path = path
        self._durable = durable
        self._users: dict[str, User] = {}
        content = metafile.read(path, KIND)
        if content is not None:
            for name, entry in content.get("users", {}).items():
                self._users[name] = _decode(name, entry)

    @classmethod
    def in_directory(cls, data_dir: str, path: str = "", durable: bool = True) -> CredentialStore:
        """Return the store at C{path}, or at C{users.json} in C{data_dir} when empty."""
        if not path:
            os.makedirs(data_dir, exist_ok=True)
            path = os.path.join(data_dir, USERS_FILE)
        return cls(path, durable)

    def _save(self) -> None:
        metafile.write(self.path, KIND,
                       {"users": {n: _encode(u) for n, u in sorted(self._users.items())}},
                       self._durable)

    # -- reading ----------------------------------------------------------------

    def users(self) -> list[User]:
        """Return every user, by name."""
        return [self._users[n] for n in sorted(self._users)]

    def user(self, name: str) -> User | None:
        """Return the user C{name}, or C{None}."""
        return self._users.get(name)

    def login(self, login_name: str) -> tuple[User, str] | None:
        """Return the user a login name means and the vhost it picks, or C{None}.

        C{None} when there is no such user or the user is not granted the
        vhost the name asks for.
        """
        user = self._users.get(login_name)
        if user is not None:
            return user, user.default_vhost
        vhost, sep, name = login_name.partition(":")
        if not sep:
            return None
        user = self._users.get(name)
        if user is None or vhost not in user.vhosts:
            return None
        return user, vhost

    def scram_credential(self, login_name: str, mechanism: str) -> ScramCredential | None:
        """Return the credential of the user C{login_name} means for C{mechanism}."""
        found = self.login(login_name)
        return found[0].scram.get(mechanism) if found is not None else None

    def password_matches(self, login_name: str, password: str) -> bool:
        """Return whether C{password} is the password of the user C{login_name} means.

        Checked against the user's SCRAM credentials (SASL/PLAIN).
        """
        found = self.login(login_name)
        if found is None or not found[0].scram:
            return False
        name, credential = sorted(found[0].scram.items())[0]
        return MECHANISMS[name].password_matches(credential, password)

    # -- changing ---------------------------------------------------------------

    def set_credential(self, name: str, mechanism: ScramMechanism,
                       credential: ScramCredential, vhost: str) -> User:
        """Store C{credential} for C{name}, creating the user in C{vhost} if new.

        An existing user keeps its vhosts and gets C{vhost} granted too.
        """
        check_name(name)
        check_iterations(mechanism, credential.iterations)
        user = self._users.get(name)
        if user is None:
            user = User(name=name, default_vhost=vhost, vhosts=(vhost,))
        elif vhost not in user.vhosts:
            user = replace(user, vhosts=user.vhosts + (vhost,))
        user = replace(user, scram={**user.scram, mechanism.name: credential})
        self._users[name] = user
        self._save()
        return user

    def set_password(self, name: str, password: str, vhost: str,
                     mechanisms: tuple[ScramMechanism, ...] = tuple(MECHANISMS.values()),
                     iterations: int = MIN_ITERATIONS) -> User:
        """Store fresh credentials of C{password} for every one of C{mechanisms}."""
        if not password:
            raise CredentialError("the password must not be empty")
        user: User | None = None
        for mechanism in mechanisms:
            check_iterations(mechanism, iterations)
            user = self.set_credential(name, mechanism,
                                       mechanism.new_credential(password, iterations), vhost)
        assert user is not None, "no mechanism given"
        return user

    def delete_credential(self, name: str, mechanism: ScramMechanism) -> None:
        """Remove C{name}'s credential for C{mechanism}; the last one removes the user.

        @raise CredentialError: there is no such credential.
        """
        user = self._users.get(name)
        if user is None or mechanism.name not in user.scram:
            raise CredentialError(f"user {name!r} has no {mechanism.name} credential")
        scram = {k: v for k, v in user.scram.items() if k != mechanism.name}
        if scram:
            self._users[name] = replace(user, scram=scram)
        else:
            del self._users[name]
        self._save()

    def delete_user(self, name: str) -> None:
        """Remove user C{name}.

        @raise CredentialError: there is no such user.
        """
        if self._users.pop(name, None) is None:
            raise CredentialError(f"no user {name!r}")
        self._save()

    def grant(self, name: str, vhosts: tuple[str, ...], default_vhost: str | None = None) -> User:
        """Grant C{name} C{vhosts} (added to those it has) and set its default vhost.

        @raise CredentialError: no such user, or a default it is not granted.
        """
        user = self._users.get(name)
        if user is None:
            raise CredentialError(f"no user {name!r}")
        granted = user.vhosts + tuple(v for v in vhosts if v not in user.vhosts)
        default = default_vhost or user.default_vhost
        if default not in granted:
            granted += (default,)
        user = replace(user, vhosts=granted, default_vhost=default)
        self._users[name] = user
        self._save()
        return user

    def revoke(self, name: str, vhost: str) -> User:
        """Take vhost C{vhost} from C{name}; its default vhost cannot be revoked.

        @raise CredentialError: no such user, or C{vhost} is its default.
        """
        user = self._users.get(name)
        if user is None:
            raise CredentialError(f"no user {name!r}")
        if vhost == user.default_vhost:
            raise CredentialError(f"{vhost!r} is the default vhost of {name!r}; "
                                  "set another default first")
        user = replace(user, vhosts=tuple(v for v in user.vhosts if v != vhost))
        self._users[name] = user
        self._save()
        return user
