# -*- test-case-name: tests.test_users -*-
"""C{python -m twisted_kafka.users}: manage the broker's users without a running broker.

Bootstraps the first user (usually an admin named in C{[security]
super_users}) and manages users and their vhosts afterwards.  It edits the
users file the broker reads at start-up (C{[security] users_file}, else
C{users.json} in the data directory); stop the broker first, or change
passwords of a running broker with AlterUserScramCredentials
(C{kafka-configs --alter --entity-type users}) instead.

Commands::

    add NAME [--vhost V]... [--password-stdin | --password PW]
    passwd NAME [--password-stdin | --password PW]
    grant NAME VHOST... [--default]
    revoke NAME VHOST
    delete NAME
    list

A password is read from the terminal when neither option is given; SCRAM
credentials for every mechanism are stored (C{--mechanism} picks fewer), with
C{--iterations} (default 4096).  Errors print one line and exit with status 1.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Sequence, TextIO

from twisted_kafka.config import ConfigError, load_config
from twisted_kafka.security.credentials import CredentialError, CredentialStore
from twisted_kafka.security.scram import MECHANISMS, MIN_ITERATIONS
from twisted_kafka.store.metafile import MetadataFileError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m twisted_kafka.users",
        description="Manage twisted-kafka users (SCRAM credentials and vhosts).")
    parser.add_argument("--config", help="the broker's configuration file")
    parser.add_argument("--data-dir", help="the broker's data directory (overrides the config)")
    commands = parser.add_subparsers(dest="command", required=True)

    def password_options(command: argparse.ArgumentParser) -> None:
        command.add_argument("--password", help="the password (visible to other local users)")
        command.add_argument("--password-stdin", action="store_true",
                             help="read the password from the first line of standard input")
        command.add_argument("--mechanism", action="append", choices=sorted(MECHANISMS),
                             help="store only this SCRAM mechanism's credential (repeatable)")
        command.add_argument("--iterations", type=int, default=MIN_ITERATIONS)

    add = commands.add_parser("add", help="add a user, or set its password")
    add.add_argument("name")
    add.add_argument("--vhost", action="append",
                     help="a vhost to grant (repeatable); the first is the default")
    password_options(add)
    passwd = commands.add_parser("passwd", help="set an existing user's password")
    passwd.add_argument("name")
    password_options(passwd)
    grant = commands.add_parser("grant", help="grant vhosts to a user")
    grant.add_argument("name")
    grant.add_argument("vhosts", nargs="+")
    grant.add_argument("--default", action="store_true",
                       help="make the first vhost given the user's default")
    revoke = commands.add_parser("revoke", help="take a vhost from a user")
    revoke.add_argument("name")
    revoke.add_argument("vhost")
    delete = commands.add_parser("delete", help="delete a user")
    delete.add_argument("name")
    commands.add_parser("list", help="list users, vhosts and mechanisms")
    return parser


def _password(args: argparse.Namespace, stdin: TextIO) -> str:
    if args.password is not None:
        password: str = args.password
        return password
    if args.password_stdin:
        return stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise CredentialError("the passwords do not match")
    return first


def run(argv: Sequence[str], stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> int:
    """Run one command; return the exit status (errors are one line on stderr)."""
    args = _parser().parse_args(list(argv))
    try:
        config = load_config(args.config, data_dir=args.data_dir)
        store = CredentialStore.in_directory(config.main.data_dir, config.security.users_file,
                                             durable=config.store.fsync)
        command = args.command
        if command in ("add", "passwd"):
            existing = store.user(args.name)
            if command == "passwd" and existing is None:
                raise CredentialError(f"no user {args.name!r}")
            vhosts = (args.vhost if command == "add" and args.vhost else
                      [existing.default_vhost] if existing else [config.kafka.default_vhost])
            mechanisms = tuple(MECHANISMS[m] for m in (args.mechanism or sorted(MECHANISMS)))
            user = store.set_password(args.name, _password(args, stdin), vhosts[0],
                                      mechanisms, args.iterations)
            if len(vhosts) > 1:
                user = store.grant(args.name, tuple(vhosts[1:]))
            print(f"{user.name}: {', '.join(sorted(user.scram))}; vhosts "
                  f"{', '.join(user.vhosts)} (default {user.default_vhost}) in {store.path}",
                  file=stdout)
        elif command == "grant":
            user = store.grant(args.name, tuple(args.vhosts),
                               args.vhosts[0] if args.default else None)
            print(f"{user.name}: vhosts {', '.join(user.vhosts)} (default {user.default_vhost})",
                  file=stdout)
        elif command == "revoke":
            user = store.revoke(args.name, args.vhost)
            print(f"{user.name}: vhosts {', '.join(user.vhosts)} (default {user.default_vhost})",
                  file=stdout)
        elif command == "delete":
            store.delete_user(args.name)
            print(f"{args.name}: deleted", file=stdout)
        else:
            for user in store.users():
                print(f"{user.name}\tdefault={user.default_vhost}\tvhosts={','.join(user.vhosts)}"
                      f"\t{','.join(f'{m}:{c.iterations}' for m, c in sorted(user.scram.items()))}",
                      file=stdout)
    except (ConfigError, CredentialError, MetadataFileError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
