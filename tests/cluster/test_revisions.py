"""StatefulSets and DaemonSets rolled to a failing revision: the diff from real ControllerRevisions."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.cluster import TestCluster
from tests.support.operator_process import OperatorProcess

from .conftest import eventually

pytestmark = pytest.mark.cluster


def workload(kind: str, name: str, image: str) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "selector": {"matchLabels": {"app": name}},
        "template": {
            "metadata": {"labels": {"app": name}},
            "spec": {"containers": [{"name": "main", "image": image}]},
        },
    }
    if kind == "StatefulSet":
        spec |= {"replicas": 2, "serviceName": name}
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name}, "spec": spec}


def ask(kube: TestCluster, namespace: str, kind: str, name: str) -> Any:
    kube.apply(
        {
            "apiVersion": "devops.highpeaks.io/v1alpha1",
            "kind": "AgentTask",
            "metadata": {"name": f"why-{name}", "namespace": namespace},
            "spec": {"target": {"kind": kind, "name": name}, "question": "what changed?"},
        }
    )

    def answered() -> Any:
        found = kube.kubectl_json("-n", namespace, "get", "agt", f"why-{name}")
        assert found["status"]["phase"] == "Succeeded"
        return found["status"]

    return eventually(answered, what=f"the diagnosis of {kind} {name}")


@pytest.mark.parametrize(
    ("kind", "short", "name"), [("StatefulSet", "sts", "db"), ("DaemonSet", "ds", "agent")]
)
def test_a_failing_revision_names_the_change(
    installed: TestCluster,
    operator: OperatorProcess,
    namespace: str,
    kind: str,
    short: str,
    name: str,
) -> None:
    kube = installed
    good, bad = f"registry.test/infra/{name}:1.0", f"registry.test/infra/{name}:1.1-crash"
    kube.apply({**workload(kind, name, good), "metadata": {"name": name, "namespace": namespace}})
    kube.kubectl("-n", namespace, "rollout", "status", f"{short}/{name}", "--timeout=90s")
    kube.kubectl("-n", namespace, "set", "image", f"{short}/{name}", f"main={bad}")

    def new_revision_crashing() -> bool:
        pods = kube.kubectl_json("-n", namespace, "get", "pods", "-l", f"app={name}")["items"]
        return any(
            s.get("restartCount", 0) >= 3 and s["image"] == bad
            for p in pods
            for s in p["status"].get("containerStatuses", [])
        )

    eventually(new_revision_crashing, what=f"the new revision of {name} crash-looping")
    revisions = kube.kubectl_json("-n", namespace, "get", "controllerrevisions")["items"]
    assert len(revisions) == 2, [r["metadata"]["name"] for r in revisions]

    status = ask(kube, namespace, kind, name)
    assert status["rootCause"] == "CrashLoopBackOff", status
    rollout = status["rollout"]
    assert (rollout["revision"], rollout["previousRevision"]) == (2, 1), rollout
    assert any(good in change and bad in change for change in rollout["changes"]), rollout
