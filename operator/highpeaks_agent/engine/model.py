"""The engine's output types: what CONTRACT §1 calls a diagnosis and its findings.

These are the only shapes that leave the engine. The CLI renders them, the operator copies
them into AgentTask status, the Flowise bridge summarises them and /assist returns them, so
their JSON field names are part of the public contract and never change (only additions).

Plain dataclasses: the engine builds them from values it has already checked, and every
consumer serialises them through :meth:`Diagnosis.to_json_dict`, so a validating model would
only add its import and schema building to every start of ``diagnose`` (CONTRACT §1a).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal


class Severity(StrEnum):
    """How bad a finding or diagnosis is. Ordered: critical > warning > info."""

    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Larger is worse, so ``max(..., key=lambda s: s.rank)`` picks the worst."""
        return {"critical": 3, "warning": 2, "info": 1}[self.value]


@dataclass(frozen=True, slots=True, kw_only=True)
class ObjectRef:
    """A pointer to a Kubernetes object, the same three fields ``kubectl`` needs."""

    kind: str
    namespace: str | None = None
    name: str

    def __str__(self) -> str:
        prefix = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind}/{prefix}{self.name}"

    def to_json_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "namespace": self.namespace, "name": self.name}


@dataclass(slots=True, kw_only=True)
class Dependency:
    """The Service a crashing container could not use, and the workload behind it (CONTRACT §2a).

    ``workload_root_cause`` is set when that workload is itself failing: the crash is then its
    consequence.
    """

    host: str
    service: ObjectRef | None = None
    exists: bool = False
    ready_endpoints: int | None = None
    """Ready endpoints of the Service's EndpointSlices (or its ready pods); None when unknown."""
    workload: ObjectRef | None = None
    workload_root_cause: str = ""
    workload_title: str = ""

    def to_json_dict(self) -> dict[str, object]:
        return {
            "host": self.host,
            "service": self.service.to_json_dict() if self.service is not None else None,
            "serviceExists": self.exists,
            "readyEndpoints": self.ready_endpoints,
            "workload": self.workload.to_json_dict() if self.workload is not None else None,
            "workloadRootCause": self.workload_root_cause or None,
            "workloadTitle": self.workload_title or None,
        }


@dataclass(slots=True, kw_only=True)
class Finding:
    """One cause the rules found, with the evidence that shows it and what to do about it."""

    code: str
    severity: Severity
    title: str
    detail: str = ""
    evidence: list[str] = field(default_factory=list)
    suggestion: str = ""
    objects: list[ObjectRef] = field(default_factory=list)
    dependency: Dependency | None = None
    """For a crash on another service: that Service and the workload behind it (additive)."""

    def to_json_dict(self) -> dict[str, object]:
        data: dict[str, object] = {
            "code": self.code,
            "severity": self.severity.value,
            "title": self.title,
            "detail": self.detail,
            "evidence": list(self.evidence),
            "suggestion": self.suggestion,
            "objects": [o.to_json_dict() for o in self.objects],
        }
        if self.dependency is not None:
            data["dependency"] = self.dependency.to_json_dict()
        return data


DeliveryManager = Literal["argocd", "flux-kustomization", "flux-helmrelease", "helm"]


