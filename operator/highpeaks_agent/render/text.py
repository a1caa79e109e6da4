"""The text output of ``diagnose``: one block per failing workload, root cause first."""

from __future__ import annotations

from highpeaks_agent.engine.model import Diagnosis

_COLORS = {"critical": "\033[1;31m", "warning": "\033[1;33m", "info": "\033[1;36m"}
_BOLD, _DIM, _RESET = "\033[1m", "\033[2m", "\033[0m"


def render_text(diagnoses: list[Diagnosis], *, pods: int, namespaces: int, color: bool) -> str:
    """A report for people; ANSI colour only when ``color``."""

    def paint(code: str, text: str) -> str:
        return f"{code}{text}{_RESET}" if color else text

    failing = [d for d in diagnoses if d.findings]
    if not failing:
        return (
            f"No failing workloads found in {pods} pod{'s' if pods != 1 else ''} across "
            f"{namespaces} namespace{'s' if namespaces != 1 else ''}.\n"
        )
    blocks = []
    for diagnosis in failing:
        target = diagnosis.target
        severity = diagnosis.severity.value
        lines = [
            paint(_BOLD, f"{target.kind} {target.namespace}/{target.name}")
            + "  "
            + paint(_COLORS[severity], f"[{severity}]"),
            f"  {diagnosis.summary}",
        ]
        for index, finding in enumerate(diagnosis.findings):
            marker = "root cause" if index == 0 else "also"
            lines.append("")
            lines.append(f"  {paint(_BOLD, finding.code)} ({marker}): {finding.title}")
            lines.extend(f"    | {line}" for line in finding.evidence)
            pods_named = [o.name for o in finding.objects if o.kind == "Pod"]
            if pods_named:
                more = f" and {len(pods_named) - 3} more" if len(pods_named) > 3 else ""
                lines.append(paint(_DIM, f"    pods: {', '.join(pods_named[:3])}{more}"))
            if finding.suggestion:
                lines.append(f"    -> {finding.suggestion}")
        rollout = diagnosis.rollout
        if rollout is not None and rollout.changes:
            lines.append("")
            lines.append(
                f"  Revision {rollout.revision} (previous {rollout.previous_revision}) changed:"
            )
            lines.extend(f"    - {change}" for change in rollout.changes)
        blocks.append("\n".join(lines))
    header = f"{len(failing)} failing workload{'s' if len(failing) != 1 else ''} ({pods} pods checked)\n\n"
    return header + "\n\n".join(blocks) + "\n"
