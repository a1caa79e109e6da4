"""Which commit broke a rollout, through the real operator: an Argo CD Application and a Flux
Kustomization with history as their controllers write it, served from the CRDs of
``tests/support/crds``; the commit pair and the compare link reach the IncidentNote (at most
300 characters before its pointer, read back with ``kubectl describe``), the task's status
and its GitOps next step, and ``diagnose --live`` with a user's own credentials; an
Application that may not be read is said, not guessed."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from tests.support.apiserver.serve import GITOPS_CRDS, OPERATOR_TOKEN, RunningApiServer, declare_crd
from tests.support.controllers import SimulatedControllers
from tests.support.diagnose_cli import run_in_process
from tests.support.operator_process import OperatorProcess

from .conftest import eventually
from .test_agenttasks import CRASH_LOG
from .test_incidents import notes, tasks

pytestmark = pytest.mark.integration

OLD = "7e2b94c1d8a3f5062b1e9d4c7a8f3e5b2d6c1a94"
NEW = "c4d1a9e8f2b7360d5e9a1c8b4f7e2d6a3b5c9e01"
NOTE_MAX = 300
USER_TOKEN = "sam-token"


@pytest.fixture(scope="module", autouse=True)
def gitops_crds(apiserver: RunningApiServer) -> None:
    """The cluster runs Argo CD and Flux: their resources are served."""
    for path in GITOPS_CRDS:
        declare_crd(apiserver.emulator, path)


@pytest.fixture
def custom(api: client.ApiClient) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(api)


def _at(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def managed_rollout(
    cluster: SimulatedControllers, metadata: dict[str, Any], create_source: Any
) -> None:
    """checkout: revision 1 healthy, the GitOps source written as its controller would after
    syncing revision 2, then revision 2's pods crash-loop."""
    cluster.deployment("checkout", "registry.example.com/shop/checkout:2.13.4")
    cluster.apps.patch_namespaced_deployment("checkout", cluster.ns, {"metadata": metadata})
    cluster.rollout("checkout", 1, "registry.example.com/shop/checkout:2.13.4")
    cluster.deployment_status("checkout", updated=3, available=3)
    first_synced = datetime.now(UTC)
    time.sleep(1.1)  # the controller's record of sync 1 comes before revision 2 is created
    new = cluster.rollout("checkout", 2, "registry.example.com/shop/checkout:2.14.0")
    create_source(first_synced, datetime.now(UTC) + timedelta(seconds=1))
    for _ in range(3):
        cluster.crash_loop(cluster.pod(new), restarts=4, log=CRASH_LOG)
    cluster.deployment_status("checkout", updated=3, available=0)


def application(namespace: str, first: datetime, second: datetime) -> dict[str, Any]:
    source = {
        "repoURL": "https://github.com/example/shop-deploy.git",
        "path": "apps/checkout",
        "targetRevision": "main",
    }
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "checkout", "namespace": namespace},
        "spec": {
            "project": "default",
            "source": source,
            "destination": {"server": "https://kubernetes.default.svc", "namespace": namespace},
            "syncPolicy": {"automated": {"prune": True, "selfHeal": True}},
        },
        "status": {
            "sync": {"status": "Synced", "revision": NEW},
            "health": {"status": "Progressing"},
            "history": [
                {
                    "id": 11,
                    "revision": OLD,
                    "deployStartedAt": _at(first - timedelta(seconds=3)),
                    "deployedAt": _at(first),
                    "source": source,
                    "initiatedBy": {"automated": True},
                },
                {
                    "id": 12,
                    "revision": NEW,
                    "deployStartedAt": _at(second - timedelta(seconds=3)),
                    "deployedAt": _at(second),
                    "source": source,
                    "initiatedBy": {"automated": True},
                },
            ],
            "operationState": {"phase": "Succeeded", "finishedAt": _at(second)},
        },
    }


def tracking(cluster: SimulatedControllers) -> dict[str, Any]:
    # an Application outside Argo CD's namespace (apps in any namespace): <namespace>_<name>
    app = f"{cluster.ns}_checkout"
    return {
        "labels": {"app.kubernetes.io/instance": app},
        "annotations": {
            "argocd.argoproj.io/tracking-id": f"{app}:apps/Deployment:{cluster.ns}/checkout"
        },
    }


