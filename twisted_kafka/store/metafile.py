# -*- test-case-name: tests.store.test_metafile -*-
"""Small metadata files with a versioned header, replaced atomically.

Every metadata file the store writes (cluster, topic, checkpoints, producer
snapshots) is one header line C{twisted-kafka <kind> <version>\\n} followed by
a JSON document. A file is replaced by writing C{<name>.tmp}, fsyncing it,
renaming it over the old one and fsyncing the directory, so a reader sees the
old or the new content, never a mix.
"""

from __future__ import annotations

import json
import os
from typing import Any

MAGIC = "twisted-kafka"

#: Suffix of a file being written; leftovers are removed at start-up.
TEMP_SUFFIX = ".tmp"


class MetadataFileError(Exception):
    """A metadata file exists but is not one we can read."""


def fsync_dir(path: str) -> None:
    """Make the directory entries of C{path} (creations, renames, removals) durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def encode(kind: str, version: int, content: dict[str, Any]) -> bytes:
    """Serialise C{content} with its versioned header."""
    body = json.dumps(content, sort_keys=True, separators=(",", ":"))
    return f"{MAGIC} {kind} {version}\n{body}\n".encode()


def decode(data: bytes, kind: str, versions: tuple[int, ...] = (1,)) -> dict[str, Any]:
    """Parse what L{encode} wrote, checking the kind and the version.

    @raise MetadataFileError: for any other content.
    """
    line, sep, body = data.partition(b"\n")
    parts = line.split(b" ")
    if not sep or len(parts) != 3 or parts[0] != MAGIC.encode() or parts[1] != kind.encode():
        raise MetadataFileError(f"not a {kind} file")
    try:
        version = int(parts[2])
    except ValueError:
        raise MetadataFileError(f"bad {kind} file version {parts[2]!r}") from None
    if version not in versions:
        raise MetadataFileError(f"unsupported {kind} file version {version}")
    try:
        content = json.loads(body)
    except ValueError as e:
        raise MetadataFileError(f"bad {kind} file body: {e}") from None
    if not isinstance(content, dict):
        raise MetadataFileError(f"bad {kind} file body")
    return content


def write(path: str, kind: str, content: dict[str, Any], durable: bool, version: int = 1) -> None:
    """Atomically replace C{path} with C{content}.

    @param durable: fsync the file before the rename and the directory after
        it (skipped when the store runs with C{fsync = false}).
    """
    tmp = path + TEMP_SUFFIX
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
    try:
        os.write(fd, encode(kind, version, content))
        if durable:
            os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    if durable:
        fsync_dir(os.path.dirname(path) or ".")


def read(path: str, kind: str, versions: tuple[int, ...] = (1,)) -> dict[str, Any] | None:
    """Read a file written by L{write}; C{None} if it does not exist.

    @raise MetadataFileError: if it exists but cannot be parsed.
    """
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return None
    return decode(data, kind, versions)
