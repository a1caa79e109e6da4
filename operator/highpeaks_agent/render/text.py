"""The text output of ``diagnose``: one block per failing workload, root cause first.

Above ten failing workloads the report opens with how many fail for each root cause, so the
shape of a large outage is visible before its details.
"""

from __future__ import annotations

from collections import Counter

from highpeaks_agent.engine.model import Diagnosis, Finding, ProposedAction
from highpeaks_agent.engine.summary import summary_without_changes
from highpeaks_agent.render.delivery import text_lines

_COLORS = {"critical": "\033[1;31m", "warning": "\033[1;33m", "info": "\033[1;36m"}
_BOLD, _DIM, _RESET = "\033[1m", "\033[2m", "\033[0m"
#: More failing workloads than this and the report starts with counts per root cause.
COUNTS_ABOVE = 10


def plural(count: int, noun: str) -> str:
    """``1 pod``, ``2 pods``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


class _Painter:
    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, code: str, text: str) -> str:
        return f"{code}{text}{_RESET}" if self.color else text


def render_text(diagnoses: list[Diagnosis], *, pods: int, namespaces: int, color: bool) -> str:
    """A report for people, in the order given; ANSI colour only when ``color``."""
    paint = _Painter(color)
    failing = [d for d in diagnoses if d.findings]
    if not failing:
        return nothing_failing(diagnoses, pods=pods, namespaces=namespaces)
    header = f"{plural(len(failing), 'failing workload')} ({plural(pods, 'pod')} checked)\n\n"
    if len(failing) > COUNTS_ABOVE:
        header += _counts(failing) + "\n"
    return header + "\n\n".join(_block(d, paint) for d in failing) + "\n"


def nothing_failing(diagnoses: list[Diagnosis], *, pods: int, namespaces: int) -> str:
    """The report when nothing fails: a healthy target's own summary, else what was checked."""
    if diagnoses:  # one target was asked about, and it is healthy: say so in its own words
        return "".join(f"{d.summary}\n" for d in diagnoses)
    return (
        f"No failing workloads found in {plural(pods, 'pod')} across "
        f"{plural(namespaces, 'namespace')}.\n"
    )


def _counts(failing: list[Diagnosis]) -> str:
    counts = Counter(d.root_cause for d in failing)
    width = max(len(code) for code in counts)
    lines = ["Root causes:"]
    lines.extend(
        f"  {code:<{width}}  {count:>5}"
        for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    )
    return "\n".join(lines) + "\n"


def _block(diagnosis: Diagnosis, paint: _Painter) -> str:
    target = diagnosis.target
    severity = diagnosis.severity.value
    lines = [
        paint(_BOLD, f"{target.kind} {target.namespace}/{target.name}")
        + "  "
        + paint(_COLORS[severity], f"[{severity}]"),
        f"  {_summary(diagnosis)}",
    ]
    for index, finding in enumerate(diagnosis.findings):
        lines.append("")
        lines.extend(_finding(finding, "root cause" if index == 0 else "also", paint))
    rollout = diagnosis.rollout
    if rollout is not None and rollout.changes:
        lines.append("")
        lines.append(
            f"  Revision {rollout.revision} (previous {rollout.previous_revision}) changed:"
        )
        lines.extend(f"    - {change}" for change in rollout.changes)
    if rollout is not None and rollout.delivery is not None:
        lines.append("")
        lines.extend(text_lines(rollout.delivery))
    if diagnosis.proposed_actions:
        delivery = rollout.delivery if rollout is not None else None
        lines.append("")
        lines.extend(
            action_lines(
                diagnosis.proposed_actions,
                shown_step=delivery.next_step if delivery is not None else "",
            )
        )
    return "\n".join(lines)


def _summary(diagnosis: Diagnosis) -> str:
    """The summary, leaving the rollout's changes to the list printed below it."""
    rollout = diagnosis.rollout
    if rollout is None or not rollout.changes:
        return diagnosis.summary
    return summary_without_changes(diagnosis.summary, rollout.changes)


def action_lines(actions: list[ProposedAction], shown_step: str = "") -> list[str]:
    """One line per proposal, its id and exact change (there is no task to approve it on:
    the IncidentNote names ``kubectl highpeaks approve``). Refused ones share one line per
    reason, then the way to take instead (unless it is ``shown_step``, printed above)."""
    lines = []
    for action in actions:
        if not action.refused:
            lines.append(f"  Proposed action: {action.id} ({action.change})")
    refused: dict[tuple[str, str], list[ProposedAction]] = {}
    for action in actions:
        if action.refused:
            refused.setdefault((action.refused, action.instead), []).append(action)
    for (reason, instead), group in refused.items():
        named = ", ".join(f"{a.id} ({a.change})" for a in group)
        lines.append(f"  Refused action{'s' if len(group) > 1 else ''}: {named}: {reason}")
        if instead and instead != shown_step:
            lines.append(f"    -> {instead}")
    return lines


def _finding(finding: Finding, marker: str, paint: _Painter) -> list[str]:
    lines = [f"  {paint(_BOLD, finding.code)} ({marker}): {finding.title}"]
    lines.extend(f"    | {line}" for line in finding.evidence)
    pods_named = [o.name for o in finding.objects if o.kind == "Pod"]
    if pods_named:
        more = f" and {len(pods_named) - 3} more" if len(pods_named) > 3 else ""
        lines.append(paint(_DIM, f"    pods: {', '.join(pods_named[:3])}{more}"))
    if finding.suggestion:
        lines.append(f"    -> {finding.suggestion}")
    return lines
