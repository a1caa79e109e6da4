"""Label selector strings: parsing, Kubernetes' matching rules, and errors that name the term."""

from __future__ import annotations

import re

import pytest

from highpeaks_agent.selectors import Requirement, parse_selector
from highpeaks_agent.settings import Settings


def test_every_operator_parses_into_one_requirement_per_term() -> None:
    parsed = parse_selector(
        "team=payments, tier==web, env in (prod, staging), zone notin (a),"
        " owner!=bob, watched, !legacy, example.com/team=x"
    )
    assert parsed == [
        Requirement("team", "=", frozenset({"payments"})),
        Requirement("tier", "=", frozenset({"web"})),
        Requirement("env", "in", frozenset({"prod", "staging"})),
        Requirement("zone", "notin", frozenset({"a"})),
        Requirement("owner", "!=", frozenset({"bob"})),
        Requirement("watched", "exists"),
        Requirement("legacy", "!"),
        Requirement("example.com/team", "=", frozenset({"x"})),
    ]


def test_empty_selector_has_no_requirements() -> None:
    assert parse_selector("") == []
    assert parse_selector(" ") == []


@pytest.mark.parametrize(
    ("term", "present", "absent", "other"),
    [
        # (selector term, label value that matches, does a missing label match, non-matching)
        ("k=v", "v", False, "w"),
        ("k!=v", "w", True, "v"),
        ("k in (a,b)", "b", False, "c"),
        ("k notin (a,b)", "c", True, "a"),
        ("k", "anything", False, None),
        ("!k", None, True, "anything"),
    ],
)
def test_matching_follows_kubernetes(
    term: str, present: str | None, absent: bool, other: str | None
) -> None:
    (requirement,) = parse_selector(term)
    assert requirement.matches(present)
    assert requirement.matches(None) is absent
    assert not requirement.matches(other)


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        ("bad key!=x", "invalid label key 'bad key'"),
        ("-team=x", "invalid label key '-team'"),
        ("a/b/c", "invalid label key 'a/b/c'"),
        ("team=pay ments", "invalid label value 'pay ments'"),
        ("team in (ok, not ok)", "invalid label value 'not ok'"),
        (f"team={'x' * 64}", "invalid label value"),
        ("env in prod", "cannot parse label selector term 'env in prod'"),
        ("env in (prod", "cannot parse label selector term 'env in (prod'"),
        ("env notin ()", "label selector term 'env notin ()' lists no values"),
        ("!", "invalid label key ''"),
    ],
)
def test_bad_selectors_name_the_offending_part(selector: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_selector(selector)


def test_settings_refuse_a_bad_selector() -> None:
    with pytest.raises(ValueError, match=r"watch_namespace_selector\s+Value error, cannot parse"):
        Settings.from_environ({"WATCH_NAMESPACE_SELECTOR": "env in prod"})
    good = Settings.from_environ({"WATCH_NAMESPACE_SELECTOR": "env in (prod,staging),!legacy"})
    assert good.watch_namespace_selector == "env in (prod,staging),!legacy"
