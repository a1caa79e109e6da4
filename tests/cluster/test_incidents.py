"""A Deployment rolled to a crash-looping revision by kubectl, on the real control plane.

The real Deployment controller makes the ReplicaSets, the revision annotations and the
ProgressDeadlineExceeded condition; the played kubelet crash-loops the new revision's pods.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.support.cluster import TestCluster
from tests.support.operator_process import OperatorProcess

from .conftest import deployment, eventually

pytestmark = pytest.mark.cluster
GOOD = "registry.test/shop/checkout:2.13.4"
CRASHING = "registry.test/shop/checkout:2.14.0-crash"


def notes(kube: TestCluster, namespace: str, name: str) -> list[Any]:
    events = kube.kubectl_json(
        "-n", namespace, "get", "events", "--field-selector", "reason=IncidentNote"
    )["items"]
    return [e for e in events if e["involvedObject"]["name"] == name]


def tasks(kube: TestCluster, namespace: str) -> list[Any]:
    items: list[Any] = kube.kubectl_json("-n", namespace, "get", "agt")["items"]
    return items


def roll_to_crashing_revision(kube: TestCluster, namespace: str) -> None:
    kube.apply(
        {**deployment("checkout", GOOD), "metadata": {"name": "checkout", "namespace": namespace}}
    )
    kube.kubectl("-n", namespace, "rollout", "status", "deploy/checkout", "--timeout=90s")
    kube.kubectl("-n", namespace, "set", "image", "deploy/checkout", f"app={CRASHING}")


def progress_deadline_exceeded(kube: TestCluster, namespace: str) -> bool:
    status = kube.kubectl_json("-n", namespace, "get", "deploy", "checkout")["status"]
    progressing = next(c for c in status["conditions"] if c["type"] == "Progressing")
    return progressing["reason"] == "ProgressDeadlineExceeded"


def test_a_crash_looping_rollout_gets_one_note_and_its_task_goes_with_it(
    installed: TestCluster, operator: OperatorProcess, namespace: str
) -> None:
    kube = installed
    roll_to_crashing_revision(kube, namespace)

    (note,) = eventually(lambda: notes(kube, namespace, "checkout"), what="the IncidentNote")
    assert note["type"] == "Warning" and note.get("count", 1) == 1
    assert "Revision 2 is failing (CrashLoopBackOff)" in note["message"], note["message"]
    assert "2.13.4" in note["message"] and "2.14.0-crash" in note["message"]
    described = " ".join(kube.kubectl("-n", namespace, "describe", "deploy", "checkout").split())
    assert "IncidentNote" in described and "Revision 2 is failing" in described

    task = eventually(
        lambda: next(
            t for t in tasks(kube, namespace) if t.get("status", {}).get("phase") == "Succeeded"
        ),
        what="the incident task's diagnosis",
    )
    assert task["metadata"]["name"] == "incident-checkout-r2"
    status = task["status"]
    assert status["rootCause"] == "CrashLoopBackOff"
    assert status["rollout"]["revision"] == 2 and status["rollout"]["previousRevision"] == 1
    assert any("2.14.0-crash" in change for change in status["rollout"]["changes"])
    crash = next(f for f in status["findings"] if f["code"] == "CrashLoopBackOff")
    # The log tail came through pods/log of the real API server from the played kubelet.
    assert any("fatal: cannot start" in line for line in crash["evidence"]), crash["evidence"]

    # The controller gives up on the rollout; more restarts come; still one note.
    eventually(lambda: progress_deadline_exceeded(kube, namespace), what="ProgressDeadlineExceeded")
    time.sleep(5)
    (again,) = notes(kube, namespace, "checkout")
    assert again["metadata"]["name"] == note["metadata"]["name"] and again.get("count", 1) == 1
    assert [t["metadata"]["name"] for t in tasks(kube, namespace)] == ["incident-checkout-r2"]

    # The garbage collector deletes the task with its Deployment (ownerReferences).
    kube.kubectl("-n", namespace, "delete", "deploy", "checkout", "--wait=true")
    eventually(lambda: tasks(kube, namespace) == [], what="the task garbage-collected")
