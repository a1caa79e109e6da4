"""Ordering and merging of findings: the most specific cause that explains the others first."""

from __future__ import annotations

from dataclasses import replace

from highpeaks_agent.engine.catalogue import CATALOGUE
from highpeaks_agent.engine.model import Finding, Severity


def rank(code: str) -> int:
    """Position of a code in the explanation order (unknown codes last)."""
    entry = CATALOGUE.get(code)
    return entry.rank if entry is not None else len(CATALOGUE)


def default_severity(code: str) -> Severity:
    """How bad a finding of this code is on its own (unknown codes are critical)."""
    entry = CATALOGUE.get(code)
    return entry.severity if entry is not None else Severity.CRITICAL


def merge(findings: list[Finding]) -> list[Finding]:
    """Fold findings of the same code and title across pods into one, listing every pod.

    Twenty pods failing the same way are one cause, not twenty findings.
    """
    merged: dict[tuple[str, str], Finding] = {}
    for finding in findings:
        key = (finding.code, finding.title)
        existing = merged.get(key)
        if existing is None:
            merged[key] = replace(
                finding, evidence=list(finding.evidence), objects=list(finding.objects)
            )
            continue
        existing.objects.extend(o for o in finding.objects if o not in existing.objects)
        for line in finding.evidence:
            if line not in existing.evidence and len(existing.evidence) < 6:
                existing.evidence.append(line)
    return order(list(merged.values()))


def order(findings: list[Finding]) -> list[Finding]:
    """Most specific root cause first; then worse severity; then more objects affected."""
    return sorted(findings, key=lambda f: (rank(f.code), -f.severity.rank, -len(f.objects)))
