# -*- test-case-name: tests.test_docs -*-
"""The protocol support matrix in docs/protocol-support.md agrees with what is served.

The matrix is written by hand (with notes a registry cannot give); these
tests fail when an API is added, removed or changes versions in the
responder registry without the matrix following.
"""

from __future__ import annotations

import os
import re

from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.apis import build_registry

MATRIX = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                      "docs", "protocol-support.md")

#: A matrix row: C{| Name | key | min-max | notes |} (or a single version).
_ROW = re.compile(r"^\|\s*([A-Za-z]+)\s*\|\s*(\d+)\s*\|\s*(\d+)(?:\s*-\s*(\d+))?\s*\|", re.M)


def matrix_rows(text: str) -> list[tuple[str, int, int, int]]:
    """Return C{(name, api key, min version, max version)} for each matrix row in C{text}."""
    return [(name, int(key), int(low), int(high or low))
            for name, key, low, high in _ROW.findall(text)]


def read_matrix() -> list[tuple[str, int, int, int]]:
    """Return the rows of docs/protocol-support.md."""
    with open(MATRIX, encoding="utf-8") as f:
        return matrix_rows(f.read())


class MatrixParsingTests(SynchronousTestCase):
    """L{matrix_rows} reads the rows it should and nothing else."""

    def test_rows(self) -> None:
        """Version ranges and single versions are read; headers and prose are not."""
        text = ("| API | key | versions | notes |\n| --- | --- | --- | --- |\n"
                "| Produce | 0 | 0-13 | x |\n| Heartbeat | 12 | 4 | y |\nSome | 1 | 2 | text\n")
        self.assertEqual(matrix_rows(text), [("Produce", 0, 0, 13), ("Heartbeat", 12, 4, 4)])


class ProtocolSupportMatrixTests(SynchronousTestCase):
    """docs/protocol-support.md lists exactly the registry's APIs and versions."""

    def setUp(self) -> None:
        """Set up what each test here uses."""
        self.rows = read_matrix()
        self.served = {api.api_key: api for api in build_registry().served()}

    def test_served_apis_listed(self) -> None:
        """Every served API has a row with its name and advertised versions."""
        documented = {key: (name, low, high) for name, key, low, high in self.rows}
        for key, api in self.served.items():
            self.assertIn(key, documented, f"{api.name} (key {key}) is served but not in "
                                           f"docs/protocol-support.md")
            self.assertEqual(documented[key], (api.name, api.min_version, api.max_version),
                             f"docs/protocol-support.md disagrees with the registry on "
                             f"{api.name} (key {key})")

    def test_no_unserved_apis(self) -> None:
        """No row names an API the broker does not serve."""
        extra = [(name, key) for name, key, _, _ in self.rows if key not in self.served]
        self.assertEqual(extra, [], "listed in docs/protocol-support.md but not served")

    def test_one_row_per_api(self) -> None:
        """Each API key has one row."""
        keys = [key for _, key, _, _ in self.rows]
        self.assertEqual(len(keys), len(set(keys)))
