"""Builders for realistic Kubernetes objects, worded the way kubelet and the controllers do."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

NOW = datetime(2026, 11, 20, 10, 0, 0, tzinfo=UTC)
_uids = itertools.count(1)


def ts(seconds_ago: float) -> str:
    """An RFC 3339 timestamp ``seconds_ago`` before NOW."""
    return (NOW - timedelta(seconds=seconds_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def uid() -> str:
    return f"00000000-0000-0000-0000-{next(_uids):012d}"


def owner_ref(obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": obj.get("apiVersion", "apps/v1"),
        "kind": obj["kind"],
        "name": obj["metadata"]["name"],
        "uid": obj["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def container(
    name: str = "app", image: str = "registry.example.com/shop/app:1.0.0", **extra: Any
) -> dict[str, Any]:
    return {"name": name, "image": image, **extra}


def deployment(
    name: str = "checkout",
    ns: str = "shop",
    *,
    revision: int = 1,
    available: int = 0,
    replicas: int = 1,
    conditions: list[dict[str, Any]] | None = None,
    containers: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "namespace": ns,
            "uid": uid(),
            "annotations": {"deployment.kubernetes.io/revision": str(revision)},
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": containers or [container()]},
            },
        },
        "status": {
            "replicas": replicas,
            "readyReplicas": available,
            "availableReplicas": available,
            "conditions": conditions or [],
        },
    }


def replicaset(
    dep: dict[str, Any],
    suffix: str,
    *,
    revision: int,
    replicas: int = 1,
    ready: int = 0,
    containers: list[dict[str, Any]] | None = None,
    env: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    spec_containers = containers or [dict(c) for c in dep["spec"]["template"]["spec"]["containers"]]
    if env is not None:
        spec_containers[0] = {**spec_containers[0], "env": env}
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": f"{dep['metadata']['name']}-{suffix}",
            "namespace": dep["metadata"]["namespace"],
            "uid": uid(),
            "annotations": {"deployment.kubernetes.io/revision": str(revision)},
            "ownerReferences": [owner_ref(dep)],
        },
        "spec": {"replicas": replicas, "template": {"spec": {"containers": spec_containers}}},
        "status": {"replicas": replicas, "readyReplicas": ready, "availableReplicas": ready},
    }


def pod(
    name: str,
    ns: str = "shop",
    *,
    owner: dict[str, Any] | None = None,
    phase: str = "Running",
    statuses: list[dict[str, Any]] | None = None,
    init_statuses: list[dict[str, Any]] | None = None,
    containers: list[dict[str, Any]] | None = None,
    conditions: list[dict[str, Any]] | None = None,
    started_ago: float = 3600,
    restart_policy: str = "Always",
    **status_extra: Any,
) -> dict[str, Any]:
    md: dict[str, Any] = {
        "name": name,
        "namespace": ns,
        "uid": uid(),
        "creationTimestamp": ts(started_ago),
    }
    if owner is not None:
        md["ownerReferences"] = [owner_ref(owner)]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": md,
        "spec": {
            "containers": containers or [container()],
            "restartPolicy": restart_policy,
            "nodeName": "worker-1",
        },
        "status": {
            "phase": phase,
            "startTime": ts(started_ago),
            "conditions": conditions or [],
            "containerStatuses": statuses if statuses is not None else [running()],
            **({"initContainerStatuses": init_statuses} if init_statuses else {}),
            **status_extra,
        },
    }


def running(
    name: str = "app",
    *,
    ready: bool = True,
    restarts: int = 0,
    since: float = 3000,
    last: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "name": name,
        "ready": ready,
        "started": True,
        "restartCount": restarts,
        "state": {"running": {"startedAt": ts(since)}},
        "lastState": {"terminated": last} if last else {},
    }


def waiting(
    name: str = "app",
    reason: str = "CrashLoopBackOff",
    message: str = "",
    *,
    restarts: int = 0,
    last: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "name": name,
        "ready": False,
        "started": False,
        "restartCount": restarts,
        "state": {"waiting": {"reason": reason, **({"message": message} if message else {})}},
        "lastState": {"terminated": last} if last else {},
    }


def terminated(
    exit_code: int = 1, reason: str = "Error", *, finished_ago: float = 30, message: str = ""
) -> dict[str, Any]:
    return {
        "exitCode": exit_code,
        "reason": reason,
        "startedAt": ts(finished_ago + 5),
        "finishedAt": ts(finished_ago),
        **({"message": message} if message else {}),
    }


def event(
    obj: dict[str, Any],
    reason: str,
    message: str,
    *,
    type_: str = "Warning",
    count: int = 1,
    ago: float = 10,
) -> dict[str, Any]:
    md = obj["metadata"]
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{md['name']}.{uid()[-8:]}", "namespace": md["namespace"]},
        "involvedObject": {
            "kind": obj["kind"],
            "name": md["name"],
            "namespace": md["namespace"],
            "uid": md["uid"],
        },
        "reason": reason,
        "message": message,
        "type": type_,
        "count": count,
        "lastTimestamp": ts(ago),
        "firstTimestamp": ts(ago + 600),
    }


def failing_deployment(
    statuses: list[dict[str, Any]], **pod_kwargs: Any
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A Deployment with one ReplicaSet and one pod with the given container statuses."""
    dep = deployment()
    rs = replicaset(dep, "7c9f8d6b5", revision=1)
    p = pod("checkout-7c9f8d6b5-x2k4q", owner=rs, statuses=statuses, **pod_kwargs)
    return dep, rs, p


