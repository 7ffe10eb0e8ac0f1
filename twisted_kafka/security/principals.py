# -*- test-case-name: tests.security.test_principals -*-
"""The principal of a TLS client certificate: Kafka's C{ssl.principal.mapping.rules}.

A connection on an SSL listener whose client sent a verified certificate
(C{[tls] client_auth}) is authorized as C{User:<name>}, where the name comes
from the certificate's subject distinguished name (RFC 4514 form, most
specific first: C{CN=alice,OU=eng,O=Example}) through the first rule that
matches it, as in Kafka:

- C{RULE:pattern/replacement/} replaces the whole matched name (C{$1} for a
  group; a trailing C{L} or C{U} lower- or upper-cases the result);
- C{DEFAULT} keeps the distinguished name as it is.

Rules are separated by commas or newlines.  A connection without a
certificate is C{User:ANONYMOUS}.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_RULE = re.compile(r"\s*(?:(DEFAULT)|RULE:((?:\\/|[^/])*)/((?:\\/|[^/])*)/([LU]?))\s*(?:,|\n|$)")


class MappingRuleError(Exception):
    """The rules cannot be parsed."""


@dataclass(frozen=True)
class MappingRule:
    """One rule: C{pattern is None} for C{DEFAULT}."""

    pattern: re.Pattern[str] | None
    replacement: str = ""
    case: str = ""

    def apply(self, name: str) -> str | None:
        """Return the mapped name, or C{None} when the rule does not match."""
        if self.pattern is None:
            return name
        if self.pattern.fullmatch(name) is None:
            return None
        mapped = self.pattern.sub(self.replacement, name, count=1)
        if self.case == "L":
            return mapped.lower()
        if self.case == "U":
            return mapped.upper()
        return mapped


def parse_rules(text: str) -> tuple[MappingRule, ...]:
    """Parse C{ssl.principal.mapping.rules} text.

    @raise MappingRuleError: text that is not a list of rules, or a bad pattern.
    """
    rules = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        match = _RULE.match(text, pos)
        if match is None or match.end() == pos:
            raise MappingRuleError(f"not a rule at {text[pos:pos + 30]!r} "
                                   "(write RULE:pattern/replacement/[LU] or DEFAULT)")
        pos = match.end()
        if match.group(1):
            rules.append(MappingRule(None))
            continue
        pattern = match.group(2).replace("\\/", "/")
        replacement = re.sub(r"\$(\d)", r"\\\1", match.group(3).replace("\\/", "/"))
        try:
            compiled = re.compile(pattern)
        except re.error as e:
            raise MappingRuleError(f"bad pattern {pattern!r}: {e}") from None
        rules.append(MappingRule(compiled, replacement, match.group(4)))
    if not rules:
        raise MappingRuleError("no rule (use DEFAULT)")
    return tuple(rules)


def certificate_name(rules: tuple[MappingRule, ...], distinguished_name: str) -> str:
    """Return the principal name the first matching rule gives C{distinguished_name}.

    A name no rule matches is kept as it is (Kafka refuses the connection;
    here the name simply has no ACLs unless some are written for it).
    """
    for rule in rules:
        mapped = rule.apply(distinguished_name)
        if mapped is not None:
            return mapped
    return distinguished_name
