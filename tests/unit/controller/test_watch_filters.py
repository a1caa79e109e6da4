"""The pod watch filter wakes the incident monitor for causes no container status shows: a pod
no scheduler ever picked up, and a pod on a lost node. The bodies are the ones the API server,
the node lifecycle controller and the taint eviction controller really write."""

from __future__ import annotations

from typing import Any

import pytest

from highpeaks_agent.controller.watch_filters import pod_needs_look

from ..engine.builders import marked_not_ready, pod, running, ts, waiting


def ready_conditions(p: dict[str, Any]) -> dict[str, Any]:
    p["status"]["conditions"] = [
        {"type": kind, "status": "True", "lastProbeTime": None, "lastTransitionTime": ts(3000)}
        for kind in ("PodScheduled", "Initialized", "ContainersReady", "Ready")
    ]
    return p


def just_created(scheduler: str | None = None) -> dict[str, Any]:
    """A pod as the API server stores it on create: defaults filled in, nobody else wrote yet."""
    p = pod("checkout-7c9f8d6b5-x2k4q")
    del p["spec"]["nodeName"]
    if scheduler is not None:
        p["spec"]["schedulerName"] = scheduler
    p["status"] = {"phase": "Pending", "qosClass": "BestEffort"}
    return p


def evicted_by_taint_manager() -> dict[str, Any]:
    """Five minutes on: the taint eviction controller marks it, then deletes it; the kubelet
    being gone, the pod stays, Terminating, with its last container statuses."""
    p = marked_not_ready(pod("checkout-7c9f8d6b5-x2k4q"), seconds_ago=360)
    p["status"]["conditions"].append(
        {
            "type": "DisruptionTarget",
            "status": "True",
            "reason": "DeletionByTaintManager",
            "message": "Taint manager: deleting due to NoExecute taint",
            "lastProbeTime": None,
            "lastTransitionTime": ts(60),
        }
    )
    p["metadata"]["deletionTimestamp"] = ts(30)
    p["metadata"]["deletionGracePeriodSeconds"] = 30
    return p


def node_lost_reason() -> dict[str, Any]:
    """What older node controllers wrote before deleting the pods of a lost node."""
    return pod(
        "checkout-7c9f8d6b5-x2k4q",
        reason="NodeLost",
        message="Node worker-1 which was running pod checkout-7c9f8d6b5-x2k4q is unresponsive",
    )


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(just_created("batch-scheduler"), id="no-scheduler-picked-it-up"),
        pytest.param(just_created(), id="default-scheduler-never-looked"),
        pytest.param(marked_not_ready(pod("checkout-7c9f8d6b5-x2k4q")), id="marked-not-ready"),
        pytest.param(evicted_by_taint_manager(), id="taint-manager-eviction"),
        pytest.param(node_lost_reason(), id="status-reason-NodeLost"),
    ],
)
def test_causes_no_container_status_shows_wake_the_monitor(body: dict[str, Any]) -> None:
    statuses = body["status"].get("containerStatuses") or []
    assert all(cs.get("ready") for cs in statuses), "the containers look healthy"
    assert pod_needs_look(body)


def scheduled_creating() -> dict[str, Any]:
    p = pod(
        "checkout-7c9f8d6b5-x2k4q", phase="Pending", statuses=[waiting(reason="ContainerCreating")]
    )
    p["status"]["conditions"] = [
        {"type": "PodScheduled", "status": "True", "lastTransitionTime": ts(5)}
    ]
    return p


def bound_not_yet_started() -> dict[str, Any]:
    """Bound by the scheduler; the kubelet has not written anything yet."""
    p = just_created()
    p["spec"]["nodeName"] = "worker-1"
    p["status"]["conditions"] = [
        {"type": "PodScheduled", "status": "True", "lastTransitionTime": ts(1)}
    ]
    return p


def readiness_gate_pending() -> dict[str, Any]:
    """The kubelet's own Ready=False beside ContainersReady=True: a readiness gate not yet met."""
    p = ready_conditions(pod("checkout-7c9f8d6b5-x2k4q"))
    p["spec"]["readinessGates"] = [{"conditionType": "target-health.example.com/lb"}]
    p["status"]["conditions"][-1].update(status="False", reason="ReadinessGatesNotReady")
    return p


def replaced_in_a_rollout() -> dict[str, Any]:
    p = ready_conditions(pod("checkout-7c9f8d6b5-x2k4q"))
    p["metadata"]["deletionTimestamp"] = ts(5)
    return p


def drained() -> dict[str, Any]:
    """Evicted through the Eviction API (kubectl drain): intended, its node is fine."""
    p = replaced_in_a_rollout()
    p["status"]["conditions"].append(
        {
            "type": "DisruptionTarget",
            "status": "True",
            "reason": "EvictionByEvictionAPI",
            "message": "Eviction API: evicting",
            "lastTransitionTime": ts(5),
        }
    )
    return p


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(ready_conditions(pod("web-1", statuses=[running()])), id="healthy"),
        pytest.param(scheduled_creating(), id="scheduled-and-creating"),
        pytest.param(bound_not_yet_started(), id="bound-not-yet-started"),
        pytest.param(readiness_gate_pending(), id="readiness-gate-pending"),
        pytest.param(replaced_in_a_rollout(), id="replaced-in-a-rollout"),
        pytest.param(drained(), id="drained"),
    ],
)
def test_healthy_churn_stays_quiet(body: dict[str, Any]) -> None:
    assert not pod_needs_look(body)
