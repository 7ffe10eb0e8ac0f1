# -*- test-case-name: tests.test_layers -*-
"""The layering of docs/architecture.md, checked on every module's imports."""

from __future__ import annotations

import ast
import os

from twisted.trial.unittest import SynchronousTestCase

import twisted_kafka

PACKAGE = os.path.dirname(twisted_kafka.__file__)

#: The store modules the layers above may import: its interfaces and its rules
#: (names, topic configs, the [store] section, header constants, the counters
#: it keeps for metrics), never the concrete stream-queue classes.
STORE_SEAM = {
    "twisted_kafka.store.stats",
    "twisted_kafka.store.interfaces",
    "twisted_kafka.store.topic_names",
    "twisted_kafka.store.topic_configs",
    "twisted_kafka.store.config",
    "twisted_kafka.store.batch_header",
}

#: For each layer: the top-level parts of twisted_kafka it may import.
ALLOWED = {
    "protocol": {"protocol"},
    "records": {"records", "protocol", "errors"},
    "store": {"store", "records", "protocol", "errors"},
    "groups": {"groups", "store", "records", "protocol", "errors", "config"},
    "apis": {"apis", "server", "store", "groups", "records", "protocol", "errors",
             "broker", "config", "security"},
    "server": {"server", "store", "protocol", "errors", "broker", "config"},
    # Authentication and authorization rules: the mechanisms, the users and
    # ACL files (written as the store writes its metadata files), the ACL
    # authorizer implementing server/'s hook; server/ never imports them.
    "security": {"security", "server", "store", "protocol", "errors"},
    # The test toolkit is a client of the broker: it speaks the protocol,
    # builds records, and starts the service tap.py builds.
    "testing": {"testing", "protocol", "records", "errors", "config", "server", "tap"},
    # Metrics, health checks, the JSON API and the UI look at the whole
    # broker (through the store's seam) and are built by tap.py; nothing
    # below imports them.
    "observability": {"observability", "server", "apis", "store", "groups", "records",
                      "protocol", "errors", "broker", "config"},
}

#: Imports a layer's rule does not cover, each with its reason: the fork
#: server pre-imports the whole broker so that forked brokers start warm
#: (it touches nothing in them).
EXCEPTIONS = {
    os.path.join("testing", "forkserver.py"): {
        "twisted_kafka.apis", "twisted_kafka.broker", "twisted_kafka.store.service"},
}


def imports_of(path: str) -> set[str]:
    """Every twisted_kafka module the file at C{path} imports (also under TYPE_CHECKING)."""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("twisted_kafka"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.startswith("twisted_kafka"):
                found.add(node.module)
                found.update(f"{node.module}.{a.name}" for a in node.names)
    return found


def layer_modules(layer: str) -> dict[str, set[str]]:
    """Map each file of C{layer} to what it imports."""
    out = {}
    for root, _, files in os.walk(os.path.join(PACKAGE, layer)):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(root, name)
                out[os.path.relpath(path, PACKAGE)] = imports_of(path)
    return out


class LayerTests(SynchronousTestCase):
    """Dependencies point down the drawing in docs/architecture.md."""

    def test_allowed_layers(self) -> None:
        """Each layer imports only the layers below it."""
        wrong = []
        for layer, allowed in ALLOWED.items():
            for path, imported in layer_modules(layer).items():
                for module in imported - EXCEPTIONS.get(path, set()):
                    parts = module.split(".")
                    if len(parts) > 1 and parts[1] not in allowed:
                        wrong.append(f"{path} imports {module}")
        self.assertEqual(sorted(wrong), [])

    def test_store_reached_through_its_seam(self) -> None:
        """apis/, groups/ and server/ use the store's interfaces and rules, never its concrete classes."""
        wrong = []
        for layer in ("apis", "groups", "server", "observability"):
            for path, imported in layer_modules(layer).items():
                for module in imported:
                    if module.startswith("twisted_kafka.store.") and not any(
                            module == seam or module.startswith(seam + ".") for seam in STORE_SEAM):
                        if module.rsplit(".", 1)[0] in STORE_SEAM:
                            continue  # a name imported from a seam module
                        wrong.append(f"{path} imports {module}")
        self.assertEqual(wrong, [])

    def test_nothing_imports_the_toolkit(self) -> None:
        """No broker module imports twisted_kafka.testing: the toolkit sits on top."""
        wrong = []
        for root, _, files in os.walk(PACKAGE):
            if os.path.relpath(root, PACKAGE).split(os.sep)[0] == "testing":
                continue
            for name in files:
                if name.endswith(".py"):
                    path = os.path.join(root, name)
                    if any(m.startswith("twisted_kafka.testing") for m in imports_of(path)):
                        wrong.append(os.path.relpath(path, PACKAGE))
        self.assertEqual(wrong, [])

    def test_nothing_imports_observability(self) -> None:
        """Only tap.py (which builds the HTTP listener) imports twisted_kafka.observability."""
        wrong = []
        for root, _, files in os.walk(PACKAGE):
            if os.path.relpath(root, PACKAGE).split(os.sep)[0] == "observability":
                continue
            for name in files:
                path = os.path.join(root, name)
                if name.endswith(".py") and os.path.relpath(path, PACKAGE) != "tap.py":
                    if any(m.startswith("twisted_kafka.observability") for m in imports_of(path)):
                        wrong.append(os.path.relpath(path, PACKAGE))
        self.assertEqual(wrong, [])

    def test_checker_sees_imports(self) -> None:
        """The import scan finds module and from-imports (so the checks above can fail)."""
        imported = imports_of(os.path.join(PACKAGE, "apis", "produce.py"))
        self.assertIn("twisted_kafka.store.interfaces", imported)
        self.assertIn("twisted_kafka.store.interfaces.ITopic", imported)
