# -*- test-case-name: tests.store.test_cleaner -*-
"""The rename protocol by which cleaned segments replace the ones they were made from.

The log cleaner writes the cleaned copy of a group of consecutive sealed
segments C{[base, end)} beside them, then replaces them in steps that a crash
can interrupt anywhere (Kafka's C{.cleaned} and C{.swap} suffixes):

    1. C{<base>.log.cleaned} is written and fsynced. A crash now: start-up
       removes it; the old segments are untouched.
    2. It is renamed C{<base>-<end>.swap} and the directory fsynced: the
       commit point. From here start-up completes the swap.
    3. The old segments with a base in C{(base, end)} are removed, and the
       index files of C{<base>}; C{<base>-<end>.swap} is renamed over
       C{<base>.log}. Start-up redoes whatever of this a crash left undone
       (L{install} may run any number of times).

A cleaned segment keeps the last batch of its group (if need be, empty), so
it ends exactly where the group ended and the next segment begins.
"""

from __future__ import annotations

import os
import re

from twisted.logger import Logger

from twisted_kafka.store.segment_file import INDEX_SUFFIX, LOG_SUFFIX, TIME_INDEX_SUFFIX, segment_name

log = Logger()

CLEANED_SUFFIX = LOG_SUFFIX + ".cleaned"
SWAP_SUFFIX = ".swap"

_SWAP_NAME = re.compile(r"(\d{20})-(\d{20})\.swap")
_LOG_NAME = re.compile(r"(\d{20})\.log")


def cleaned_path(directory: str, base: int) -> str:
    """Where the cleaned copy of the group starting at C{base} is written (step 1)."""
    return os.path.join(directory, segment_name(base) + CLEANED_SUFFIX)


def swap_path(directory: str, base: int, end: int) -> str:
    """The committed cleaned copy of the segments C{[base, end)} (step 2)."""
    return os.path.join(directory, f"{segment_name(base)}-{segment_name(end)}{SWAP_SUFFIX}")


def install(directory: str, base: int, end: int) -> list[str]:
    """Step 3: remove the replaced segments' files and rename the swap file to C{<base>.log}.

    @return: the C{.log} files removed (besides C{<base>.log}, which is replaced).
    @raise OSError: a file could not be removed or renamed (start-up retries).
    """
    removed = []
    for name in sorted(os.listdir(directory)):
        match = _LOG_NAME.fullmatch(name)
        if match is None or not base < int(match.group(1)) < end:
            continue
        stem = os.path.join(directory, match.group(1))
        _unlink(stem + LOG_SUFFIX)  # the log first: leftover indexes without a log are removed at start-up
        _unlink(stem + INDEX_SUFFIX)
        _unlink(stem + TIME_INDEX_SUFFIX)
        removed.append(stem + LOG_SUFFIX)
    stem = os.path.join(directory, segment_name(base))
    _unlink(stem + INDEX_SUFFIX)
    _unlink(stem + TIME_INDEX_SUFFIX)
    os.replace(swap_path(directory, base, end), stem + LOG_SUFFIX)
    return removed


def finish_interrupted(directory: str) -> bool:
    """Start-up: drop unfinished cleaned copies, complete committed swaps.

    @return: whether anything was changed (the caller fsyncs the directory).
    """
    changed = False
    for name in sorted(os.listdir(directory)):
        path = os.path.join(directory, name)
        if name.endswith(CLEANED_SUFFIX):
            log.info("Removing unfinished cleaned segment {path}", path=path)
            _unlink(path)
            changed = True
            continue
        match = _SWAP_NAME.fullmatch(name)
        if match is not None:
            base, end = int(match.group(1)), int(match.group(2))
            log.info("Completing the interrupted swap of cleaned segment {path}", path=path)
            install(directory, base, end)
            changed = True
    return changed


def _unlink(path: str) -> None:
    """Remove a file that may already be gone."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
