"""The rollout's sentence in a diagnosis' summary, and the summary without the changes it
names, for outputs that list those changes right below (each change said once)."""

from __future__ import annotations

from collections.abc import Sequence

#: How many of the rollout's changes the summary names (the rollout lists them all).
SUMMARY_CHANGES = 2


def rollout_sentence(revision: int, changes: Sequence[str]) -> str:
    """The sentence that ends a failing summary: Started with revision N (first changes)."""
    changed = f" ({'; '.join(changes[:SUMMARY_CHANGES])})" if changes else ""
    return f"Started with revision {revision}{changed}."


def summary_without_changes(summary: str, changes: Sequence[str]) -> str:
    """``summary`` without the changes its rollout sentence names (a summary written with
    another count, e.g. in a task status from an older version, is matched too)."""
    for most in (SUMMARY_CHANGES, len(changes), 1):
        shown = "; ".join(changes[:most])
        if shown and f" ({shown})" in summary:
            return summary.replace(f" ({shown})", "", 1)
    return summary
