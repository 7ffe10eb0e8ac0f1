# -*- test-case-name: tests.security.test_principals -*-
"""Tests for L{twisted_kafka.security.principals}."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from twisted_kafka.security.principals import MappingRuleError, certificate_name, parse_rules

DN = "CN=Alice,OU=Eng,O=Example,C=SE"


class MappingRuleTests(SynchronousTestCase):
    """Kafka's rule syntax, applied in order."""

    def test_default(self) -> None:
        """DEFAULT keeps the distinguished name."""
        self.assertEqual(certificate_name(parse_rules("DEFAULT"), DN), DN)

    def test_rule_with_group_and_case(self) -> None:
        """A matching rule's replacement with C{$1}, lower-cased by C{L}."""
        rules = parse_rules("RULE:^CN=(.*?),OU=Eng,.*$/$1/L, DEFAULT")
        self.assertEqual(certificate_name(rules, DN), "alice")
        self.assertEqual(certificate_name(rules, "CN=Bob,OU=Ops"), "CN=Bob,OU=Ops")

    def test_upper_and_escaped_slash(self) -> None:
        """C{U} upper-cases; C{\\/} is a slash in a pattern or replacement."""
        rules = parse_rules("RULE:^CN=([^,]*),.*$/x\\/$1/U")
        self.assertEqual(certificate_name(rules, DN), "X/ALICE")

    def test_newline_separated(self) -> None:
        """Rules may be one per line; the first match wins."""
        rules = parse_rules("RULE:^CN=(Alice),.*$/first/\nRULE:^CN=(.*?),.*$/$1/")
        self.assertEqual(certificate_name(rules, DN), "first")

    def test_bad_rules(self) -> None:
        """Text that is no rule, and a bad pattern, are refused."""
        for text in ("", "RULE:abc", "NOPE", "RULE:(/x/"):
            self.assertRaises(MappingRuleError, parse_rules, text)
