"""The order people read failing workloads in: worst first, then by name as a person sorts.

Names are compared in natural order (``svc-2`` before ``svc-10``), the way ``ls -v`` and
most dashboards list them, so a numbered fleet reads in sequence.
"""

from __future__ import annotations

import re

from highpeaks_agent.engine.model import Diagnosis

_DIGITS = re.compile(r"(\d+)")


def natural_key(text: str) -> tuple[str | int, ...]:
    """``"svc-10"`` → ``("svc-", 10, "")``: runs of digits compare as numbers.

    ``re.split`` with a group alternates text and digits starting with text, so the same
    positions of two keys always hold the same type and the tuples compare safely.
    """
    return tuple(int(part) if index % 2 else part for index, part in enumerate(_DIGITS.split(text)))


def worst_first(diagnoses: list[Diagnosis]) -> list[Diagnosis]:
    """Worst severity first; then namespace and name in natural order; then kind."""
    return sorted(
        diagnoses,
        key=lambda d: (
            -d.severity.rank,
            natural_key(d.target.namespace or ""),
            natural_key(d.target.name),
            d.target.kind,
        ),
    )
