"""An AgentTask applied with kubectl on the real API server: columns, describe, nothing pruned."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.cluster import TestCluster
from tests.support.operator_process import OperatorProcess

from .conftest import deployment, eventually

pytestmark = pytest.mark.cluster
AGENT = "system:serviceaccount:highpeaks-system:highpeaks-agent"


def task(namespace: str, name: str, target: str) -> dict[str, Any]:
    return {
        "apiVersion": "devops.highpeaks.io/v1alpha1",
        "kind": "AgentTask",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "target": {"kind": "Deployment", "name": target},
            "question": "Why is it failing after the last release?",
        },
    }


def leaves(value: Any, path: str = "") -> dict[str, Any]:
    """Every scalar of a JSON document by its path (lists by index)."""
    if isinstance(value, dict):
        found: dict[str, Any] = {}
        for key, item in value.items():
            found |= leaves(item, f"{path}.{key}")
        return found
    if isinstance(value, list):
        found = {}
        for index, item in enumerate(value):
            found |= leaves(item, f"{path}[{index}]")
        return found
    return {path: value}


def test_a_task_applied_with_kubectl_is_answered_and_shown(
    installed: TestCluster, operator: OperatorProcess, namespace: str
) -> None:
    kube = installed
    kube.apply(
        {
            **deployment("api", "registry.test/shop/api:1.0-crash"),
            "metadata": {"name": "api", "namespace": namespace},
        }
    )
    kube.apply(task(namespace, "why-api", "api"))

    def diagnosed() -> Any:
        found = kube.kubectl_json("-n", namespace, "get", "agt", "why-api")
        assert (
            found["status"]["phase"] == "Succeeded"
            and found["status"]["rootCause"] == "CrashLoopBackOff"
        )
        return found

    found = eventually(diagnosed, what="the task's diagnosis")
    header, row = kube.kubectl("-n", namespace, "get", "agt").splitlines()
    assert header.split() == ["NAME", "TARGET", "PHASE", "SEVERITY", "ROOT", "CAUSE", "AGE"]
    assert row.split()[:5] == [
        "why-api",
        "api",
        "Succeeded",
        found["status"]["severity"],
        "CrashLoopBackOff",
    ]
    described = kube.kubectl("-n", namespace, "describe", "agt", "why-api")
    assert (
        "Root Cause:" in described and "CrashLoopBackOff" in described and "Diagnosed" in described
    )


def test_every_status_field_the_operator_writes_reads_back_unchanged(
    installed: TestCluster, operator: OperatorProcess, namespace: str
) -> None:
    """The audit log holds each status patch the operator sent and the object the server kept
    after it: a field the CRD's structural schema does not declare would be pruned silently."""
    kube = installed
    kube.apply(
        {
            **deployment("web", "registry.test/shop/web:1.0-crash"),
            "metadata": {"name": "web", "namespace": namespace},
        }
    )
    kube.apply(task(namespace, "why-web", "web"))
    eventually(
        lambda: (
            kube.kubectl_json("-n", namespace, "get", "agt", "why-web")["status"]["phase"]
            == "Succeeded"
        ),
        what="the task's diagnosis",
    )

    def patches() -> list[Any]:
        found = [
            e
            for e in kube.control_plane.audit(AGENT)
            if e.get("objectRef", {}).get("name") == "why-web"
            and e["objectRef"].get("subresource") == "status"
            and e.get("responseStatus", {}).get("code") == 200
            and e.get("stage") == "ResponseComplete"
        ]
        assert any(leaves(p["requestObject"]).get(".status.phase") == "Succeeded" for p in found)
        return found

    checked = 0
    for entry in eventually(patches, what="the status patches in the audit log"):
        kept = leaves(entry["responseObject"])
        for path, value in leaves(entry["requestObject"]).items():
            if value is None or not path.startswith(".status"):
                continue  # a null in a merge patch deletes; metadata is the server's
            assert kept.get(path) == value, f"{path}: sent {value!r}, kept {kept.get(path)!r}"
            checked += 1
    assert checked > 20
