"""A failing rollout's incident task proposes the rollback through the real operator
(CONTRACT §10): in its status, with the exact change, and in the IncidentNote with the
command that approves it; nothing in the cluster changes on its own."""

from __future__ import annotations

import pytest

from tests.support.controllers import SimulatedControllers
from tests.support.operator_process import OperatorProcess

from .test_incidents import broken_rollout, one_incident

pytestmark = pytest.mark.integration

OLD, NEW = "registry.example.com/shop/checkout:2.13.4", "registry.example.com/shop/checkout:2.14.0"


def test_a_crash_looping_rollouts_incident_task_proposes_the_rollback(
    cluster: SimulatedControllers, operator: OperatorProcess
) -> None:
    broken_rollout(cluster)
    note, task = one_incident(cluster)
    assert task["metadata"]["name"] == "incident-checkout-r2"
    (action,) = task["status"]["proposedActions"]
    assert action == {
        "id": "rollback-to-1",
        "action": "rollback",
        "target": {"kind": "Deployment", "namespace": cluster.ns, "name": "checkout"},
        "change": f"container app image: {NEW} -> {OLD}",
        "why": action["why"],
        "refused": "",
        "instead": "",
    }
    assert action["why"].startswith("The root cause (CrashLoopBackOff.ConfigMissing: ")
    assert action["why"].endswith(
        "started with revision 2; revision 1 before it is the last healthy one."
    )
    assert note["message"].endswith(
        "approve: kubectl highpeaks approve incident-checkout-r2 rollback-to-1"
    ), note["message"]
    deployment = cluster.read_deployment("checkout")
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == NEW
    assert not deployment["spec"].get("paused"), "a proposal runs nothing"
