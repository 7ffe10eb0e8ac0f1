# -*- test-case-name: tests.testing.test_pytest_plugin -*-
"""Tests for L{twisted_kafka.testing.pytest_plugin}: small user suites run under pytest.

The plugin's behaviour is tested with pytest's own C{pytester}, in
user_suites/test_toolkit.py (not a package: trial does not import it); each
test here runs one of those under pytest and passes when it does, so that
trial's run of the whole suite includes them.  The installation checks
(entry point, import costs) are plain trial tests.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from importlib.metadata import entry_points

from twisted.trial.unittest import SynchronousTestCase

import twisted_kafka


#: The checkout (or installed) root holding twisted_kafka (and tests/).
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(twisted_kafka.__file__)))

#: The pytester suite these tests run.
SUITES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "user_suites")


class PluginTests(SynchronousTestCase):
    """The fixtures, as a user's pytest run sees them (user_suites/test_toolkit.py)."""

    def _pytester(self, name: str) -> None:
        """Run the pytester test C{name} of the suite; fail with pytest's output unless it passed."""
        basetemp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, basetemp, True)
        environment = {k: v for k, v in os.environ.items()
                       if k not in ("KAFKA_BOOTSTRAP_SERVERS", "PYTEST_ADDOPTS")}
        environment["PYTHONPATH"] = ROOT
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
             "--basetemp", os.path.join(basetemp, "t"), f"test_toolkit.py::{name}"],
            cwd=SUITES, env=environment, capture_output=True, text=True, timeout=300)
        output = result.stdout + result.stderr
        self.assertEqual(result.returncode, 0, output)
        self.assertIn("1 passed", output)

    def test_local_brokers(self) -> None:
        """Round trips with three clients, own brokers, topics removed, start errors, cleanup."""
        self._pytester("test_local_brokers")

    def test_external_broker(self) -> None:
        """KAFKA_BOOTSTRAP_SERVERS: the fixtures use that broker and start none."""
        self._pytester("test_external_broker")


class InstallTests(SynchronousTestCase):
    """How the plugin is installed, and what loading it costs."""

    def test_entry_point(self) -> None:
        """The package declares the plugin to pytest (reinstall if this fails)."""
        [plugin] = [e for e in entry_points(group="pytest11") if e.name == "twisted_kafka"]
        self.assertEqual(plugin.value, "twisted_kafka.testing.pytest_plugin")

    def test_import_costs(self) -> None:
        """Loading the plugin imports no Twisted; the toolkit never imports pytest."""
        check = textwrap.dedent("""
            import sys
            import twisted_kafka.testing.pytest_plugin
            assert not [m for m in sys.modules if m.startswith("twisted.")], "twisted"
            for name in list(sys.modules):
                if name.startswith(("pytest", "_pytest")):
                    del sys.modules[name]
            import twisted_kafka.testing.contexts, twisted_kafka.testing.inprocess
            assert "pytest" not in sys.modules and "_pytest" not in sys.modules, "pytest"
        """)
        result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True,
                                env={**os.environ, "PYTHONPATH": ROOT})
        self.assertEqual(result.returncode, 0, result.stderr)
