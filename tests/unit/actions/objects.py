"""Workloads, their revisions and tasks as the API server returns them, for the action tests."""

from __future__ import annotations

import copy
from typing import Any

GOOD = "registry.test/shop/checkout:2.13.4"
CRASHING = "registry.test/shop/checkout:2.14.0-crash"
UID = "uid-checkout"


def template(image: str, *, hash_: str = "") -> dict[str, Any]:
    labels = {"app": "checkout"} | ({"pod-template-hash": hash_} if hash_ else {})
    return {
        "metadata": {"labels": labels},
        "spec": {"containers": [{"name": "app", "image": image}]},
    }


def deployment(
    image: str = CRASHING, *, revision: int = 2, annotations: dict[str, str] | None = None
) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "checkout",
            "namespace": "shop",
            "uid": UID,
            "generation": 2,
            "annotations": {"deployment.kubernetes.io/revision": str(revision)}
            | (annotations or {}),
        },
        "spec": {
            "replicas": 2,
            "progressDeadlineSeconds": 60,
            "selector": {"matchLabels": {"app": "checkout"}},
            "template": template(image),
        },
        "status": {"observedGeneration": 2, "replicas": 3, "updatedReplicas": 1},
    }


def replicaset(revision: int, image: str, hash_: str, *, history: str = "") -> dict[str, Any]:
    annotations = {"deployment.kubernetes.io/revision": str(revision)}
    if history:
        annotations["deployment.kubernetes.io/revision-history"] = history
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": f"checkout-{hash_}",
            "namespace": "shop",
            "uid": f"uid-rs-{hash_}",
            "annotations": annotations,
            "creationTimestamp": f"2026-12-0{revision}T10:00:00Z",
            "ownerReferences": [
                {"kind": "Deployment", "name": "checkout", "uid": UID, "controller": True}
            ],
        },
        "spec": {"replicas": 1, "template": template(image, hash_=hash_)},
        "status": {"replicas": 1},
    }


def statefulset() -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "db", "namespace": "shop", "uid": "uid-db", "generation": 2},
        "spec": {"replicas": 1, "template": template("db:2")},
        "status": {"updateRevision": "db-2", "currentRevision": "db-1", "observedGeneration": 2},
    }


def controller_revision(number: int, image: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "ControllerRevision",
        "metadata": {
            "name": f"db-{number}",
            "namespace": "shop",
            "uid": f"uid-cr-{number}",
            "ownerReferences": [
                {"kind": "StatefulSet", "name": "db", "uid": "uid-db", "controller": True}
            ],
        },
        "revision": number,
        "data": {"spec": {"template": {**template(image), "$patch": "replace"}}},
    }


def task(
    spec: dict[str, Any],
    *,
    status: dict[str, Any] | None = None,
    written: str = "2026-12-07T10:00:05Z",
    field: str = "approval",
) -> dict[str, Any]:
    return {
        "apiVersion": "devops.highpeaks.io/v1alpha1",
        "kind": "AgentTask",
        "metadata": {
            "name": "why-checkout",
            "namespace": "shop",
            "uid": "uid-task",
            "generation": 2,
            "resourceVersion": "1",
            "creationTimestamp": "2026-12-07T09:00:00Z",
            "managedFields": [
                {
                    "manager": "kubectl",
                    "operation": "Update",
                    "time": written,
                    "fieldsV1": {"f:spec": {f"f:{field}": {}}},
                }
            ],
        },
        "spec": {"target": {"kind": "Deployment", "name": "checkout"}, **spec},
        # diagnosed for its current generation, as the operator leaves a person's task
        "status": {"phase": "Succeeded", "observedGeneration": 2, **copy.deepcopy(status or {})},
    }


PROPOSED_ROLLBACK = {
    "id": "rollback-to-1",
    "action": "rollback",
    "target": {"kind": "Deployment", "namespace": "shop", "name": "checkout"},
    "change": f"container app image: {CRASHING} -> {GOOD}",
    "why": "revision 2 crash-loops",
}
