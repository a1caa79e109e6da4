"""Group pods under the workload that controls them, by ownerReferences (never by name)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from highpeaks_agent.engine.kinds import WORKLOAD_KINDS
from highpeaks_agent.engine.model import ObjectRef
from highpeaks_agent.engine.snapshot import KubeObject, Snapshot, controller_ref, meta


@dataclass
class Workload:
    """A diagnosis target: the controlling object (when known) and its pods.

    A CronJob's Jobs are listed in ``jobs``; their pods are its pods.
    """

    ref: ObjectRef
    obj: KubeObject | None = None
    pods: list[KubeObject] = field(default_factory=list)
    jobs: list[KubeObject] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.ref.kind, self.ref.namespace or "", self.ref.name)


def target_of(pod: Mapping[str, Any], snapshot: Snapshot) -> tuple[ObjectRef, KubeObject | None]:
    """The workload a pod belongs to: Pod → ReplicaSet → Deployment, or its own owner kind."""
    namespace = meta(pod).get("namespace")
    ref = controller_ref(pod)
    if ref is None or ref.get("kind") not in WORKLOAD_KINDS:
        return ObjectRef(kind="Pod", namespace=namespace, name=str(meta(pod)["name"])), None
    owner = snapshot.owner(pod)
    if ref.get("kind") == "ReplicaSet" and owner is not None:
        deployment = snapshot.owner(owner)
        if deployment is not None and deployment.get("kind") == "Deployment":
            return _ref(deployment), deployment
        rs_ref = controller_ref(owner)
        if rs_ref is not None and rs_ref.get("kind") == "Deployment":
            return ObjectRef(kind="Deployment", namespace=namespace, name=str(rs_ref["name"])), None
    if ref.get("kind") == "Job" and owner is not None:
        cronjob = _cronjob_of(owner, snapshot)
        if cronjob is not None:
            return cronjob
    if owner is not None:
        return _ref(owner), owner
    return ObjectRef(kind=str(ref["kind"]), namespace=namespace, name=str(ref.get("name"))), None


def _cronjob_of(
    job: Mapping[str, Any], snapshot: Snapshot
) -> tuple[ObjectRef, KubeObject | None] | None:
    """The CronJob that created the Job (by its controller reference), when it has one."""
    ref = controller_ref(job)
    if ref is None or ref.get("kind") != "CronJob":
        return None
    cronjob = snapshot.owner(job)
    if cronjob is not None:
        return _ref(cronjob), cronjob
    namespace = meta(job).get("namespace")
    return ObjectRef(kind="CronJob", namespace=namespace, name=str(ref.get("name"))), None


def _ref(obj: Mapping[str, Any]) -> ObjectRef:
    md = meta(obj)
    namespace = md.get("namespace")
    return ObjectRef(
        kind=str(obj.get("kind")),
        namespace=namespace if isinstance(namespace, str) else None,
        name=str(md["name"]),
    )


def group(snapshot: Snapshot, namespace: str | None = None) -> list[Workload]:
    """Every workload of the snapshot with its pods; workloads without pods are included."""
    found: dict[tuple[str, str, str], Workload] = {}
    for bucket in ("deployments", "statefulsets", "daemonsets", "cronjobs", "jobs"):
        for obj in getattr(snapshot, bucket):
            if namespace is not None and meta(obj).get("namespace") != namespace:
                continue
            cronjob = _cronjob_of(obj, snapshot) if bucket == "jobs" else None
            if cronjob is None:
                workload = Workload(_ref(obj), obj)
                found[workload.key] = workload
                continue
            key = (cronjob[0].kind, cronjob[0].namespace or "", cronjob[0].name)
            found.setdefault(key, Workload(*cronjob)).jobs.append(obj)
    for rs in snapshot.replicasets:
        if controller_ref(rs) is None and (
            namespace is None or meta(rs).get("namespace") == namespace
        ):
            workload = Workload(_ref(rs), rs)
            found[workload.key] = workload
    by_owner: dict[Any, tuple[ObjectRef, KubeObject | None]] = {}
    for pod in snapshot.pods:
        if namespace is not None and meta(pod).get("namespace") != namespace:
            continue
        owner = controller_ref(pod)
        owner_uid = owner.get("uid") if owner is not None else None
        if owner_uid and owner_uid in by_owner:
            ref, obj = by_owner[owner_uid]
        else:
            ref, obj = target_of(pod, snapshot)
            if owner_uid:
                by_owner[owner_uid] = (ref, obj)
        key = (ref.kind, ref.namespace or "", ref.name)
        if key not in found:
            found[key] = Workload(ref, obj)
        found[key].pods.append(pod)
    return list(found.values())


def workload_of(obj: KubeObject, snapshot: Snapshot) -> Workload:
    """The workload of exactly this object, even where :func:`group` files it under another
    (a Job under its CronJob)."""
    ref = _ref(obj)
    if ref.kind == "Pod":
        return Workload(ref, obj, [obj])
    if ref.kind == "CronJob":
        jobs = snapshot.children(obj, "Job")
        pods = [pod for job in jobs for pod in snapshot.children(job, "Pod")]
        return Workload(ref, obj, pods, jobs)
    if ref.kind == "Deployment":
        owned = snapshot.children(obj, "ReplicaSet")
        return Workload(ref, obj, [p for rs in owned for p in snapshot.children(rs, "Pod")])
    return Workload(ref, obj, snapshot.children(obj, "Pod"))


def replicasets_of(deployment: Mapping[str, Any], snapshot: Snapshot) -> list[KubeObject]:
    """The Deployment's ReplicaSets, oldest revision first."""
    return sorted(snapshot.children(deployment, "ReplicaSet"), key=revision)


def revision(obj: Mapping[str, Any]) -> int:
    """The ``deployment.kubernetes.io/revision`` annotation as a number (0 when absent)."""
    annotations = meta(obj).get("annotations")
    value = (
        annotations.get("deployment.kubernetes.io/revision")
        if isinstance(annotations, Mapping)
        else None
    )
    try:
        return int(value) if value is not None else 0
    except (TypeError, ValueError):
        return 0
