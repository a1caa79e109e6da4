"""Which workloads the periodic resync looks at again (CONTRACT §6): exactly the unfinished."""

from __future__ import annotations

from typing import Any

import pytest

from highpeaks_agent.controller.incidents import SIGNATURE_ANNOTATION
from highpeaks_agent.controller.resync import (
    PodSightings,
    bad_pods_by_workload,
    is_converged,
    unconverged,
)

CHECKOUT = ("shop", "Deployment", "checkout")


def deployment(*, revision: int = 2, available: int = 0, uid: str = "d-1") -> dict[str, Any]:
    return {
        "metadata": {
            "name": "checkout",
            "namespace": "shop",
            "uid": uid,
            "annotations": {"deployment.kubernetes.io/revision": str(revision)},
        },
        "spec": {"replicas": 3},
        "status": {
            "updatedReplicas": 3,
            "availableReplicas": available,
            "unavailableReplicas": 3 - available or None,
        },
    }


def incident(
    revision: int = 2,
    *,
    phase: str | None = "Succeeded",
    signature: str | None = "CrashLoopBackOff",
    resolved: bool = False,
    owner: str = "d-1",
) -> dict[str, Any]:
    annotations = {SIGNATURE_ANNOTATION: signature} if signature else {}
    status: dict[str, Any] = {"phase": phase} if phase else {}
    if resolved:
        status["conditions"] = [{"type": "Resolved", "status": "True"}]
    return {
        "metadata": {
            "name": f"incident-checkout-r{revision}",
            "namespace": "shop",
            "annotations": annotations,
            "ownerReferences": [{"kind": "Deployment", "name": "checkout", "uid": owner}],
        },
        "status": status,
    }


FAILING = deployment()
HEALTHY = deployment(available=3)


@pytest.mark.parametrize(
    ("deployments", "tasks", "expected"),
    [
        pytest.param([FAILING], [], [CHECKOUT], id="failing, no task yet"),
        pytest.param([FAILING], [incident(phase=None, signature=None)], [CHECKOUT],
                     id="task created, no status"),
        pytest.param([FAILING], [incident(signature=None)], [CHECKOUT],
                     id="status written, note not recorded"),
        pytest.param([FAILING], [incident()], [], id="finished incident"),
        pytest.param([FAILING], [incident(1)], [CHECKOUT],
                     id="finished incident of an older revision only"),
        pytest.param([FAILING], [incident(owner="other")], [CHECKOUT],
                     id="a task owned by a deleted namesake"),
        pytest.param([HEALTHY], [], [], id="healthy, nothing open"),
        pytest.param([HEALTHY], [incident()], [CHECKOUT],
                     id="healthy with an open incident to resolve"),
        pytest.param([HEALTHY], [incident(resolved=True)], [], id="resolved"),
    ],
)  # fmt: skip
def test_only_unfinished_work_is_looked_at_again(
    deployments: list[Any], tasks: list[Any], expected: list[tuple[str, str, str]]
) -> None:
    assert unconverged(deployments, tasks) == expected


def test_converged_needs_both_status_and_the_recorded_note() -> None:
    assert is_converged(incident())
    assert not is_converged(incident(phase=None))
    assert not is_converged(incident(signature=None))
    assert not is_converged(incident(phase="Running"))


def statefulset(*, ready: int = 0, update: str = "db-b2") -> dict[str, Any]:
    return {
        "kind": "StatefulSet",
        "metadata": {"name": "db", "namespace": "shop", "uid": "s-1", "generation": 2},
        "spec": {"replicas": 2},
        "status": {
            "observedGeneration": 2,
            "replicas": 2,
            "readyReplicas": ready,
            "updatedReplicas": 2,
            "currentRevision": "db-a1",
            "updateRevision": update,
        },
    }


def controller_revision(name: str, number: int) -> dict[str, Any]:
    return {
        "kind": "ControllerRevision",
        "metadata": {
            "name": name,
            "namespace": "shop",
            "uid": f"cr-{name}",
            "ownerReferences": [
                {"kind": "StatefulSet", "name": "db", "uid": "s-1", "controller": True}
            ],
        },
        "revision": number,
    }


def sts_incident(name: str) -> dict[str, Any]:
    task = incident()
    task["metadata"]["name"] = name
    task["metadata"]["ownerReferences"] = [{"kind": "StatefulSet", "name": "db", "uid": "s-1"}]
    return task


REVISIONS = [controller_revision("db-a1", 2), controller_revision("db-b2", 3)]


def test_a_statefulset_is_looked_at_until_its_update_revision_has_a_finished_incident() -> None:
    db = ("shop", "StatefulSet", "db")
    assert unconverged([statefulset()], [], REVISIONS) == [db]
    assert unconverged([statefulset()], [sts_incident("incident-sts-db-r2")], REVISIONS) == [db]
    assert unconverged([statefulset()], [sts_incident("incident-sts-db-r3")], REVISIONS) == []
    assert unconverged([statefulset(ready=2, update="db-a1")], [], REVISIONS) == []


def pod(name: str, owner_kind: str, owner: str, *, crashing: bool, version: str = "1") -> Any:
    waiting = {"waiting": {"reason": "CrashLoopBackOff"}} if crashing else {"running": {}}
    return {
        "metadata": {
            "name": name,
            "namespace": "shop",
            "resourceVersion": version,
            "ownerReferences": [{"kind": owner_kind, "name": owner, "controller": True}],
        },
        "spec": {"nodeName": "worker-1"},
        "status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [{"name": "app", "ready": not crashing, "state": waiting}],
        },
    }


def test_a_workload_whose_status_looks_fine_is_found_by_its_failing_pods() -> None:
    replicaset = {
        "metadata": {
            "name": "checkout-5d9f",
            "namespace": "shop",
            "ownerReferences": [{"kind": "Deployment", "name": "checkout", "controller": True}],
        }
    }
    pods = [
        pod("checkout-5d9f-1", "ReplicaSet", "checkout-5d9f", crashing=True),
        pod("db-0", "StatefulSet", "db", crashing=False),
        pod("nightly-1-x", "Job", "nightly-1", crashing=True),
    ]
    bad = bad_pods_by_workload(pods, [replicaset])
    assert set(bad) == {CHECKOUT, ("shop", "Job", "nightly-1")}
    # the Deployment's own status says all is well: only its pods tell
    assert unconverged([HEALTHY], [], failing_by_pods=[CHECKOUT]) == [CHECKOUT]
    assert unconverged([HEALTHY], [incident()], failing_by_pods=[CHECKOUT]) == []


def test_unchanged_bad_pods_are_looked_at_again_only_now_and_then() -> None:
    now = [0.0]
    sightings = PodSightings(clock=lambda: now[0])
    bad = {CHECKOUT: frozenset({("checkout-1", "7")})}
    assert sightings.worth_a_look(bad) == [CHECKOUT]
    now[0] = 30.0
    assert sightings.worth_a_look(bad) == []  # nothing changed: no diagnosis every period
    assert sightings.worth_a_look({CHECKOUT: frozenset({("checkout-1", "8")})}) == [CHECKOUT]
    now[0] = 400.0
    assert sightings.worth_a_look({CHECKOUT: frozenset({("checkout-1", "8")})}) == [CHECKOUT]


def test_the_revision_is_found_for_a_copy_of_the_statefulset_too() -> None:
    from highpeaks_agent.controller.incident_kinds import incident_revision
    from highpeaks_agent.engine.snapshot import Snapshot

    sts = statefulset()
    snapshot = Snapshot.from_objects([sts, *REVISIONS])
    assert incident_revision(dict(sts), snapshot) == 3
