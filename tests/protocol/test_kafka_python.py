# -*- test-case-name: tests.protocol.test_kafka_python -*-
"""Cross-check against an independent codec: kafka-python 3's.

Every request and response version that both codecs know is encoded by us
from a populated sample, decoded by kafka-python and re-encoded by it: the
bytes must come back identical.  This catches encoding mistakes our own
round trips cannot (a field written in the wrong form is read back in the
same wrong form by our decoder).
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from twisted.trial.unittest import SynchronousTestCase

from tests.protocol.samples import sample
from twisted_kafka.protocol import messages

try:
    from kafka.protocol.api_message import ApiMessage
except ImportError:  # pragma: no cover - kafka-python is a test dependency
    ApiMessage = None

#: kafka-python 3.0's DeleteTopicsRequest cannot re-encode a decoded message.
_KAFKA_PYTHON_BROKEN = {"DeleteTopicsRequest"}


def _kafka_python_classes() -> dict[tuple[int, str], Any]:
    """kafka-python's message classes by (api key, "request"/"response")."""
    classes: dict[tuple[int, str], Any] = {}
    for package in ("admin", "consumer", "metadata", "producer"):
        root = importlib.import_module(f"kafka.protocol.{package}")
        names = [root.__name__] + [
            m.name for m in pkgutil.walk_packages(root.__path__, root.__name__ + ".")
        ]
        for name in names:
            for value in vars(importlib.import_module(name)).values():
                if (
                    isinstance(value, type) and issubclass(value, ApiMessage)
                    and value is not ApiMessage and getattr(value, "_json", None)
                ):
                    classes[(value._json["apiKey"], value._json["type"])] = value
    return classes


class KafkaPythonCrossCheckTests(SynchronousTestCase):
    """kafka-python reads our bytes and writes them back unchanged."""

    if ApiMessage is None:
        skip = "kafka-python is not installed"

    def test_all_versions(self) -> None:
        """Requests and responses of every version both codecs know."""
        classes = _kafka_python_classes()
        checked = 0
        for table, kind in ((messages.SCHEMAS, "request"), (messages.RESPONSE_SCHEMAS, "response")):
            for api_key, message in table.items():
                cls = classes.get((api_key, kind))
                if cls is None or message.name in _KAFKA_PYTHON_BROKEN:
                    continue
                low, high = cls._valid_versions
                for version in range(max(low, message.versions.low), min(high, message.versions.high) + 1):
                    for nulls in (False, True):
                        value = sample(message, version, nulls=nulls)
                        if api_key == 18 and kind == "response":
                            value["error_code"] = 0  # kafka-python reads errors as v0
                        if kind == "request":
                            ours = messages.request_encoder(api_key, version)(value)
                        else:
                            ours = b"".join(messages.response_encoder(api_key, version)(value))
                        theirs = cls[version].decode(ours).encode()
                        self.assertEqual(theirs, ours, f"{message.name} v{version} nulls={nulls}")
                        checked += 1
        self.assertGreater(checked, 600)
