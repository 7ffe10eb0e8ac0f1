# -*- test-case-name: tests.e2e.test_kafkajs -*-
"""KafkaJS (Node.js) against the real broker: admin, idempotent produce, group consume.

KafkaJS is a pure-JavaScript client with its own protocol code, so it checks
compatibility beyond librdkafka and the Python clients.  `.ci/run` installs it
with npm into C{tests/e2e/kafkajs/node_modules}; without node or that install
the test skips, saying so.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

from twisted.trial.unittest import SkipTest, SynchronousTestCase

from tests.e2e.shared import shared_broker

KAFKAJS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "kafkajs")
NODE = shutil.which("node")


class KafkaJSTests(SynchronousTestCase):
    """KafkaJS creates a topic, produces idempotently and consumes in a group."""

    def setUp(self) -> None:
        """Skip without node or KafkaJS; use the shared broker."""
        if NODE is None:
            raise SkipTest("node is not installed")
        if not os.path.isdir(os.path.join(KAFKAJS_DIR, "node_modules", "kafkajs")):
            raise SkipTest("KafkaJS is not installed (npm install --prefix tests/e2e/kafkajs)")
        self.broker = shared_broker("kafkajs", kafka={"group_initial_rebalance_delay_ms": 0})

    def test_round_trip(self) -> None:
        """Every message KafkaJS produced is consumed back once by its group consumer."""
        result = subprocess.run([NODE, os.path.join(KAFKAJS_DIR, "roundtrip.js"),
                                 self.broker.bootstrap, "kafkajs-orders"],
                                capture_output=True, text=True, timeout=120)
        self.assertEqual(result.returncode, 0, result.stderr[-3000:])
        seen = json.loads(result.stdout.strip().splitlines()[-1])
        self.assertIn("kafkajs-orders", seen["topics"])
        self.assertEqual(len(seen["sent"]), 500)
        self.assertEqual(seen["received"], seen["sent"])
