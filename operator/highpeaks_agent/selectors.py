"""Kubernetes label selector strings (``WATCH_NAMESPACE_SELECTOR``), parsed and checked.

Plain Python on purpose: settings validate the selector with it, so reading the settings (as
the offline ``diagnose`` command does) never loads Kopf or the Kubernetes client. The grammar
is the one ``kubectl get -l`` takes: ``k=v``, ``k==v``, ``k!=v``, ``k``, ``!k``,
``k in (a,b)`` and ``k notin (a,b)``, joined by commas.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Operator = Literal["=", "!=", "in", "notin", "exists", "!"]

_NAME = r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
_DNS_SUBDOMAIN = r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?"
_LABEL_KEY = re.compile(rf"^({_DNS_SUBDOMAIN}/)?{_NAME}$")
_LABEL_VALUE = re.compile(rf"^({_NAME})?$")
_SET_TERM = re.compile(r"^(?P<key>\S+)\s+(?P<operator>in|notin)\s*\((?P<values>[^()]*)\)$")
_SET_WORD = re.compile(r"^\S+\s+(in|notin)\b")


@dataclass(frozen=True, slots=True)
class Requirement:
    """One term of a selector: a label key, an operator and the values it compares with."""

    key: str
    operator: Operator
    values: frozenset[str] = frozenset()

    def matches(self, value: str | None) -> bool:
        """Whether a label with this value (``None``: no such label) meets the requirement."""
        if self.operator == "exists":
            return value is not None
        if self.operator == "!":
            return value is None
        if self.operator in ("=", "in"):
            return value in self.values
        return value not in self.values  # "!=" and "notin" also match a missing label


def parse_selector(selector: str) -> list[Requirement]:
    """The requirements of ``selector`` (none for an empty one).

    Raises ``ValueError`` naming the term, key or value that is not valid Kubernetes syntax.
    """
    requirements = [_parse_term(term) for term in _split_terms(selector) if term]
    for requirement in requirements:
        if not _LABEL_KEY.match(requirement.key):
            raise ValueError(f"invalid label key {requirement.key!r} in selector {selector!r}")
        for value in sorted(requirement.values):
            if not _LABEL_VALUE.match(value):
                raise ValueError(f"invalid label value {value!r} in selector {selector!r}")
    return requirements


def _split_terms(selector: str) -> list[str]:
    """Split on the commas that separate terms, not those inside ``in (a,b)``."""
    terms, current, depth = [], "", 0
    for char in selector:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            terms.append(current.strip())
            current = ""
        else:
            current += char
    terms.append(current.strip())
    return terms


def _parse_term(term: str) -> Requirement:
    if found := _SET_TERM.match(term):
        values = frozenset(v.strip() for v in found["values"].split(",") if v.strip())
        if not values:
            raise ValueError(f"label selector term {term!r} lists no values")
        operator: Operator = "in" if found["operator"] == "in" else "notin"
        return Requirement(found["key"], operator, values)
    if _SET_WORD.match(term):
        raise ValueError(f"cannot parse label selector term {term!r}: expected `key in (a,b)`")
    if "!=" in term:
        key, value = (part.strip() for part in term.split("!=", 1))
        return Requirement(key, "!=", frozenset({value}))
    if "=" in term:
        key, value = (part.strip() for part in term.replace("==", "=", 1).split("=", 1))
        return Requirement(key, "=", frozenset({value}))
    if term.startswith("!"):
        return Requirement(term[1:].strip(), "!")
    return Requirement(term, "exists")
