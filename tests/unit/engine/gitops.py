"""Argo CD and Flux objects as their controllers write them, beside a Deployment whose
revision 2 (created 10 minutes before NOW) crash-loops after a healthy revision 1."""

from __future__ import annotations

from typing import Any

from .builders import container, deployment, pod, replicaset, terminated, ts, waiting

OLD = "4f3c2a1b9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a"
NEW = "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b"
OLDER = "1111111111111111111111111111111111111111"
REPO = "https://github.com/example/shop-deploy.git"


def rollout(
    labels: dict[str, str] | None = None, annotations: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """checkout: revision 1 (healthy, created 2 h ago) → revision 2 (created 10 min ago),
    whose pod crash-loops."""
    dep = deployment(revision=2, containers=[container(image="shop/checkout:2.14.0")])
    dep["metadata"].setdefault("labels", {}).update(labels or {})
    dep["metadata"]["annotations"].update(annotations or {})
    old = replicaset(
        dep, "6b9f7c5d4", revision=1, containers=[container(image="shop/checkout:2.13.4")]
    )
    new = replicaset(dep, "7c9f8d6b5", revision=2)
    old["metadata"]["creationTimestamp"] = ts(7200)
    new["metadata"]["creationTimestamp"] = ts(600)
    crashing = waiting(restarts=6, last=terminated(1))
    p = pod("checkout-7c9f8d6b5-x2k4q", owner=new, statuses=[crashing], started_ago=590)
    return [dep, old, new, p]


def application(namespace: str = "argocd", name: str = "checkout") -> dict[str, Any]:
    """An Application as Argo CD writes it: three syncs, the newest right after revision 2."""

    def entry(id_: int, revision: str, ago: float) -> dict[str, Any]:
        return {
            "id": id_,
            "revision": revision,
            "deployStartedAt": ts(ago + 5),
            "deployedAt": ts(ago),
            "source": {"repoURL": REPO, "path": "apps/checkout", "targetRevision": "main"},
            "initiatedBy": {"automated": True},
        }

    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "project": "default",
            "source": {"repoURL": REPO, "path": "apps/checkout", "targetRevision": "main"},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "shop"},
        },
        "status": {
            "sync": {"status": "Synced", "revision": NEW},
            "health": {"status": "Degraded"},
            "history": [entry(3, OLDER, 86400), entry(4, OLD, 7195), entry(5, NEW, 595)],
        },
    }


TRACKING = {"argocd.argoproj.io/tracking-id": "checkout:apps/Deployment:shop/checkout"}


def kustomization(history: bool = True) -> list[dict[str, Any]]:
    ks: dict[str, Any] = {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": "apps", "namespace": "flux-system"},
        "spec": {
            "interval": "10m",
            "path": "./apps/production",
            "prune": True,
            "sourceRef": {"kind": "GitRepository", "name": "fleet"},
        },
        "status": {
            "lastAppliedRevision": f"main@sha1:{NEW}",
            "lastAttemptedRevision": f"main@sha1:{NEW}",
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True",
                    "reason": "ReconciliationSucceeded",
                    "lastTransitionTime": ts(598),
                }
            ],
        },
    }
    if history:
        ks["status"]["history"] = [
            {
                "digest": "sha256:aa",
                "firstReconciled": ts(598),
                "lastReconciled": ts(30),
                "lastReconciledDuration": "2.1s",
                "lastReconciledStatus": "ReconciliationSucceeded",
                "totalReconciliations": 20,
                "metadata": {"revision": f"main@sha1:{NEW}"},
            },
            {
                "digest": "sha256:bb",
                "firstReconciled": ts(7300),
                "lastReconciled": ts(700),
                "lastReconciledDuration": "1.9s",
                "lastReconciledStatus": "ReconciliationSucceeded",
                "totalReconciliations": 40,
                "metadata": {"revision": f"main@sha1:{OLD}"},
            },
        ]
    repo = {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": {"name": "fleet", "namespace": "flux-system"},
        "spec": {"url": "ssh://git@gitlab.com/example/fleet.git", "ref": {"branch": "main"}},
    }
    return [ks, repo]


FLUX_LABELS = {
    "kustomize.toolkit.fluxcd.io/name": "apps",
    "kustomize.toolkit.fluxcd.io/namespace": "flux-system",
}
