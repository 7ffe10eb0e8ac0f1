# -*- test-case-name: tests.e2e.test_metadata -*-
"""One broker process shared by all the tests of a class.

trial has no C{setUpClass}, and starting a broker per test costs about a
second, so tests that only read can share one: L{shared_broker} starts it on
first use, keyed by the test class, and an C{atexit} hook stops every shared
broker when the test run ends (also after a failure or an interrupt).
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from typing import Any

from tests.e2e.harness import BrokerProcess

_brokers: dict[str, tuple[BrokerProcess, str]] = {}


def shared_broker(key: str, **options: Any) -> BrokerProcess:
    """Return the running broker for C{key}, starting it with C{options} if needed."""
    entry = _brokers.get(key)
    if entry is not None and entry[0].process is not None and entry[0].process.poll() is None:
        return entry[0]
    directory = tempfile.mkdtemp(prefix="tk-shared-")
    broker = BrokerProcess(directory, **options)
    broker.start()
    _brokers[key] = (broker, directory)
    return broker


@atexit.register
def _stop_all() -> None:
    """Stop every shared broker and remove its directory."""
    for broker, directory in _brokers.values():
        try:
            broker.close()
        finally:
            shutil.rmtree(directory, ignore_errors=True)
    _brokers.clear()
