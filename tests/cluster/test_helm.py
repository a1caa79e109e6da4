"""The Helm chart installed, upgraded and uninstalled on the real control plane with the
`helm` built from the Go module proxy, into a namespace that enforces PodSecurity `restricted`.

The session's dev overlay already owns the cluster-scoped objects named highpeaks-agent, so
the release renames its objects (nameOverride) as a second install in a cluster would."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from tests.support.cluster import ROOT, TestCluster
from tests.unit.shipping.shipped import helm_binary

from .conftest import eventually

pytestmark = pytest.mark.cluster
CHART = str(ROOT / "k8s" / "helm" / "highpeaks-agent")
NAMESPACE = "hp-helm"
NAME = "hp-helm-agent"
RELEASE = "agent"


def helm(kube: TestCluster, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [helm_binary(), "--kubeconfig", str(kube.admin_kubeconfig), "-n", NAMESPACE, *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=ROOT,
    )


def release_objects(kube: TestCluster) -> list[tuple[str, str]]:
    """(kind, name) of everything in the cluster labelled as the release's."""
    selector = f"app.kubernetes.io/instance={RELEASE},app.kubernetes.io/managed-by=Helm"
    kinds = "deploy,svc,cm,secret,sa,pdb,networkpolicy,clusterrole,clusterrolebinding"
    found: list[Any] = kube.kubectl_json("get", kinds, "-A", "-l", selector)["items"]
    found += kube.kubectl_json("get", "clusterkopfpeering", "-l", selector)["items"]
    return sorted((o["kind"], o["metadata"]["name"]) for o in found)


def test_install_upgrade_and_uninstall_under_restricted_pod_security(
    installed: TestCluster,
) -> None:
    kube = installed
    kube.namespace(NAMESPACE, {"pod-security.kubernetes.io/enforce": "restricted"})
    done = helm(
        kube,
        "install",
        RELEASE,
        CHART,
        "--set",
        f"nameOverride={NAME}",
        "--wait",
        "--timeout",
        "120s",
    )
    assert done.returncode == 0, done.stderr
    assert "kubectl" in done.stdout  # NOTES.txt: what to try first
    objects = release_objects(kube)
    assert ("Deployment", NAME) in objects and ("ClusterRole", NAME) in objects
    assert ("NetworkPolicy", NAME) in objects
    deployment = kube.kubectl_json("-n", NAMESPACE, "get", "deploy", NAME)
    assert deployment["status"]["readyReplicas"] == 2  # PodSecurity admitted the pods

    done = helm(
        kube,
        "upgrade",
        RELEASE,
        CHART,
        "--reuse-values",
        "--set",
        "replicaCount=1",
        "--set",
        "settings.LOG_FORMAT=json",
        "--wait",
        "--timeout",
        "120s",
    )
    assert done.returncode == 0, done.stderr
    config = kube.kubectl_json("-n", NAMESPACE, "get", "cm", NAME)["data"]
    assert config["LOG_FORMAT"] == "json"
    eventually(
        lambda: (
            kube.kubectl_json("-n", NAMESPACE, "get", "deploy", NAME)["status"].get("replicas") == 1
        ),
        what="the upgrade's one replica",
    )

    done = helm(kube, "uninstall", RELEASE, "--wait", "--timeout", "120s")
    assert done.returncode == 0, done.stderr
    assert release_objects(kube) == []
    # As Helm does: the CRDs of the chart's crds/ stay.
    assert kube.kubectl_run("get", "crd", "agenttasks.devops.highpeaks.io").returncode == 0


@pytest.mark.parametrize(
    ("flag", "message"),
    [
        ("replicaCount=-1", "minimum: got -1, want 0"),
        ("replicas=2", "additional properties 'replicas' not allowed"),
    ],
)
def test_bad_values_fail_the_install_with_the_schemas_message(
    installed: TestCluster, flag: str, message: str
) -> None:
    kube = installed
    kube.namespace(NAMESPACE, {"pod-security.kubernetes.io/enforce": "restricted"})
    done = helm(kube, "install", "bad", CHART, "--set", "nameOverride=hp-bad", "--set", flag)
    assert done.returncode != 0
    assert message in done.stderr, done.stderr
    releases = json.loads(helm(kube, "list", "-o", "json").stdout or "[]")
    assert "bad" not in [release["name"] for release in releases]
