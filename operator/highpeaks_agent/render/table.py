"""``diagnose -o table``: one line per failing workload, in kubectl's column style.

Columns ``NAMESPACE KIND NAME SEVERITY ROOT-CAUSE PODS AGE``, padded like kubectl's
tabwriter (three spaces between columns). ROOT-CAUSE names the failing workload behind a
crash's dependency after ``<-``. PODS is ``affected/total``; AGE is how long the
workload has existed, as ``kubectl get`` shows it, or ``<unknown>`` without a creation time.
When some failing workload was applied by Argo CD, Flux or Helm a last column COMMIT names the
commit (or chart) that brought its failing revision, ``?`` when its source could not be read.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from highpeaks_agent.engine.model import Diagnosis, ObjectRef
from highpeaks_agent.render.delivery import table_cell
from highpeaks_agent.render.durations import human_duration
from highpeaks_agent.render.text import nothing_failing

COLUMNS = ("NAMESPACE", "KIND", "NAME", "SEVERITY", "ROOT-CAUSE", "PODS", "AGE")
COMMIT_COLUMN = "COMMIT"
_GAP = "   "


def render_table(
    diagnoses: list[Diagnosis],
    *,
    now: datetime,
    created: Mapping[ObjectRef, datetime],
    pods: int,
    namespaces: int,
) -> str:
    """The table, rows in the order given; as the text report says it when nothing fails."""
    failing = [d for d in diagnoses if d.findings]
    if not failing:
        return nothing_failing(diagnoses, pods=pods, namespaces=namespaces)
    rows = [COLUMNS, *(_row(d, now, created.get(d.target)) for d in failing)]
    commits = [table_cell(d.rollout.delivery if d.rollout else None) for d in failing]
    if any(commits):
        rows = [(*row, cell) for row, cell in zip(rows, [COMMIT_COLUMN, *commits], strict=True)]
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return "".join(
        _GAP.join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        + "\n"
        for row in rows
    )


def _row(diagnosis: Diagnosis, now: datetime, created: datetime | None) -> tuple[str, ...]:
    target = diagnosis.target
    return (
        target.namespace or "",
        target.kind,
        target.name,
        diagnosis.severity.value,
        _root_cause(diagnosis),
        f"{diagnosis.pods_affected}/{diagnosis.pods_total}",
        human_duration(now - created) if created is not None else "<unknown>",
    )


def _root_cause(diagnosis: Diagnosis) -> str:
    """The root cause's code; a crash caused by a failing workload behind a Service it uses
    names that workload, in one token: ``CrashLoopBackOff.DependencyUnreachable<-StatefulSet/db``."""
    dependency = diagnosis.findings[0].dependency if diagnosis.findings else None
    if dependency is None or dependency.workload is None or not dependency.workload_root_cause:
        return diagnosis.root_cause
    return f"{diagnosis.root_cause}<-{dependency.workload.kind}/{dependency.workload.name}"
