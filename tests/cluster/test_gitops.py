"""Which commit broke a rollout, on the real control plane: the Argo CD and Flux CRDs of
``tests/support/crds`` (written from their published API references) installed, their
objects written as the controllers write them — an Application's sync history, a
Kustomization's applied revision through its status subresource, a HelmRelease's releases —
and a Deployment rolled to a crash-looping revision. The operator reads them with the shipped
ClusterRole; the commit pair and the compare link reach ``kubectl describe``."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.apiserver.serve import GITOPS_CRDS
from tests.support.cluster import TestCluster
from tests.support.operator_process import OperatorProcess

from .conftest import deployment, eventually
from .test_incidents import CRASHING, GOOD, notes, tasks

pytestmark = pytest.mark.cluster
OLD = "7e2b94c1d8a3f5062b1e9d4c7a8f3e5b2d6c1a94"
NEW = "c4d1a9e8f2b7360d5e9a1c8b4f7e2d6a3b5c9e01"
NOTE_MAX = 300


@pytest.fixture(scope="module")
def gitops(installed: TestCluster) -> TestCluster:
    """Argo CD's and Flux's CRDs, established."""
    for path in GITOPS_CRDS:
        installed.kubectl("apply", "-f", str(path))
    installed.kubectl("wait", "--for=condition=Established", "--timeout=60s", "crd", "--all")
    return installed


def _at(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def healthy_then_crashing(
    kube: TestCluster, namespace: str, metadata: dict[str, Any], write_source: Any
) -> None:
    """checkout healthy at revision 1; the source records the sync of revision 2 as its
    controller does (started now, finished once applied); then the crashing image is applied."""
    body = deployment("checkout", GOOD)
    body["metadata"] = {"name": "checkout", "namespace": namespace, **metadata}
    kube.apply(body)
    kube.kubectl("-n", namespace, "rollout", "status", "deploy/checkout", "--timeout=90s")
    first = datetime.now(UTC)
    time.sleep(1.1)
    write_source(first, datetime.now(UTC) + timedelta(seconds=5))
    kube.kubectl("-n", namespace, "set", "image", "deploy/checkout", f"app={CRASHING}")


def note_body(kube: TestCluster, namespace: str) -> str:
    (note,) = eventually(lambda: notes(kube, namespace, "checkout"), what="the IncidentNote")
    body, _, pointer = note["message"].partition(" (details: ")
    assert pointer == "kubectl describe agenttask incident-checkout-r2)", note["message"]
    assert len(body) <= NOTE_MAX, (len(body), body)
    return str(body)


def delivery(kube: TestCluster, namespace: str) -> Any:
    task = eventually(
        lambda: next(
            t for t in tasks(kube, namespace) if t.get("status", {}).get("phase") == "Succeeded"
        ),
        what="the incident task's diagnosis",
    )
    return task["status"]["rollout"]["delivery"]


def test_argocd_commit_pair_and_compare_link_in_kubectl_describe(
    gitops: TestCluster, operator: OperatorProcess, namespace: str
) -> None:
    kube = gitops
    app = f"{namespace}_checkout"  # an Application outside Argo CD's namespace
    source = {"repoURL": "git@github.com:example/shop-deploy.git", "path": "apps/checkout"}

    def write(first: datetime, second: datetime) -> None:
        history = [
            {
                "id": 7,
                "revision": OLD,
                "deployStartedAt": _at(first - timedelta(seconds=4)),
                "deployedAt": _at(first),
                "source": source,
                "initiatedBy": {"automated": True},
            },
            {
                "id": 8,
                "revision": NEW,
                "deployStartedAt": _at(second - timedelta(seconds=5)),
                "deployedAt": _at(second),
                "source": source,
                "initiatedBy": {"automated": True},
            },
        ]
        kube.apply(
            {
                "apiVersion": "argoproj.io/v1alpha1",
                "kind": "Application",
                "metadata": {"name": "checkout", "namespace": namespace},
                "spec": {
                    "project": "default",
                    "source": {**source, "targetRevision": "main"},
                    "destination": {
                        "server": "https://kubernetes.default.svc",
                        "namespace": namespace,
                    },
                },
                "status": {"sync": {"status": "Synced", "revision": NEW}, "history": history},
            }
        )

    tracking = {"argocd.argoproj.io/tracking-id": f"{app}:apps/Deployment:{namespace}/checkout"}
    healthy_then_crashing(kube, namespace, {"annotations": tracking}, write)
    body = note_body(kube, namespace)
    link = "https://github.com/example/shop-deploy/compare/7e2b94c...c4d1a9e"
    assert f"From commit c4d1a9e (last healthy 7e2b94c): {link}." in body, body
    assert f"`argocd app rollback {namespace}/checkout 7`" in body, body
    described = " ".join(kube.kubectl("-n", namespace, "describe", "deploy", "checkout").split())
    assert f"From commit c4d1a9e (last healthy 7e2b94c): {link}." in described
    found = delivery(kube, namespace)
    assert (found["commit"], found["previousCommit"], found["historyId"]) == (NEW, OLD, 8)


def test_flux_kustomization_from_its_gitrepository(
    gitops: TestCluster, operator: OperatorProcess, namespace: str
) -> None:
    kube = gitops

    def write(first: datetime, second: datetime) -> None:
        kube.apply(
            {
                "apiVersion": "source.toolkit.fluxcd.io/v1",
                "kind": "GitRepository",
                "metadata": {"name": "fleet", "namespace": namespace},
                "spec": {"url": "https://gitlab.com/example/fleet.git", "interval": "1m"},
            }
        )
        kube.apply(
            {
                "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
                "kind": "Kustomization",
                "metadata": {"name": "apps", "namespace": namespace},
                "spec": {
                    "interval": "10m",
                    "path": "./apps/production",
                    "prune": True,
                    "sourceRef": {"kind": "GitRepository", "name": "fleet"},
                },
            }
        )

        def snapshot(revision: str, at: datetime, total: int) -> dict[str, Any]:
            return {
                "digest": f"sha256:{revision[:12]}",
                "firstReconciled": _at(at),
                "lastReconciled": _at(at),
                "lastReconciledDuration": "1.5s",
                "lastReconciledStatus": "ReconciliationSucceeded",
                "totalReconciliations": total,
                "metadata": {"revision": f"main@sha1:{revision}"},
            }

        status = {
            "lastAppliedRevision": f"main@sha1:{NEW}",
            "lastAttemptedRevision": f"main@sha1:{NEW}",
            "history": [snapshot(NEW, second, 1), snapshot(OLD, first, 30)],
        }
        # kustomize-controller writes its status through the status subresource
        kube.kubectl(
            "-n",
            namespace,
            "patch",
            "kustomization",
            "apps",
            "--subresource=status",
            "--type=merge",
            "-p",
            json.dumps({"status": status}),
        )

    labels = {
        "kustomize.toolkit.fluxcd.io/name": "apps",
        "kustomize.toolkit.fluxcd.io/namespace": namespace,
    }
    healthy_then_crashing(kube, namespace, {"labels": {"app": "checkout", **labels}}, write)
    body = note_body(kube, namespace)
    link = "https://gitlab.com/example/fleet/-/compare/7e2b94c...c4d1a9e"
    assert f"From commit c4d1a9e (last healthy 7e2b94c): {link}." in body, body
    assert f"`flux suspend kustomization apps -n {namespace}`" in body, body
    assert delivery(kube, namespace)["path"] == "./apps/production"


def test_flux_helmrelease_release_pair(
    gitops: TestCluster, operator: OperatorProcess, namespace: str
) -> None:
    kube = gitops

    def write(first: datetime, second: datetime) -> None:
        kube.apply(
            {
                "apiVersion": "helm.toolkit.fluxcd.io/v2",
                "kind": "HelmRelease",
                "metadata": {"name": "checkout", "namespace": namespace},
                "spec": {
                    "interval": "10m",
                    "chart": {
                        "spec": {
                            "chart": "checkout",
                            "sourceRef": {"kind": "HelmRepository", "name": "charts"},
                        }
                    },
                },
            }
        )

        def release(version: int, chart: str, state: str, at: datetime) -> dict[str, Any]:
            return {
                "name": "checkout",
                "namespace": namespace,
                "version": version,
                "status": state,
                "chartName": "checkout",
                "chartVersion": chart,
                "appVersion": chart,
                "configDigest": f"sha256:{version:064d}",
                "firstDeployed": _at(first),
                "lastDeployed": _at(at),
            }

        history = [
            release(4, "2.14.0", "deployed", second),
            release(3, "2.13.4", "superseded", first),
        ]
        kube.kubectl(
            "-n",
            namespace,
            "patch",
            "helmrelease",
            "checkout",
            "--subresource=status",
            "--type=merge",
            "-p",
            json.dumps({"status": {"history": history}}),
        )

    labels = {
        "helm.toolkit.fluxcd.io/name": "checkout",
        "helm.toolkit.fluxcd.io/namespace": namespace,
    }
    healthy_then_crashing(kube, namespace, {"labels": {"app": "checkout", **labels}}, write)
    body = note_body(kube, namespace)
    assert "From chart checkout@2.14.0 (last healthy checkout@2.13.4)." in body, body
    assert f"`flux suspend helmrelease checkout -n {namespace}`" in body, body
    found = delivery(kube, namespace)
    assert (found["historyId"], found["previousHistoryId"]) == (4, 3)