def job(
    name: str = "nightly-report",
    ns: str = "shop",
    *,
    owner: dict[str, Any] | None = None,
    failed: int = 0,
    succeeded: int = 0,
    backoff_limit: int = 6,
    conditions: list[dict[str, Any]] | None = None,
    suspend: bool = False,
    created_ago: float = 1800,
    restart_policy: str = "Never",
    **spec_extra: Any,
) -> dict[str, Any]:
    """A Job the way the job controller reports it (selector on its own uid)."""
    job_uid = uid()
    md: dict[str, Any] = {
        "name": name,
        "namespace": ns,
        "uid": job_uid,
        "creationTimestamp": ts(created_ago),
        "labels": {"batch.kubernetes.io/job-name": name},
    }
    if owner is not None:
        md["ownerReferences"] = [owner_ref(owner)]
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": md,
        "spec": {
            "backoffLimit": backoff_limit,
            "completions": 1,
            "suspend": suspend,
            "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": job_uid}},
            "template": {
                "metadata": {"labels": {"batch.kubernetes.io/controller-uid": job_uid}},
                "spec": {"containers": [container()], "restartPolicy": restart_policy},
            },
            **spec_extra,
        },
        "status": {
            "failed": failed,
            "succeeded": succeeded,
            "startTime": ts(created_ago),
            "conditions": conditions or [],
        },
    }


def job_condition(type_: str, reason: str, message: str, *, ago: float = 60) -> dict[str, Any]:
    return {
        "type": type_,
        "status": "True",
        "reason": reason,
        "message": message,
        "lastProbeTime": ts(ago),
        "lastTransitionTime": ts(ago),
    }


def cronjob(name: str = "nightly", ns: str = "shop", *, suspend: bool = False) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": name, "namespace": ns, "uid": uid(), "creationTimestamp": ts(86400)},
        "spec": {
            "schedule": "0 2 * * *",
            "suspend": suspend,
            "jobTemplate": {"spec": {"template": {"spec": {"containers": [container()]}}}},
        },
        "status": {"lastScheduleTime": ts(600)},
    }


def failed_job_pod(
    name: str,
    owner: dict[str, Any],
    *,
    exit_code: int = 1,
    reason: str = "Error",
    started_ago: float = 900,
    message: str = "",
) -> dict[str, Any]:
    """A pod of a restartPolicy Never Job whose container exited for good."""
    ended = terminated(exit_code, reason, finished_ago=started_ago - 60, message=message)
    status = {
        "name": "app",
        "ready": False,
        "started": False,
        "restartCount": 0,
        "state": {"terminated": ended},
        "lastState": {},
    }
    return pod(
        name,
        owner["metadata"]["namespace"],
        owner=owner,
        phase="Failed",
        statuses=[status],
        started_ago=started_ago,
        restart_policy="Never",
    )


