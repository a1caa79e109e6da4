"""Plain-language answers built from the rules alone (when no flow answers)."""

from __future__ import annotations

from highpeaks_agent.engine.model import Diagnosis
from highpeaks_agent.render.delivery import note_part


def recommendations(diagnoses: list[Diagnosis], limit: int = 5) -> list[str]:
    """The findings' suggestions, root causes first, each once; for a workload that Argo CD or
    Flux applied, the step that undoes its change comes first (a Helm release's, after the
    root cause's)."""
    seen: dict[str, None] = {}
    for diagnosis in diagnoses:
        delivery = diagnosis.rollout.delivery if diagnosis.rollout else None
        step = delivery.next_step if delivery is not None and diagnosis.findings else ""
        if step and delivery is not None and delivery.gitops:
            seen.setdefault(step, None)
        for finding in diagnosis.findings:
            if finding.suggestion:
                seen.setdefault(finding.suggestion, None)
        if step:
            seen.setdefault(step, None)
    return list(seen)[:limit]


def target_answer(diagnosis: Diagnosis) -> str:
    """One target: its summary, the root cause and the first thing to do."""
    if not diagnosis.findings:
        return diagnosis.summary
    root = diagnosis.findings[0]
    parts = [diagnosis.summary]
    # each fact once: the summary already names the root finding and the first changes
    if root.title in diagnosis.summary:
        parts.append(f"Most likely cause ({root.code}).")
    else:
        parts.append(f"Most likely cause ({root.code}): {root.title}.")
    changes = diagnosis.rollout.changes[:5] if diagnosis.rollout else []
    unsaid = [c for c in changes if c not in diagnosis.summary]
    if unsaid and diagnosis.rollout is not None:
        also = " also" if len(unsaid) < len(changes) else ""
        parts.append(f"Revision {diagnosis.rollout.revision}{also} changed: {'; '.join(unsaid)}.")
    if diagnosis.rollout and diagnosis.rollout.delivery:
        parts.append(note_part(diagnosis.rollout.delivery))
    if root.suggestion:
        parts.append(f"Next step: {root.suggestion}")
    return " ".join(parts)


def namespace_answer(namespace: str, diagnoses: list[Diagnosis], pods: int) -> str:
    """A namespace: what is failing, worst first, or that nothing is."""
    failing = [d for d in diagnoses if d.findings]
    if not failing:
        return (
            f"Nothing is failing in namespace {namespace}: "
            f"{pods} pod{'s' if pods != 1 else ''} checked, no failing workloads."
        )
    lines = [
        f"{len(failing)} workload{'s are' if len(failing) != 1 else ' is'} failing "
        f"in namespace {namespace}:"
    ]
    for diagnosis in failing[:10]:
        target = diagnosis.target
        lines.append(
            f"- {target.kind} {target.name} [{diagnosis.severity.value}] "
            f"{diagnosis.root_cause}: {diagnosis.summary}"
        )
    if len(failing) > 10:
        lines.append(f"… and {len(failing) - 10} more.")
    return "\n".join(lines)
