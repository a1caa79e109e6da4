"""People's rights on AgentTasks come with the roles they already hold: the shipped
ClusterRoles are aggregated by the real controller-manager into the built-in ``view``, ``edit``
and ``admin``. alice may view the namespace, carol may edit it, bob holds nothing there."""

from __future__ import annotations

import json

import pytest

from tests.support.cluster import TestCluster

from .conftest import eventually
from .test_assist_rights import grant

pytestmark = pytest.mark.cluster


def task(name: str) -> str:
    return json.dumps(
        {
            "apiVersion": "devops.highpeaks.io/v1alpha1",
            "kind": "AgentTask",
            "metadata": {"name": name},
            "spec": {"target": {"kind": "Deployment", "name": "checkout"}},
        }
    )


def may(kube: TestCluster, user: str, namespace: str, verb: str, resource: str) -> bool:
    done = kube.kubectl_run(
        "auth", "can-i", verb, resource, "-n", namespace, kubeconfig=kube.user_kubeconfig(user)
    )
    return done.stdout.strip() == "yes"


def test_viewers_read_tasks_editors_ask_and_approve_others_neither(
    installed: TestCluster, namespace: str
) -> None:
    kube = installed
    grant(kube, namespace, "alice", {"kind": "ClusterRole", "name": "view"})
    grant(kube, namespace, "carol", {"kind": "ClusterRole", "name": "edit"})
    # the aggregation controller folds the shipped roles in; it may take a moment
    eventually(lambda: may(kube, "carol", namespace, "create", "agenttasks.devops.highpeaks.io"))
    eventually(lambda: may(kube, "alice", namespace, "list", "agenttasks.devops.highpeaks.io"))

    carol = kube.user_kubeconfig("carol")
    kube.kubectl("-n", namespace, "create", "-f", "-", kubeconfig=carol, stdin=task("why"))
    approval = {"spec": {"approval": {"action": "rollback-to-1", "by": "carol"}}}
    kube.kubectl(
        "-n", namespace, "patch", "agenttask", "why", "--type=merge",
        "-p", json.dumps(approval), kubeconfig=carol,
    )  # fmt: skip

    alice = kube.user_kubeconfig("alice")
    listed = kube.kubectl_json("-n", namespace, "get", "agt", kubeconfig=alice)
    assert [t["metadata"]["name"] for t in listed["items"]] == ["why"]
    refused = kube.kubectl_run(
        "-n", namespace, "create", "-f", "-", kubeconfig=alice, stdin=task("mine")
    )
    assert refused.returncode != 0 and "forbidden" in refused.stderr
    assert not may(kube, "alice", namespace, "patch", "agenttasks.devops.highpeaks.io")

    for verb in ("get", "list", "create"):
        assert not may(kube, "bob", namespace, verb, "agenttasks.devops.highpeaks.io"), verb
    # the roles give people AgentTasks and nothing of the operator's own rights
    role = kube.kubectl_json("get", "clusterrole", "highpeaks-agent-view")
    assert {r for rule in role["rules"] for r in rule["resources"]} == {
        "agenttasks",
        "agenttasks/status",
    }
