"""The catalogue of finding codes: one row per code, and the README's table agrees with it."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

from highpeaks_agent.engine import catalogue
from highpeaks_agent.engine.catalogue import CATALOGUE
from highpeaks_agent.engine.findings import default_severity, rank
from highpeaks_agent.engine.model import Severity

README = Path(__file__).resolve().parents[3] / "README.md"


def readme_codes_by_family() -> dict[str, set[str]]:
    """The "### Finding codes" table: family → codes, with ``(`.Refinement`)`` expanded."""
    text = README.read_text(encoding="utf-8")
    section = text.split("### Finding codes", 1)[1].split("\n#", 1)[0]
    table: dict[str, set[str]] = defaultdict(set)
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 2 or cells[0] in ("family", "") or set(cells[0]) <= {"-"}:
            continue
        family, codes = cells
        base = ""
        for token in re.findall(r"`([^`]+)`", codes):
            if token.startswith("."):
                table[family].add(base + token)
            else:
                base = token
                table[family].add(token)
    return dict(table)


def test_readme_table_lists_every_code_under_its_family() -> None:
    catalogued: dict[str, set[str]] = defaultdict(set)
    for entry in CATALOGUE.values():
        catalogued[entry.family.value].add(entry.code)
    documented = readme_codes_by_family()
    assert documented, "README.md has no '### Finding codes' table"
    for family in sorted(set(documented) | set(catalogued)):
        only_readme = documented.get(family, set()) - catalogued.get(family, set())
        only_catalogue = catalogued.get(family, set()) - documented.get(family, set())
        assert not only_readme, f"{family}: in README.md but not the catalogue: {only_readme}"
        assert not only_catalogue, f"{family}: in the catalogue but not README.md: {only_catalogue}"


def test_every_code_constant_is_a_row_and_every_row_a_constant() -> None:
    constants = {
        value
        for name, value in vars(catalogue).items()
        if name.isupper() and isinstance(value, str)
    }
    assert constants == set(CATALOGUE)


def test_ranks_are_the_row_positions_so_no_code_appears_twice() -> None:
    assert [entry.rank for entry in CATALOGUE.values()] == list(range(len(CATALOGUE)))
    assert all(rank(code) == entry.rank for code, entry in CATALOGUE.items())


def test_every_row_says_what_it_means() -> None:
    assert all(entry.meaning.strip() for entry in CATALOGUE.values())


def test_a_refinement_belongs_to_its_prefix_family_and_comes_first() -> None:
    for code, entry in CATALOGUE.items():
        prefix, dot, _ = code.partition(".")
        if not dot:
            continue
        assert prefix in CATALOGUE, code
        assert CATALOGUE[prefix].family is entry.family, code
        assert rank(code) < rank(prefix), code


def test_a_cause_ranks_before_what_it_explains() -> None:
    explains = [
        ("ReadinessProbeFailing", "RolloutStalled"),
        ("LivenessProbeFailing", "CrashLoopBackOff"),
        ("OOMKilled", "CrashLoopBackOff"),
        ("InitContainerFailing", "CrashLoopBackOff"),
        ("ConfigError.SecretNotFound", "RolloutStalled"),
        ("ImagePullError.NotFound", "RolloutStalled"),
        ("ReplicaCreateFailed.QuotaExceeded", "RolloutStalled"),
    ]
    for cause, effect in explains:
        assert rank(cause) < rank(effect), (cause, effect)


def test_only_readiness_and_eviction_are_warnings_on_their_own() -> None:
    warnings = {code for code in CATALOGUE if default_severity(code) is Severity.WARNING}
    assert warnings == {"ReadinessProbeFailing", "Evicted"}


def test_an_unknown_code_ranks_last_and_is_critical() -> None:
    assert rank("NotACode") == len(CATALOGUE)
    assert default_severity("NotACode") is Severity.CRITICAL
