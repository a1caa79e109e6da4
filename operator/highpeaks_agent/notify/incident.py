"""What a notification says, read from the incident AgentTask the note points to.

The task's status is what the operator published (already redacted); building the message
from it, not from memory, means a restarted operator sends the same words. Every text is
redacted once more by shape on its way out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from highpeaks_agent.engine.model import Delivery, ObjectRef
from highpeaks_agent.engine.redact import redact_text
from highpeaks_agent.engine.summary import summary_without_changes

SIGNATURE_ANNOTATION = "devops.highpeaks.io/failure-signature"
REVISION_ANNOTATION = "devops.highpeaks.io/revision"
MAX_EVIDENCE_LINES = 8


@dataclass(frozen=True, slots=True)
class Proposal:
    """One proposed action as a message shows it: approvable, or refused with what instead."""

    id: str
    change: str
    refused: str = ""
    instead: str = ""


@dataclass(frozen=True, slots=True)
class Incident:
    """One incident as people read it: target, cause, evidence, next step, what changed."""

    namespace: str
    task: str
    kind: str
    name: str
    revision: int | None
    signature: str
    severity: str
    root_cause: str
    title: str
    summary: str
    evidence: tuple[str, ...]
    next_step: str
    changes: tuple[str, ...]
    previous_revision: int | None = None
    delivery: Delivery | None = None
    """Which change brought the failing revision (Argo CD, Flux, Helm), when known."""
    proposals: tuple[Proposal, ...] = ()
    """The actions the rules propose (CONTRACT §10), refused ones with the GitOps way."""

    @property
    def target(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"

    @property
    def describe_command(self) -> str:
        return f"kubectl -n {self.namespace} describe agenttask {self.task}"


def incident_from_task(task: Mapping[str, Any]) -> Incident | None:
    """The incident a finished incident task records; None while it is not finished."""
    md = task.get("metadata") or {}
    status = task.get("status") or {}
    annotations = md.get("annotations") or {}
    signature = str(annotations.get(SIGNATURE_ANNOTATION) or "")
    if status.get("phase") != "Succeeded" or not signature:
        return None
    target = (task.get("spec") or {}).get("target") or {}
    findings = [f for f in status.get("findings") or [] if isinstance(f, Mapping)]
    first = findings[0] if findings else {}
    rollout = status.get("rollout") or {}
    recommendations = [str(r) for r in status.get("recommendations") or []]
    return Incident(
        namespace=str(md.get("namespace") or ""),
        task=str(md.get("name") or ""),
        kind=str(target.get("kind") or "Deployment"),
        name=str(target.get("name") or ""),
        revision=_int(annotations.get(REVISION_ANNOTATION)) or _int(rollout.get("revision")),
        previous_revision=_int(rollout.get("previousRevision")),
        signature=redact_text(signature),
        severity=str(status.get("severity") or ""),
        root_cause=str(status.get("rootCause") or signature),
        title=redact_text(str(first.get("title") or "")),
        summary=redact_text(str(status.get("summary") or "")),
        evidence=tuple(
            redact_text(str(e)) for e in (first.get("evidence") or [])[:MAX_EVIDENCE_LINES]
        ),
        next_step=redact_text(
            recommendations[0] if recommendations else str(first.get("suggestion") or "")
        ),
        changes=tuple(redact_text(str(c)) for c in rollout.get("changes") or []),
        delivery=delivery_from_status(rollout.get("delivery")),
        proposals=_proposals(status.get("proposedActions")),
    )


def _proposals(listed: Any) -> tuple[Proposal, ...]:
    found = [p for p in listed or [] if isinstance(p, Mapping) and p.get("id")]
    return tuple(
        Proposal(
            id=redact_text(str(p["id"])),
            change=redact_text(str(p.get("change") or "")),
            refused=redact_text(str(p.get("refused") or "")),
            instead=redact_text(str(p.get("instead") or "")),
        )
        for p in found
    )


_DELIVERY_TEXTS = {
    "repository": "repository",
    "path": "path",
    "commit": "commit",
    "previousCommit": "previous_commit",
    "syncedAt": "synced_at",
    "compareUrl": "compare_url",
    "chart": "chart",
    "previousChart": "previous_chart",
    "nextStep": "next_step",
    "note": "note",
}


def delivery_from_status(data: Any) -> Delivery | None:
    """The ``rollout.delivery`` a task's status records, back as the engine's type (its texts
    redacted once more); None when absent or not of that shape."""
    if not isinstance(data, Mapping) or not isinstance(data.get("source"), Mapping):
        return None
    manager = data.get("manager")
    if manager not in ("argocd", "flux-kustomization", "flux-helmrelease", "helm"):
        return None
    source = data["source"]
    return Delivery(
        manager=manager,
        source=ObjectRef(
            kind=str(source.get("kind") or ""),
            namespace=str(source.get("namespace") or ""),
            name=str(source.get("name") or ""),
        ),
        seen=data.get("seen") is not False,
        history_id=_int(data.get("historyId")),
        previous_history_id=_int(data.get("previousHistoryId")),
        **{field: redact_text(str(data.get(key) or "")) for key, field in _DELIVERY_TEXTS.items()},
    )


def summary_without(incident: Incident, *, target: bool) -> str:
    """The summary without what a message says elsewhere: the rollout's changes (its own
    list) and, with ``target``, the leading "<target> is failing: " (the message's header)."""
    text = summary_without_changes(incident.summary, incident.changes)
    lead = f"{incident.target} is failing: "
    if target and text.startswith(lead) and len(text) > len(lead):
        rest = text[len(lead) :]
        text = rest[0].upper() + rest[1:]
    return text


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
