"""Workload-level causes: the controller cannot create pods, or the rollout stalled."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from highpeaks_agent.engine import classify, codes
from highpeaks_agent.engine.findings import default_severity
from highpeaks_agent.engine.model import Finding, ObjectRef
from highpeaks_agent.engine.snapshot import KubeObject, Snapshot, meta


def _ref(obj: Mapping[str, Any]) -> ObjectRef:
    md = meta(obj)
    return ObjectRef(kind=str(obj.get("kind")), namespace=md.get("namespace"), name=str(md["name"]))


def _conditions(obj: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    status = obj.get("status")
    items = status.get("conditions") if isinstance(status, Mapping) else None
    return [c for c in items or [] if isinstance(c, Mapping)]


def replica_failures(obj: KubeObject, owned: list[KubeObject], snapshot: Snapshot) -> list[Finding]:
    """ReplicaFailure conditions and FailedCreate events on the workload or its ReplicaSets."""
    messages: list[tuple[str, ObjectRef]] = []
    for source in [obj, *owned]:
        for condition in _conditions(source):
            if condition.get("type") == "ReplicaFailure" and condition.get("status") == "True":
                messages.append(
                    (str(condition.get("message") or condition.get("reason")), _ref(source))
                )
        for event in snapshot.events_for(source):
            if event.get("reason") == "FailedCreate" and isinstance(event.get("message"), str):
                messages.append((event["message"], _ref(source)))
    if not messages:
        return []
    message, where = messages[-1]
    code = classify.replica_create_code(" ".join(m for m, _ in messages))
    hint = {
        codes.REPLICA_CREATE_QUOTA: f"A ResourceQuota is exhausted: `kubectl describe resourcequota -n {where.namespace}`; "
        "raise it or lower the pods' requests/limits.",
        codes.REPLICA_CREATE_FORBIDDEN: "Admission rejected the pods (PodSecurity, a webhook or a LimitRange): "
        "make the pod template comply with the message.",
    }.get(
        code,
        f"Read the controller's message: `kubectl describe {where.kind.lower()} {where.name} -n {where.namespace}`.",
    )
    return [
        Finding(
            code=code,
            severity=default_severity(code),
            title=f"{where.kind} {where.name} cannot create pods",
            detail=message,
            evidence=list(dict.fromkeys(m for m, _ in messages))[-3:],
            suggestion=hint,
            objects=list(dict.fromkeys(w for _, w in messages)),
        )
    ]


def rollout_stalled(obj: KubeObject) -> list[Finding]:
    """Progressing=False (ProgressDeadlineExceeded) on a Deployment."""
    for condition in _conditions(obj):
        if condition.get("type") == "Progressing" and condition.get("status") == "False":
            message = str(condition.get("message") or condition.get("reason") or "")
            return [
                Finding(
                    code=codes.ROLLOUT_STALLED,
                    severity=default_severity(codes.ROLLOUT_STALLED),
                    title=f"Rollout of {obj.get('kind')} {meta(obj).get('name')} stalled",
                    detail=message,
                    evidence=[f"Progressing=False reason {condition.get('reason')}: {message}"],
                    suggestion="The new pods did not become available before the progress "
                    "deadline: check their status, or undo with `kubectl rollout undo "
                    f"deployment/{meta(obj).get('name')} -n {meta(obj).get('namespace')}`.",
                    objects=[_ref(obj)],
                )
            ]
    return []