def revisioned_set(
    kind: str,
    name: str = "db",
    ns: str = "shop",
    *,
    replicas: int = 3,
    ready: int = 0,
    update_revision: str | None = None,
    partition: int | None = None,
) -> dict[str, Any]:
    """A StatefulSet or DaemonSet (status fields of its own kind)."""
    spec: dict[str, Any] = {
        "selector": {"matchLabels": {"app": name}},
        "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [container()]}},
    }
    if kind == "StatefulSet":
        spec["replicas"] = replicas
        if partition is not None:
            spec["updateStrategy"] = {
                "type": "RollingUpdate",
                "rollingUpdate": {"partition": partition},
            }
        status: dict[str, Any] = {"replicas": replicas, "readyReplicas": ready}
        if update_revision is not None:
            status["updateRevision"] = update_revision
    else:
        status = {
            "desiredNumberScheduled": replicas,
            "numberReady": ready,
            "numberAvailable": ready,
        }
    return {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": {"name": name, "namespace": ns, "uid": uid()},
        "spec": spec,
        "status": status,
    }


def controller_revision(
    owner: dict[str, Any], hash_: str, revision: int, image: str, **container_extra: Any
) -> dict[str, Any]:
    """A ControllerRevision as the StatefulSet/DaemonSet controllers write it."""
    name = owner["metadata"]["name"]
    template = {
        "metadata": {"labels": {"app": name}},
        "spec": {"containers": [container(image=image, **container_extra)]},
        "$patch": "replace",
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "ControllerRevision",
        "metadata": {
            "name": f"{name}-{hash_}",
            "namespace": owner["metadata"]["namespace"],
            "uid": uid(),
            "labels": {"app": name, "controller-revision-hash": hash_},
            "ownerReferences": [owner_ref(owner)],
        },
        "revision": revision,
        "data": {"spec": {"template": template}},
    }


def with_revision_label(p: dict[str, Any], value: str) -> dict[str, Any]:
    p["metadata"]["labels"] = {**p["metadata"].get("labels", {}), "controller-revision-hash": value}
    return p


def pvc(
    name: str,
    ns: str = "shop",
    *,
    phase: str = "Pending",
    storage_class: str | None = "fast-ssd",
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": "10Gi"}},
    }
    if storage_class is not None:
        spec["storageClassName"] = storage_class
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": ns, "uid": uid(), "creationTimestamp": ts(3600)},
        "spec": spec,
        "status": {"phase": phase},
    }


def with_claim(p: dict[str, Any], claim: str, volume: str = "data") -> dict[str, Any]:
    p["spec"]["volumes"] = [{"name": volume, "persistentVolumeClaim": {"claimName": claim}}]
    return p


def node(
    name: str = "worker-1",
    *,
    ready: str = "True",
    arch: str = "amd64",
    taints: list[dict[str, Any]] | None = None,
    heartbeat_ago: float = 20,
) -> dict[str, Any]:
    """A Node as the kubelet and the node lifecycle controller write it."""
    reason, message = {
        "True": ("KubeletReady", "kubelet is posting ready status"),
        "False": ("KubeletNotReady", "PLEG is not healthy: pleg was last seen active 3m0s ago"),
        "Unknown": ("NodeStatusUnknown", "Kubelet stopped posting node status."),
    }[ready]
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "uid": uid(),
            "labels": {"kubernetes.io/arch": arch, "kubernetes.io/hostname": name},
        },
        "spec": {"taints": taints or []},
        "status": {
            "conditions": [
                {
                    "type": "Ready",
                    "status": ready,
                    "reason": reason,
                    "message": message,
                    "lastHeartbeatTime": ts(heartbeat_ago),
                    "lastTransitionTime": ts(heartbeat_ago + 60),
                }
            ]
        },
    }


def unreachable_taints(seconds_ago: float = 60) -> list[dict[str, Any]]:
    """The node lifecycle controller's taints on a node whose kubelet stopped reporting."""
    return [
        {"key": "node.kubernetes.io/unreachable", "effect": effect, "timeAdded": ts(seconds_ago)}
        for effect in ("NoSchedule", "NoExecute")
    ]


def marked_not_ready(p: dict[str, Any], seconds_ago: float = 60) -> dict[str, Any]:
    """The pod as the node lifecycle controller leaves it when its node stops reporting: only
    ``Ready`` flipped to False (no reason); ``ContainersReady`` and the container statuses stay
    as the kubelet last wrote them, running and ready."""
    kept = [ts(3000)] * 3
    p["status"]["conditions"] = [
        {"type": kind, "status": "True", "lastProbeTime": None, "lastTransitionTime": when}
        for kind, when in zip(("PodScheduled", "Initialized", "ContainersReady"), kept, strict=True)
    ] + [
        {
            "type": "Ready",
            "status": "False",
            "lastProbeTime": None,
            "lastTransitionTime": ts(seconds_ago),
        }
    ]
    return p