def kubectl(operator: OperatorProcess, namespace: str, *args: str) -> str:
    if shutil.which("kubectl") is None:
        pytest.fail("kubectl is required: it is how people read what the operator writes")
    return subprocess.run(
        ["kubectl", "--kubeconfig", str(operator.kubeconfig), "-n", namespace, *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout


def finished_task(cluster: SimulatedControllers) -> Any:
    return eventually(
        lambda: next(
            t for t in tasks(cluster) if (t.get("status") or {}).get("phase") == "Succeeded"
        ),
        what="incident task status",
    )


def test_argocd_commit_pair_and_compare_link_in_the_note_and_describe(
    cluster: SimulatedControllers, operator: OperatorProcess, custom: client.CustomObjectsApi
) -> None:
    def create(first: datetime, second: datetime) -> None:
        custom.create_namespaced_custom_object(
            "argoproj.io",
            "v1alpha1",
            cluster.ns,
            "applications",
            application(cluster.ns, first, second),
        )

    managed_rollout(cluster, tracking(cluster), create)
    (note,) = eventually(lambda: notes(cluster, "checkout"), what="IncidentNote")
    message = note["message"]
    body, _, pointer = message.partition(" (details: ")
    assert pointer == "kubectl describe agenttask incident-checkout-r2)"
    assert len(body) <= NOTE_MAX, (len(body), body)
    link = "https://github.com/example/shop-deploy/compare/7e2b94c...c4d1a9e"
    assert f"From commit c4d1a9e (last healthy 7e2b94c): {link}." in body
    assert f"`argocd app rollback {cluster.ns}/checkout 11`" in body

    described = " ".join(
        kubectl(operator, cluster.ns, "describe", "deployment", "checkout").split()
    )
    assert f"From commit c4d1a9e (last healthy 7e2b94c): {link}." in described

    delivery = finished_task(cluster)["status"]["rollout"]["delivery"]
    assert (delivery["commit"], delivery["previousCommit"]) == (NEW, OLD)
    assert (delivery["historyId"], delivery["previousHistoryId"]) == (12, 11)
    assert delivery["compareUrl"] == f"https://github.com/example/shop-deploy/compare/{OLD}...{NEW}"
    assert delivery["source"] == {
        "kind": "Application",
        "namespace": cluster.ns,
        "name": "checkout",
    }
    recommendations = finished_task(cluster)["status"]["recommendations"]
    assert recommendations[0].startswith(
        "Revert commit c4d1a9e in https://github.com/example/shop-deploy"
    )


def test_flux_kustomization_commit_pair_from_its_gitrepository(
    cluster: SimulatedControllers, operator: OperatorProcess, custom: client.CustomObjectsApi
) -> None:
    labels = {
        "kustomize.toolkit.fluxcd.io/name": "apps",
        "kustomize.toolkit.fluxcd.io/namespace": cluster.ns,
    }

    def create(first: datetime, second: datetime) -> None:
        custom.create_namespaced_custom_object(
            "source.toolkit.fluxcd.io",
            "v1",
            cluster.ns,
            "gitrepositories",
            {
                "apiVersion": "source.toolkit.fluxcd.io/v1",
                "kind": "GitRepository",
                "metadata": {"name": "fleet"},
                "spec": {
                    "url": "ssh://git@gitlab.com/example/fleet.git",
                    "interval": "1m",
                    "ref": {"branch": "main"},
                },
            },
        )
        custom.create_namespaced_custom_object(
            "kustomize.toolkit.fluxcd.io",
            "v1",
            cluster.ns,
            "kustomizations",
            {
                "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
                "kind": "Kustomization",
                "metadata": {"name": "apps"},
                "spec": {
                    "interval": "10m",
                    "path": "./apps/production",
                    "prune": True,
                    "sourceRef": {"kind": "GitRepository", "name": "fleet"},
                },
            },
        )
        # the controller writes its status through the status subresource, as kustomize-controller does
        custom.patch_namespaced_custom_object_status(
            "kustomize.toolkit.fluxcd.io",
            "v1",
            cluster.ns,
            "kustomizations",
            "apps",
            {
                "status": {
                    "lastAppliedRevision": f"main@sha1:{NEW}",
                    "lastAttemptedRevision": f"main@sha1:{NEW}",
                    "history": [
                        {
                            "digest": "sha256:2f1e",
                            "firstReconciled": _at(second),
                            "lastReconciled": _at(second),
                            "lastReconciledDuration": "1.2s",
                            "lastReconciledStatus": "ReconciliationSucceeded",
                            "totalReconciliations": 1,
                            "metadata": {"revision": f"main@sha1:{NEW}"},
                        },
                        {
                            "digest": "sha256:9a0b",
                            "firstReconciled": _at(first),
                            "lastReconciled": _at(first),
                            "lastReconciledDuration": "1.0s",
                            "lastReconciledStatus": "ReconciliationSucceeded",
                            "totalReconciliations": 12,
                            "metadata": {"revision": f"main@sha1:{OLD}"},
                        },
                    ],
                },
            },
        )

    managed_rollout(cluster, {"labels": labels}, create)
    (note,) = eventually(lambda: notes(cluster, "checkout"), what="IncidentNote")
    body = note["message"].partition(" (details: ")[0]
    assert len(body) <= NOTE_MAX, (len(body), body)
    assert (
        "From commit c4d1a9e (last healthy 7e2b94c): https://gitlab.com/example/fleet/-/compare/7e2b94c...c4d1a9e."
        in body
    )
    assert f"`flux suspend kustomization apps -n {cluster.ns}`" in body


@pytest.fixture
def applications_forbidden(apiserver: RunningApiServer) -> Iterator[None]:
    """The operator's ClusterRole without the optional Argo CD rule."""
    apiserver.emulator.denied[OPERATOR_TOKEN] = {("get", "applications")}
    yield
    apiserver.emulator.denied.pop(OPERATOR_TOKEN, None)


def test_an_application_the_operator_may_not_read_is_said_not_guessed(
    cluster: SimulatedControllers,
    operator: OperatorProcess,
    custom: client.CustomObjectsApi,
    applications_forbidden: None,
) -> None:
    def create(first: datetime, second: datetime) -> None:
        custom.create_namespaced_custom_object(
            "argoproj.io",
            "v1alpha1",
            cluster.ns,
            "applications",
            application(cluster.ns, first, second),
        )

    managed_rollout(cluster, tracking(cluster), create)
    (note,) = eventually(lambda: notes(cluster, "checkout"), what="IncidentNote")
    body = note["message"].partition(" (details: ")[0]
    assert f"Could not see its GitOps source (Application {cluster.ns}/checkout)." in body
    assert "c4d1a9e" not in body and len(body) <= NOTE_MAX
    delivery = finished_task(cluster)["status"]["rollout"]["delivery"]
    assert delivery["seen"] is False and "forbidden" in delivery["note"]


def test_diagnose_live_names_the_commit_with_the_users_own_credentials(
    cluster: SimulatedControllers,
    operator: OperatorProcess,
    custom: client.CustomObjectsApi,
    apiserver: RunningApiServer,
    tmp_path: Path,
) -> None:
    def create(first: datetime, second: datetime) -> None:
        custom.create_namespaced_custom_object(
            "argoproj.io",
            "v1alpha1",
            cluster.ns,
            "applications",
            application(cluster.ns, first, second),
        )

    managed_rollout(cluster, tracking(cluster), create)
    env = {"KUBECONFIG": str(apiserver.write_kubeconfig(tmp_path / "config", token=USER_TOKEN))}
    apiserver.emulator.tokens[USER_TOKEN] = {"username": "sam", "groups": ["oncall"]}
    ran = run_in_process(["--live", "-n", cluster.ns, "deploy/checkout", "-o", "table"], env)
    assert ran.code == 1, ran.err
    header, row = ran.out.splitlines()
    assert header.split()[-1] == "COMMIT" and row.split()[-1] == "c4d1a9e"
    # a user whose role stops at the namespace: the Application is not read, and it says so
    apiserver.emulator.denied[USER_TOKEN] = {("get", "applications")}
    try:
        ran = run_in_process(["--live", "-n", cluster.ns, "deploy/checkout"], env)
    finally:
        apiserver.emulator.denied.pop(USER_TOKEN, None)
    assert ran.code == 1, ran.err
    assert (
        f"Could not see the GitOps source Application {cluster.ns}/checkout: reading it is forbidden."
        in ran.out
    )
