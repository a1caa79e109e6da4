"""/assist on the real API server: TokenReview and SubjectAccessReviews decide what each user sees.

alice may view the namespace (the built-in ``view`` ClusterRole: pods, their logs, events,
workloads); carol may only get pods; bob has no rights there at all. The operator asks the
real server about each of them, with its own ServiceAccount's token.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.cluster import TestCluster
from tests.support.operator_process import OperatorProcess

from .conftest import crash_looping, deployment

pytestmark = pytest.mark.cluster
LOG_LINE = "payments: connection refused"


def grant(kube: TestCluster, namespace: str, user: str, role: dict[str, str]) -> None:
    kube.apply(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": f"{user}-{role['name']}", "namespace": namespace},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", **role},
            "subjects": [{"kind": "User", "name": user, "apiGroup": "rbac.authorization.k8s.io"}],
        }
    )


@pytest.fixture
def shop(installed: TestCluster, namespace: str) -> str:
    kube = installed
    app = deployment(
        "checkout",
        "registry.test/shop/checkout:2.14.0",
        command=["sh", "-c", f"echo 'starting checkout'; echo '{LOG_LINE}'; exit 1"],
    )
    kube.apply({**app, "metadata": {"name": "checkout", "namespace": namespace}})
    grant(kube, namespace, "alice", {"kind": "ClusterRole", "name": "view"})
    kube.apply(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": "pod-reader", "namespace": namespace},
            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}],
        }
    )
    grant(kube, namespace, "carol", {"kind": "Role", "name": "pod-reader"})

    crash_looping(kube, namespace, "checkout")
    return namespace


def ask(
    operator: OperatorProcess, token: str, namespace: str, target: dict[str, str]
) -> httpx.Response:
    return httpx.post(
        f"{operator.url}/assist",
        json={"query": "why is it down?", "namespace": namespace, "target": target},
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )


def first_pod(kube: TestCluster, namespace: str) -> str:
    pods: list[Any] = kube.kubectl_json("-n", namespace, "get", "pods", "-l", "app=checkout")[
        "items"
    ]
    name: str = pods[0]["metadata"]["name"]
    return name


def test_each_user_sees_what_their_own_rights_allow(
    installed: TestCluster, operator: OperatorProcess, shop: str
) -> None:
    kube = installed
    target = {"kind": "Deployment", "name": "checkout"}
    full = ask(operator, kube.user_token("alice"), shop, target)
    assert full.status_code == 200, full.text
    body = full.json()
    assert body["diagnoses"][0]["findings"][0]["code"].startswith("CrashLoopBackOff")
    assert LOG_LINE in full.text and not body.get("withheld")

    # carol may not get deployments: 403, the same for a Deployment that does not exist.
    denied = ask(operator, kube.user_token("carol"), shop, target)
    ghost = ask(operator, kube.user_token("carol"), shop, {**target, "name": "ghost"})
    assert denied.status_code == ghost.status_code == 403 and denied.json() == ghost.json()
    # ... but may ask about a pod, and is told what was withheld: no log, no events.
    limited = ask(
        operator, kube.user_token("carol"), shop, {"kind": "Pod", "name": first_pod(kube, shop)}
    )
    assert limited.status_code == 200, limited.text
    assert limited.json()["diagnoses"][0]["findings"][0]["code"].startswith("CrashLoopBackOff")
    assert LOG_LINE not in limited.text and "Back-off" not in limited.text
    assert limited.json()["withheld"] == ["container logs (get pods/log)", "events (list events)"]

    # The whole namespace (the operator lists every kind, then keeps what alice may read).
    everything = httpx.post(
        f"{operator.url}/assist",
        json={"query": "How is the namespace?", "namespace": shop},
        headers={"Authorization": f"Bearer {kube.user_token('alice')}"},
        timeout=60,
    )
    assert everything.status_code == 200, everything.text
    assert "checkout" in everything.json()["answer"]

    # bob has nothing in the namespace; a token the server does not know is 401.
    assert ask(operator, kube.user_token("bob"), shop, target).status_code == 403
    assert ask(operator, "not-a-token", shop, target).status_code == 401
