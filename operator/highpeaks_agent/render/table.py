"""``diagnose -o table``: one line per failing workload, in kubectl's column style.

Columns ``NAMESPACE KIND NAME SEVERITY ROOT-CAUSE PODS AGE``, padded like kubectl's
tabwriter (three spaces between columns). ROOT-CAUSE names the failing workload behind a
crash's dependency after ``<-``. PODS is ``affected/total``; AGE is how long the
workload has existed, as ``kubectl get`` shows it, or ``<unknown>`` without a creation time.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from highpeaks_agent.engine.model import Diagnosis, ObjectRef
from highpeaks_agent.render.durations import human_duration
from highpeaks_agent.render.text import nothing_failing

COLUMNS = ("NAMESPACE", "KIND", "NAME", "SEVERITY", "ROOT-CAUSE", "PODS", "AGE")
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
    widths = [max(len(row[column]) for row in rows) for column in range(len(COLUMNS))]
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
