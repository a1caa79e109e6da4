"""`kubectl highpeaks approve` and `kubectl highpeaks actions`, as kubectl runs the plugin,
against the real API server: the approval carries the name the server knows the user by."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.cluster import ROOT, TestCluster

from .test_assist_rights import grant

pytestmark = pytest.mark.cluster

PROPOSALS = [
    {
        "id": "rollback-to-1",
        "action": "rollback",
        "target": {"kind": "Deployment", "name": "checkout"},
        "change": "container app image: shop/checkout:2 -> shop/checkout:1",
        "why": "CrashLoopBackOff since revision 2",
    },
    {
        "id": "pause",
        "action": "pause",
        "target": {"kind": "Deployment", "name": "checkout"},
        "change": "spec.paused: false -> true",
        "refused": "Argo CD manages deployment/checkout: its self-heal would undo a pause",
        "instead": "argocd app rollback shop 4",
    },
]


def plugin(kube: TestCluster, kubeconfig: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``kubectl highpeaks …``: kubectl itself finds ``kubectl-highpeaks`` on PATH."""
    path = os.pathsep.join((str(Path(sys.executable).parent), os.environ.get("PATH", "")))
    return subprocess.run(
        [str(kube.control_plane.kubectl_path), "highpeaks", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
        env={**os.environ, "PATH": path, "KUBECONFIG": str(kubeconfig)},
    )


def task_with_proposals(kube: TestCluster, namespace: str, name: str) -> None:
    kube.apply(
        {
            "apiVersion": "devops.highpeaks.io/v1alpha1",
            "kind": "AgentTask",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"target": {"kind": "Deployment", "name": "checkout"}},
        }
    )
    status = {"status": {"phase": "Succeeded", "proposedActions": PROPOSALS}}
    kube.kubectl(
        "-n", namespace, "patch", "agenttask", name, "--subresource=status",
        "--type=merge", "-p", json.dumps(status),
    )  # fmt: skip


def may_approve(kube: TestCluster, namespace: str, user: str) -> None:
    kube.apply(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": "approver", "namespace": namespace},
            "rules": [
                {
                    "apiGroups": ["devops.highpeaks.io"],
                    "resources": ["agenttasks"],
                    "verbs": ["get", "patch"],
                },
                # what the actions component's policy asks of an approver, when it is installed
                {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["patch"]},
            ],
        }
    )
    grant(kube, namespace, user, {"kind": "Role", "name": "approver"})


def spec_of(kube: TestCluster, namespace: str, name: str) -> Any:
    return kube.kubectl_json("-n", namespace, "get", "agenttask", name)["spec"]


def test_approve_writes_the_users_own_name(installed: TestCluster, namespace: str) -> None:
    kube = installed
    task_with_proposals(kube, namespace, "why-checkout")
    may_approve(kube, namespace, "alice")
    alice = kube.user_kubeconfig("alice", namespace)

    listed = plugin(kube, alice, "actions", "why-checkout")
    assert listed.returncode == 0, listed.stderr
    assert "rollback-to-1: deployment/checkout — container app image" in listed.stdout
    assert (
        "awaiting approval: kubectl highpeaks approve why-checkout rollback-to-1" in listed.stdout
    )
    assert (
        "refused: Argo CD manages" in listed.stdout
        and "argocd app rollback shop 4" in listed.stdout
    )

    approved = plugin(kube, alice, "approve", "why-checkout", "rollback-to-1")
    assert approved.returncode == 0, approved.stderr
    assert "approved: rollback-to-1" in approved.stdout and "by alice" in approved.stdout
    assert spec_of(kube, namespace, "why-checkout")["approval"] == {
        "action": "rollback-to-1",
        "by": "alice",
    }
    after = json.loads(plugin(kube, alice, "actions", "why-checkout", "-o", "json").stdout)
    assert after["approval"] == {"action": "rollback-to-1", "by": "alice"}
    shown = plugin(kube, alice, "actions", "why-checkout").stdout
    assert "approved by alice, not yet run" in shown


def test_what_can_never_be_approved_is_refused_before_asking(
    installed: TestCluster, namespace: str
) -> None:
    kube = installed
    task_with_proposals(kube, namespace, "why-checkout")
    may_approve(kube, namespace, "alice")
    alice = kube.user_kubeconfig("alice", namespace)

    unknown = plugin(kube, alice, "approve", "why-checkout", "restart")
    assert unknown.returncode == 2
    assert "proposes no action 'restart' (it proposes: rollback-to-1, pause" in unknown.stderr
    refused = plugin(kube, alice, "approve", "why-checkout", "pause")
    assert refused.returncode == 2 and "instead: argocd app rollback shop 4" in refused.stderr
    missing = plugin(kube, alice, "approve", "no-such-task", "pause")
    assert missing.returncode == 2
    assert f"no AgentTask 'no-such-task' in namespace {namespace}" in missing.stderr
    assert "approval" not in spec_of(kube, namespace, "why-checkout")

    assert plugin(kube, alice, "approve", "why-checkout", "rollback-to-1").returncode == 0
    again = plugin(kube, alice, "approve", "why-checkout", "rollback-to-1")
    assert again.returncode == 2 and "already approved: rollback-to-1 by alice" in again.stderr


def test_an_approval_cannot_be_rewritten(installed: TestCluster, namespace: str) -> None:
    """Once given, the approval stays as the API server admitted it (the CRD's rule)."""
    kube = installed
    task_with_proposals(kube, namespace, "why-checkout")
    may_approve(kube, namespace, "alice")
    alice = kube.user_kubeconfig("alice", namespace)
    assert plugin(kube, alice, "approve", "why-checkout", "rollback-to-1").returncode == 0
    forged = {"spec": {"approval": {"action": "rollback-to-1", "by": "carol"}}}
    rewrite = kube.kubectl_run(
        "-n", namespace, "patch", "agenttask", "why-checkout", "--type=merge",
        "-p", json.dumps(forged),
    )  # fmt: skip
    assert rewrite.returncode != 0
    assert "an approval, once given, cannot be changed" in rewrite.stderr
    assert spec_of(kube, namespace, "why-checkout")["approval"]["by"] == "alice"


def test_a_user_who_may_not_write_the_task_is_told_so(
    installed: TestCluster, namespace: str
) -> None:
    kube = installed
    task_with_proposals(kube, namespace, "why-checkout")
    kube.apply(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": "task-reader", "namespace": namespace},
            "rules": [
                {
                    "apiGroups": ["devops.highpeaks.io"],
                    "resources": ["agenttasks"],
                    "verbs": ["get", "list"],
                }
            ],
        }
    )
    grant(kube, namespace, "bob", {"kind": "Role", "name": "task-reader"})
    bob = kube.user_kubeconfig("bob", namespace)
    refused = plugin(kube, bob, "approve", "why-checkout", "rollback-to-1")
    assert refused.returncode == 2
    assert "HTTP 403" in refused.stderr and 'User "bob" cannot patch' in refused.stderr
    assert "approval" not in spec_of(kube, namespace, "why-checkout")
