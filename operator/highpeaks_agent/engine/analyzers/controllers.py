"""Controllers: the workload's controller cannot create pods, or its rollout stalled."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from highpeaks_agent.engine import catalogue, classify
from highpeaks_agent.engine.analyzers.context import WorkloadContext
from highpeaks_agent.engine.findings import default_severity
from highpeaks_agent.engine.model import Finding, ObjectRef
from highpeaks_agent.engine.snapshot import meta


def rollout_stalled(workload: WorkloadContext) -> list[Finding]:
    """Progressing=False (ProgressDeadlineExceeded) on a Deployment."""
    if workload.kind != "Deployment":
        return []
    obj = workload.obj
    for condition in _conditions(obj):
        if condition.get("type") == "Progressing" and condition.get("status") == "False":
            message = str(condition.get("message") or condition.get("reason") or "")
            name, namespace = meta(obj).get("name"), meta(obj).get("namespace")
            return [
                Finding(
                    code=catalogue.ROLLOUT_STALLED,
                    severity=default_severity(catalogue.ROLLOUT_STALLED),
                    title=f"Rollout of {obj.get('kind')} {name} stalled",
                    detail=message,
                    evidence=[f"Progressing=False reason {condition.get('reason')}: {message}"],
                    suggestion="The new pods did not become available before the progress "
                    "deadline: check their status, or undo with `kubectl rollout undo "
                    f"deployment/{name} -n {namespace}`.",
                    objects=[_ref(obj)],
                )
            ]
    return []


def replica_failures(workload: WorkloadContext) -> list[Finding]:
    """ReplicaFailure conditions and FailedCreate events on the workload or its newest ReplicaSet."""
    if workload.kind == "Pod":
        return []
    messages = _create_failures(workload)
    if not messages:
        return []
    message, where = messages[-1]
    code = classify.replica_create_code(" ".join(m for m, _ in messages))
    return [
        Finding(
            code=code,
            severity=default_severity(code),
            title=f"{where.kind} {where.name} cannot create pods",
            detail=message,
            evidence=list(dict.fromkeys(m for m, _ in messages))[-3:],
            suggestion=_create_hint(code, where),
            objects=list(dict.fromkeys(w for _, w in messages)),
        )
    ]


def _create_failures(workload: WorkloadContext) -> list[tuple[str, ObjectRef]]:
    """(message, object) of every pod-creation failure, the workload's first."""
    messages: list[tuple[str, ObjectRef]] = []
    for source in [workload.obj, *workload.replicasets[-1:]]:
        for condition in _conditions(source):
            if condition.get("type") == "ReplicaFailure" and condition.get("status") == "True":
                messages.append(
                    (str(condition.get("message") or condition.get("reason")), _ref(source))
                )
        for event in workload.snapshot.events_for(source):
            if event.get("reason") == "FailedCreate" and isinstance(event.get("message"), str):
                messages.append((event["message"], _ref(source)))
    return messages


def _create_hint(code: str, where: ObjectRef) -> str:
    if code == catalogue.REPLICA_CREATE_QUOTA:
        return (
            "A ResourceQuota is exhausted: "
            f"`kubectl describe resourcequota -n {where.namespace}`; "
            "raise it or lower the pods' requests/limits."
        )
    if code == catalogue.REPLICA_CREATE_FORBIDDEN:
        return (
            "Admission rejected the pods (PodSecurity, a webhook or a LimitRange): "
            "make the pod template comply with the message."
        )
    return (
        "Read the controller's message: "
        f"`kubectl describe {where.kind.lower()} {where.name} -n {where.namespace}`."
    )


def _ref(obj: Mapping[str, Any]) -> ObjectRef:
    md = meta(obj)
    return ObjectRef(kind=str(obj.get("kind")), namespace=md.get("namespace"), name=str(md["name"]))


def _conditions(obj: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    status = obj.get("status")
    items = status.get("conditions") if isinstance(status, Mapping) else None
    return [c for c in items if isinstance(c, Mapping)] if isinstance(items, list) else []
