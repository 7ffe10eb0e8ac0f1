# -*- test-case-name: tests.store.test_kill -*-
"""A writer process killed with SIGKILL mid-stream, then recovery of its data directory."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time

from twisted.trial.unittest import SynchronousTestCase

import twisted_kafka

from .helpers import StoreTestMixin, as_stored, make_batch

#: The writer: appends batches as fast as it can with fsync on, printing
#: "<offset> <tag>" for every batch once store.sync() has covered it.
WRITER = r"""
import sys
from twisted.internet import reactor
from twisted_kafka.store.service import StreamStore, StoreConfig
from tests.store.helpers import make_batch

store = StreamStore(sys.argv[1], StoreConfig(fsync=True, segment_bytes=64 * 1024), reactor=reactor)
store.startService()
vhost = store.vhost("/")
log = (vhost.topic("t") or vhost.create_topic("t", 1)).partitions[0]
state = {"tag": 0}

def loop():
    pending = []
    for _ in range(8):
        tag = state["tag"]
        state["tag"] += 1
        pending.append((log.append(make_batch(3, tag=tag, value_size=300)).base_offset, tag))
    def acked(_):
        sys.stdout.write("".join("%d %d\n" % p for p in pending))
        sys.stdout.flush()
        reactor.callLater(0, loop)
    store.sync().addCallback(acked)

reactor.callWhenRunning(loop)
reactor.run()
"""

#: How many acknowledged batches to wait for before the kill.
ACKS_BEFORE_KILL = 400

#: Give up (fail) if the writer has not acknowledged enough by then.
STARTUP_TIMEOUT = 60.0


class KillRecoveryTests(StoreTestMixin, SynchronousTestCase):
    """kill -9 of a real writer process; every acknowledged batch survives."""

    def _run_and_kill(self) -> list[tuple[int, int]]:
        root = os.path.dirname(os.path.dirname(os.path.abspath(twisted_kafka.__file__)))
        env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, self.data_dir],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=root,
        )
        self.addCleanup(lambda: None if proc.poll() is not None else proc.kill())
        acked: list[tuple[int, int]] = []
        buffer = b""
        deadline = time.monotonic() + STARTUP_TIMEOUT
        assert proc.stdout is not None
        while len(acked) < ACKS_BEFORE_KILL:
            ready, _, _ = select.select([proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                self.fail("the writer acknowledged too little before the timeout")
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                self.fail(f"the writer died: {proc.stderr.read().decode() if proc.stderr else ''}")
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            acked.extend((int(a), int(b)) for a, b in (line.split() for line in lines))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        self.assertEqual(proc.returncode, -signal.SIGKILL)
        return acked

    def test_kill_mid_stream(self) -> None:
        """After SIGKILL the log reopens consistent, holding every acknowledged batch byte for byte."""
        acked = self._run_and_kill()
        store = self.open_store(segment_bytes=64 * 1024)
        self.assertTrue(store.recovered_unclean)
        log = self.partition(store)
        stored = self.read_all(log)  # every batch's CRC checked, offsets contiguous
        for offset, tag in acked:
            self.assertEqual(stored[offset], as_stored(make_batch(3, tag=tag, value_size=300), offset))
        self.assertGreaterEqual(log.high_watermark, acked[-1][0] + 3)
        self.assertEqual(sorted(stored), list(range(0, log.high_watermark, 3)))
        self.assertGreater(len(log.segments()), 1)
        self.assertEqual(log.append(make_batch(1)).base_offset, log.high_watermark - 1)
