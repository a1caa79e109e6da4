"""Failing rollouts through the real operator: one incident task, one IncidentNote, no noise."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client

from tests.support.controllers import SimulatedControllers
from tests.support.operator_process import OperatorProcess

from .conftest import eventually, read_json
from .test_agenttasks import CRASH_LOG, GROUP, PLURAL, VERSION

pytestmark = pytest.mark.integration


def notes(cluster: SimulatedControllers, deployment: str) -> list[Any]:
    events = read_json(cluster.core.list_namespaced_event, cluster.ns)["items"]
    return [
        e
        for e in events
        if e["reason"] == "IncidentNote" and e["involvedObject"]["name"] == deployment
    ]


def tasks(cluster: SimulatedControllers) -> list[Any]:
    custom = client.CustomObjectsApi(cluster.core.api_client)
    items = custom.list_namespaced_custom_object(GROUP, VERSION, cluster.ns, PLURAL)["items"]
    return sorted(items, key=lambda t: t["metadata"]["name"])


def settle(operator: OperatorProcess) -> None:
    """Long enough for a debounced look (0.5 s) and its writes, several times over."""
    import time

    time.sleep(3)


def broken_rollout(cluster: SimulatedControllers) -> tuple[str, list[str]]:
    """checkout r1 healthy, then r2 whose three pods crash-loop."""
    cluster.deployment("checkout", "registry.example.com/shop/checkout:2.13.4")
    old = cluster.rollout("checkout", 1, "registry.example.com/shop/checkout:2.13.4")
    cluster.deployment_status("checkout", updated=3, available=3)
    new = cluster.rollout("checkout", 2, "registry.example.com/shop/checkout:2.14.0")
    pods = [cluster.pod(new) for _ in range(3)]
    for pod in pods:
        cluster.crash_loop(pod, restarts=4, log=CRASH_LOG)
    cluster.deployment_status("checkout", updated=3, available=0)
    del old
    return new, pods


def one_incident(cluster: SimulatedControllers) -> tuple[Any, Any]:
    (note,) = eventually(lambda: notes(cluster, "checkout"), what="IncidentNote")
    task = eventually(
        lambda: next(
            t for t in tasks(cluster) if (t.get("status") or {}).get("phase") == "Succeeded"
        ),
        what="incident task status",
    )
    return note, task


def test_crash_looping_rollout_gets_one_task_and_one_note(
    cluster: SimulatedControllers, operator: OperatorProcess
) -> None:
    _, pods = broken_rollout(cluster)
    note, task = one_incident(cluster)
    deployment = cluster.read_deployment("checkout")

    assert (note["type"], note["count"]) == ("Warning", 1)
    assert note["involvedObject"]["kind"] == "Deployment"
    assert note["involvedObject"]["uid"] == deployment["metadata"]["uid"]
    print(note["message"])
    assert (
        "Revision 2 is failing (CrashLoopBackOff.ConfigMissing)" in note["message"]
        and "CrashLoopBackOff" in note["message"]
    )
    assert "checkout:2.13.4" in note["message"] and "2.14.0" in note["message"]

    assert [t["metadata"]["name"] for t in tasks(cluster)] == ["incident-checkout-r2"]
    assert task["metadata"]["labels"]["devops.highpeaks.io/trigger"] == "auto"
    (owner,) = task["metadata"]["ownerReferences"]
    assert (owner["kind"], owner["uid"]) == ("Deployment", deployment["metadata"]["uid"])
    status = task["status"]
    assert (status["rootCause"], status["severity"]) == (
        "CrashLoopBackOff.ConfigMissing",
        "critical",
    )
    assert status["rollout"]["revision"] == 2 and status["rollout"]["previousRevision"] == 1
    assert any("2.14.0" in change for change in status["rollout"]["changes"])

    # Restart counters ticking and pods being replaced: still one note, still one task.
    for restarts in range(5, 25):
        cluster.crash_loop(pods[restarts % 3], restarts=restarts, log=CRASH_LOG)
    replaced = pods[0]
    cluster.delete_pod(replaced)
    newcomer = cluster.pod(replaced.rsplit("-", 1)[0])
    cluster.crash_loop(newcomer, restarts=4, log=CRASH_LOG)
    settle(operator)
    (note,) = notes(cluster, "checkout")
    assert note["count"] == 1
    assert [t["metadata"]["name"] for t in tasks(cluster)] == ["incident-checkout-r2"]


def test_pods_on_a_lost_node_get_a_note_with_the_nodes_evidence(
    cluster: SimulatedControllers, operator: OperatorProcess
) -> None:
    """The kubelet stops reporting: the node lifecycle controller marks the node Unknown,
    taints it and flips its pods' Ready condition; their containers still look healthy, and
    the Deployment's own status is not touched, so only the pods' watch events can tell."""
    node = f"worker-{cluster.ns}"
    cluster.node(node)
    cluster.deployment("checkout", "registry.example.com/shop/checkout:2.13.4", replicas=2)
    rs = cluster.rollout("checkout", 1, "registry.example.com/shop/checkout:2.13.4")
    pods = [cluster.pod(rs, node=node) for _ in range(2)]
    for pod in pods:
        cluster.running(pod)
    cluster.deployment_status("checkout", updated=2, available=2)
    settle(operator)
    assert notes(cluster, "checkout") == [], "a healthy Deployment on a healthy node is quiet"

    cluster.node_unreachable(node)
    for pod in pods:
        cluster.mark_not_ready(pod)
    note, task = one_incident(cluster)
    assert "Revision 1 is failing (NodeNotReady)" in note["message"], note["message"]
    assert f"kubectl describe node {node}" in note["message"]
    status = task["status"]
    assert status["rootCause"] == "NodeNotReady"
    assert {f["code"] for f in status["findings"]} == {"NodeNotReady"}
    evidence = status["findings"][0]["evidence"]
    # the node's own evidence, read from the Node (the pod alone only says "Node is not ready")
    assert evidence[0].startswith(
        f"node {node}: Ready=Unknown (NodeStatusUnknown: Kubelet stopped posting node status.)"
    )
    assert f"node {node}: taint node.kubernetes.io/unreachable:NoExecute" in evidence


def test_operator_restart_posts_nothing_new(
    cluster: SimulatedControllers, operator: OperatorProcess
) -> None:
    _, pods = broken_rollout(cluster)
    one_incident(cluster)
    operator.stop()
    operator.start()
    cluster.crash_loop(pods[0], restarts=9, log=CRASH_LOG)
    settle(operator)
    (note,) = notes(cluster, "checkout")
    assert note["count"] == 1
    assert len(tasks(cluster)) == 1


def test_new_root_cause_on_the_same_revision_posts_one_new_note(
    cluster: SimulatedControllers, operator: OperatorProcess
) -> None:
    _, pods = broken_rollout(cluster)
    one_incident(cluster)
    for pod in pods:
        cluster.oom_loop(pod, restarts=7)

    def two_notes() -> list[Any]:
        found = notes(cluster, "checkout")
        return found if len(found) == 2 else []

    found = eventually(two_notes, what="a second IncidentNote")
    assert any("OOMKilled" in n["message"] for n in found)
    (task,) = tasks(cluster)
    assert task["metadata"]["annotations"]["devops.highpeaks.io/failure-signature"] == "OOMKilled"
    assert eventually(lambda: tasks(cluster)[0]["status"]["rootCause"] == "OOMKilled")
    settle(operator)
    assert len(notes(cluster, "checkout")) == 2


def test_recovery_resolves_the_incident_once(
    cluster: SimulatedControllers, operator: OperatorProcess
) -> None:
    _, pods = broken_rollout(cluster)
    one_incident(cluster)
    for pod in pods:
        cluster.running(pod)
    cluster.deployment_status("checkout", updated=3, available=3)

    def resolved() -> Any:
        (task,) = tasks(cluster)
        conditions = {c["type"]: c for c in task["status"]["conditions"]}
        return task if conditions.get("Resolved", {}).get("status") == "True" else None

    task = eventually(resolved, what="Resolved condition")
    cluster.deployment_status("checkout", updated=3, available=3)
    settle(operator)
    events = read_json(cluster.core.list_namespaced_event, cluster.ns)["items"]
    about_task = [e for e in events if e["involvedObject"].get("uid") == task["metadata"]["uid"]]
    resolved_events = [e for e in about_task if e["reason"] == "Resolved"]
    assert [(e["type"], e["count"]) for e in resolved_events] == [("Normal", 1)]


def test_incident_task_goes_with_its_deployment(
    cluster: SimulatedControllers, operator: OperatorProcess
) -> None:
    broken_rollout(cluster)
    one_incident(cluster)
    cluster.apps.delete_namespaced_deployment("checkout", cluster.ns)
    assert eventually(lambda: tasks(cluster) == [], what="the task to be garbage-collected") is True


def test_kubectl_shows_the_incident_where_people_look(
    cluster: SimulatedControllers, operator: OperatorProcess
) -> None:
    import shutil
    import subprocess

    if shutil.which("kubectl") is None:
        pytest.fail("kubectl is required: it is how people read what the operator writes")
    broken_rollout(cluster)
    one_incident(cluster)

    def kubectl(*args: str) -> str:
        return subprocess.run(
            ["kubectl", "--kubeconfig", str(operator.kubeconfig), "-n", cluster.ns, *args],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout

    header, row = kubectl("get", "agt").splitlines()
    assert header.split() == ["NAME", "TARGET", "PHASE", "SEVERITY", "ROOT", "CAUSE", "AGE"]
    assert row.split()[:5] == [
        "incident-checkout-r2",
        "checkout",
        "Succeeded",
        "critical",
        "CrashLoopBackOff.ConfigMissing",
    ]
    described = kubectl("describe", "deployment", "checkout")
    assert (
        "IncidentNote" in described
        and "Revision 2 is failing (CrashLoopBackOff.ConfigMissing)" in " ".join(described.split())
    )
    task = kubectl("describe", "agt", "incident-checkout-r2")
    assert "Root Cause:" in task and "CrashLoopBackOff" in task and "Diagnosed" in task