@dataclass(slots=True, kw_only=True)
class Delivery:
    """Which change brought the failing revision: the controller or tool that applied it, the
    Git commit (or chart) it applied and the last healthy one's, and what to do about it.

    ``seen`` is False when the workload names its manager but the managing object (the Argo
    CD Application, the Flux Kustomization or HelmRelease) could not be read; ``note`` then
    says so, and the commits are unknown.
    """

    manager: DeliveryManager
    source: ObjectRef
    seen: bool = True
    repository: str = ""
    path: str = ""
    commit: str = ""
    previous_commit: str = ""
    synced_at: str = ""
    compare_url: str = ""
    history_id: int | None = None
    previous_history_id: int | None = None
    chart: str = ""
    previous_chart: str = ""
    next_step: str = ""
    note: str = ""

    @property
    def gitops(self) -> bool:
        """Applied by a controller that would undo a hand-made change (not plain Helm)."""
        return self.manager != "helm"

    def to_json_dict(self) -> dict[str, object]:
        return {
            "manager": self.manager,
            "source": self.source.to_json_dict(),
            "seen": self.seen,
            "repository": self.repository,
            "path": self.path,
            "commit": self.commit,
            "previousCommit": self.previous_commit,
            "syncedAt": self.synced_at,
            "compareUrl": self.compare_url,
            "historyId": self.history_id,
            "previousHistoryId": self.previous_history_id,
            "chart": self.chart,
            "previousChart": self.previous_chart,
            "nextStep": self.next_step,
            "note": self.note,
        }


@dataclass(slots=True, kw_only=True)
class Rollout:
    """What changed between the failing ReplicaSet's pod template and its healthy predecessor,
    and (``delivery``) which commit or release brought the change, when that is known."""

    revision: int | None = None
    previous_revision: int | None = None
    changes: list[str] = field(default_factory=list)
    delivery: Delivery | None = None

    def to_json_dict(self) -> dict[str, object]:
        data: dict[str, object] = {
            "revision": self.revision,
            "previousRevision": self.previous_revision,
            "changes": list(self.changes),
        }
        if self.delivery is not None:
            data["delivery"] = self.delivery.to_json_dict()
        return data


ActionName = Literal["rollback", "restart", "pause", "resume"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ProposedAction:
    """An action the rules support for a diagnosis (CONTRACT §10), shown before anyone runs it.

    ``id`` is what an approval names: ``rollback-to-<revision>``, ``restart``, ``pause`` or
    ``resume``. ``change`` is the exact change the action makes. ``refused`` says why it must
    not be run (a GitOps controller would put it back) and ``instead`` what to do then.
    """

    id: str
    action: ActionName
    target: ObjectRef
    change: str
    why: str
    refused: str = ""
    instead: str = ""

    def to_json_dict(self) -> dict[str, object]:
        # a CRD string field takes no null: a namespaced target always has one, else none
        target = {k: v for k, v in self.target.to_json_dict().items() if v is not None}
        return {
            "id": self.id,
            "action": self.action,
            "target": target,
            "change": self.change,
            "why": self.why,
            "refused": self.refused,
            "instead": self.instead,
        }


@dataclass(slots=True, kw_only=True)
class Diagnosis:
    """Everything the rules say about one failing workload; ``findings[0]`` is the root cause."""

    target: ObjectRef
    severity: Severity
    summary: str
    findings: list[Finding] = field(default_factory=list)
    rollout: Rollout | None = None
    source: Literal["rules", "flowise"] = "rules"
    pods_affected: int = 0
    """Pods the findings name (the failing ones)."""
    pods_total: int = 0
    """Pods of the workload the snapshot holds (its current and older ReplicaSets' together)."""
    proposed_actions: list[ProposedAction] = field(default_factory=list)
    """What the rules support doing about it; none runs without a person's approval."""

    @property
    def root_cause(self) -> str:
        """The code of the most likely root cause, empty when nothing is failing."""
        return self.findings[0].code if self.findings else ""

    def to_json_dict(self) -> dict[str, object]:
        """The contract's JSON shape: camelCase names, no ``rollout`` key when there is none
        and no ``proposedActions`` key when the rules propose nothing."""
        data: dict[str, object] = {
            "target": self.target.to_json_dict(),
            "severity": self.severity.value,
            "summary": self.summary,
            "findings": [f.to_json_dict() for f in self.findings],
        }
        if self.rollout is not None:
            data["rollout"] = self.rollout.to_json_dict()
        data["source"] = self.source
        data["podsAffected"] = self.pods_affected
        data["podsTotal"] = self.pods_total
        if self.proposed_actions:
            data["proposedActions"] = [a.to_json_dict() for a in self.proposed_actions]
        return data
