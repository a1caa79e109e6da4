"""A crash-looping rollout's incident task proposes the rollback on the real control plane
(CONTRACT §10): the real Deployment controller's ReplicaSets and revision annotations, the
proposal read back with kubectl, and nothing changed by the operator itself."""

from __future__ import annotations

import json

import pytest

from tests.support.cluster import TestCluster
from tests.support.operator_process import OperatorProcess

from .conftest import eventually
from .test_incidents import CRASHING, GOOD, roll_to_crashing_revision, tasks

pytestmark = pytest.mark.cluster


def test_a_crash_looping_rollouts_task_proposes_rollback_to_1_with_the_image_change(
    installed: TestCluster, operator: OperatorProcess, namespace: str
) -> None:
    kube = installed
    roll_to_crashing_revision(kube, namespace)
    eventually(
        lambda: next(
            t for t in tasks(kube, namespace) if t.get("status", {}).get("phase") == "Succeeded"
        ),
        what="the incident task's diagnosis",
    )
    proposed = json.loads(
        kube.kubectl(
            "-n", namespace, "get", "agt", "incident-checkout-r2",
            "-o", "jsonpath={.status.proposedActions}",
        )
    )  # fmt: skip
    by_id = {a["id"]: a for a in proposed}
    assert list(by_id) == ["rollback-to-1", "pause"], proposed
    rollback = by_id["rollback-to-1"]
    assert rollback["action"] == "rollback"
    assert rollback["target"] == {"kind": "Deployment", "namespace": namespace, "name": "checkout"}
    assert rollback["change"] == f"container app image: {CRASHING} -> {GOOD}"
    assert (
        "started with revision 2; revision 1 before it is the last healthy one" in rollback["why"]
    )
    # maxUnavailable 0 of 2 replicas: revision 1's two pods still serve, so a pause is proposed
    assert by_id["pause"]["change"] == "spec.paused: false -> true"
    assert "the 2 ready pods of older revisions" in by_id["pause"]["why"]
    described = " ".join(
        kube.kubectl("-n", namespace, "describe", "agt", "incident-checkout-r2").split()
    )
    assert "Proposed Actions:" in described and "rollback-to-1" in described, described

    deployment = kube.kubectl_json("-n", namespace, "get", "deploy", "checkout")
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == CRASHING
    assert not deployment["spec"].get("paused"), "a proposal runs nothing"
    annotations = deployment["metadata"]["annotations"]
    assert annotations["deployment.kubernetes.io/revision"] == "2"
