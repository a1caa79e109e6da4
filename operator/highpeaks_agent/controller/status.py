"""AgentTask status documents built from a diagnosis report (CONTRACT §4).

Pure functions: the handlers write what these return through the status subresource.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from highpeaks_agent.controller.spec import Rejection
from highpeaks_agent.render.steps import status_steps
from highpeaks_agent.service import Report


def _time(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def condition(
    type_: str, status: bool, reason: str, message: str, now: datetime, generation: int | None
) -> dict[str, Any]:
    """One entry of ``status.conditions``."""
    entry: dict[str, Any] = {
        "type": type_,
        "status": "True" if status else "False",
        "reason": reason,
        "message": message,
        "lastTransitionTime": _time(now),
    }
    if generation is not None:
        entry["observedGeneration"] = generation
    return entry


def running_status(generation: int | None, now: datetime) -> dict[str, Any]:
    """The status while the diagnosis runs."""
    return {
        "phase": "Running",
        "observedGeneration": generation,
        "startedAt": _time(now),
        "completedAt": None,
        "conditions": [
            condition("Diagnosed", False, "Running", "Gathering context", now, generation)
        ],
    }


def completed_status(
    report: Report,
    *,
    generation: int | None,
    started_at: datetime,
    now: datetime,
    flowise_configured: bool,
) -> dict[str, Any]:
    """The whole status of a finished diagnosis."""
    diagnosis = report.diagnoses[0]
    data = diagnosis.to_json_dict()
    conditions = [_diagnosed(report, now, generation, flowise_configured)]
    if flowise_configured and report.explanation.status != "disabled":
        conditions.append(_flowise_available(report, now, generation))
    return {
        "phase": "Succeeded",
        "severity": diagnosis.severity.value if diagnosis.findings else "none",
        "rootCause": diagnosis.root_cause,
        "summary": report.summary,
        "answer": report.answer,
        "findings": data["findings"],
        "recommendations": report.recommendations,
        "rollout": data.get("rollout"),
        "proposedActions": data.get("proposedActions", []),
        "steps": status_steps(report.steps),
        "source": report.source,
        "observedGeneration": generation,
        "startedAt": _time(started_at),
        "completedAt": _time(now),
        "conditions": conditions,
    }


def _diagnosed(
    report: Report, now: datetime, generation: int | None, flowise_configured: bool
) -> dict[str, Any]:
    """``Diagnosed=True``: the root cause found, or healthy; says when the flow was unusable."""
    diagnosis = report.diagnoses[0]
    if diagnosis.findings:
        message = f"{diagnosis.root_cause}: {diagnosis.findings[0].title}"
        diagnosed = condition("Diagnosed", True, "RootCauseFound", message, now, generation)
    else:
        diagnosed = condition("Diagnosed", True, "Healthy", diagnosis.summary, now, generation)
    outcome = report.explanation
    if (
        flowise_configured
        and outcome.status == "unavailable"
        and outcome.reason.startswith("bad answer")
    ):
        diagnosed["message"] += f" (rules only: the flow's answer was unusable, {outcome.reason})"
    if report.flow_not_used:
        diagnosed["message"] += (
            f" (rules only: the flow's answer was not used, {report.flow_not_used})"
        )
    return diagnosed


def _flowise_available(report: Report, now: datetime, generation: int | None) -> dict[str, Any]:
    """``FlowiseAvailable``: whether the flow answered, else why the rules answered alone."""
    outcome = report.explanation
    if report.flow_not_used:
        message = f"The flow answered; the rules' result stands: {report.flow_not_used}"
        return condition("FlowiseAvailable", True, "AnswerNotUsed", message, now, generation)
    available = outcome.status == "ok"
    return condition(
        "FlowiseAvailable",
        available,
        "Answered" if available else "Fallback",
        "The flow answered" if available else f"Rules only: {outcome.reason}",
        now,
        generation,
    )


def failed_status(
    rejection: Rejection, *, generation: int | None, started_at: datetime | None, now: datetime
) -> dict[str, Any]:
    """The status of a task that cannot be run (invalid spec, missing target …)."""
    return {
        "phase": "Failed",
        "severity": "none",
        "rootCause": "",
        "summary": rejection.message,
        "observedGeneration": generation,
        "startedAt": _time(started_at or now),
        "completedAt": _time(now),
        "conditions": [
            condition("Diagnosed", False, rejection.reason, rejection.message, now, generation)
        ],
    }
