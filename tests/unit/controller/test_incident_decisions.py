"""The pure parts of incident handling: when to open, re-note, stay quiet or resolve."""

from __future__ import annotations

from typing import Any

import pytest

from highpeaks_agent.controller.incidents import (
    SIGNATURE_ANNOTATION,
    Action,
    decide,
    incident_task,
    rollout_complete,
)
from highpeaks_agent.controller.watch_filters import (
    deployment_needs_look,
    labels_filter,
    owning_workload,
    pod_needs_look,
)
from highpeaks_agent.engine.model import Diagnosis, Finding, ObjectRef, Severity

TARGET = ObjectRef(kind="Deployment", namespace="shop", name="checkout")


def deployment(
    *, revision: int = 2, replicas: int = 3, updated: int = 3, available: int = 0
) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "checkout",
            "namespace": "shop",
            "uid": "d-1",
            "generation": 4,
            "annotations": {"deployment.kubernetes.io/revision": str(revision)},
        },
        "spec": {"replicas": replicas},
        "status": {
            "observedGeneration": 4,
            "replicas": replicas,
            "updatedReplicas": updated,
            "availableReplicas": available,
            "unavailableReplicas": replicas - available or None,
        },
    }


def failing(code: str = "CrashLoopBackOff", severity: Severity = Severity.CRITICAL) -> Diagnosis:
    finding = Finding(code=code, severity=severity, title="Container app keeps crashing")
    return Diagnosis(target=TARGET, severity=severity, summary="failing", findings=[finding])


HEALTHY = Diagnosis(target=TARGET, severity=Severity.INFO, summary="healthy")


def task(name: str, signature: str, *, resolved: bool = False) -> dict[str, Any]:
    conditions = [{"type": "Resolved", "status": "True"}] if resolved else []
    return {
        "metadata": {"name": name, "annotations": {SIGNATURE_ANNOTATION: signature}},
        "status": {"conditions": conditions},
    }


def test_first_failure_opens_an_incident_named_after_the_revision() -> None:
    assert decide(deployment(), failing(), []) == [
        Action("open", "incident-checkout-r2", 2, "CrashLoopBackOff")
    ]


def test_same_failure_again_is_suppressed() -> None:
    existing = [task("incident-checkout-r2", "CrashLoopBackOff")]
    assert [a.kind for a in decide(deployment(), failing(), existing)] == ["suppress"]


def test_other_root_cause_on_the_same_revision_is_a_new_signature() -> None:
    existing = [task("incident-checkout-r2", "CrashLoopBackOff")]
    (action,) = decide(deployment(), failing("OOMKilled"), existing)
    assert (action.kind, action.signature) == ("resignature", "OOMKilled")


def test_new_revision_failing_opens_its_own_incident() -> None:
    existing = [task("incident-checkout-r2", "CrashLoopBackOff")]
    (action,) = decide(deployment(revision=3), failing(), existing)
    assert (action.kind, action.task_name) == ("open", "incident-checkout-r3")


def test_failing_again_after_resolution_reopens_without_a_note() -> None:
    existing = [task("incident-checkout-r2", "CrashLoopBackOff", resolved=True)]
    assert [a.kind for a in decide(deployment(), failing(), existing)] == ["reopen"]


def test_info_findings_are_not_incidents() -> None:
    assert decide(deployment(available=3), failing("Recovered", Severity.INFO), []) == []


def test_recovery_needs_a_complete_rollout() -> None:
    existing = [
        task("incident-checkout-r2", "CrashLoopBackOff"),
        task("incident-checkout-r1", "X", resolved=True),
    ]
    assert decide(deployment(available=1), HEALTHY, existing) == []  # pods being replaced
    assert decide(deployment(available=3), HEALTHY, existing) == [
        Action("resolve", "incident-checkout-r2")
    ]


@pytest.mark.parametrize(
    ("status", "complete"),
    [
        ({"observedGeneration": 4, "updatedReplicas": 3, "availableReplicas": 3}, True),
        ({"observedGeneration": 3, "updatedReplicas": 3, "availableReplicas": 3}, False),
        ({"observedGeneration": 4, "updatedReplicas": 2, "availableReplicas": 3}, False),
        (
            {
                "observedGeneration": 4,
                "updatedReplicas": 3,
                "availableReplicas": 3,
                "unavailableReplicas": 1,
            },
            False,
        ),
    ],
)
def test_rollout_complete(status: dict[str, Any], complete: bool) -> None:
    obj = deployment()
    obj["status"] = status
    assert rollout_complete(obj) is complete


def test_incident_task_body() -> None:
    body = incident_task(
        deployment(), Action("open", "incident-checkout-r2", 2, "CrashLoopBackOff")
    )
    md = body["metadata"]
    assert md["labels"]["devops.highpeaks.io/trigger"] == "auto"
    assert md["ownerReferences"][0]["uid"] == "d-1"
    assert body["spec"] == {"target": {"kind": "Deployment", "name": "checkout"}}


def pod(**status: Any) -> dict[str, Any]:
    return {"metadata": {"name": "p", "namespace": "shop"}, "status": status}


@pytest.mark.parametrize(
    ("status", "look"),
    [
        (
            {"phase": "Running", "containerStatuses": [{"ready": True, "state": {"running": {}}}]},
            False,
        ),
        (
            {
                "phase": "Pending",
                "containerStatuses": [{"state": {"waiting": {"reason": "ContainerCreating"}}}],
            },
            False,
        ),
        (
            {
                "phase": "Succeeded",
                "containerStatuses": [{"state": {"terminated": {"exitCode": 0}}}],
            },
            False,
        ),
        (
            {
                "phase": "Running",
                "containerStatuses": [{"state": {"waiting": {"reason": "CrashLoopBackOff"}}}],
            },
            True,
        ),
        (
            {
                "phase": "Pending",
                "containerStatuses": [{"state": {"waiting": {"reason": "ImagePullBackOff"}}}],
            },
            True,
        ),
        (
            {"phase": "Running", "containerStatuses": [{"ready": False, "state": {"running": {}}}]},
            True,
        ),
        ({"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False"}]}, True),
        ({"phase": "Failed"}, True),
    ],
)
def test_pod_needs_look(status: dict[str, Any], look: bool) -> None:
    assert pod_needs_look(pod(**status)) is look


def test_deployment_needs_look() -> None:
    assert not deployment_needs_look(deployment(available=3))
    assert deployment_needs_look(deployment(available=1))
    stalled = deployment(available=3)
    stalled["status"]["conditions"] = [
        {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}
    ]
    assert deployment_needs_look(stalled)


def test_owning_workload_follows_owner_references() -> None:
    def owned_by(kind: str, name: str) -> dict[str, Any]:
        ref = {"kind": kind, "name": name, "controller": True}
        return {"metadata": {"namespace": "shop", "ownerReferences": [ref]}}

    def replicaset_owner(namespace: str, replicaset: str) -> str | None:
        return "checkout" if (namespace, replicaset) == ("shop", "checkout-7d9f") else None

    assert owning_workload(owned_by("ReplicaSet", "checkout-7d9f"), replicaset_owner) == (
        "Deployment",
        "checkout",
    )
    assert owning_workload(owned_by("ReplicaSet", "lone-1"), replicaset_owner) is None
    assert owning_workload(owned_by("StatefulSet", "db"), replicaset_owner) == ("StatefulSet", "db")
    assert owning_workload(owned_by("DaemonSet", "agent"), replicaset_owner) == (
        "DaemonSet",
        "agent",
    )
    assert owning_workload(owned_by("Job", "nightly-1"), replicaset_owner) == ("Job", "nightly-1")
    assert owning_workload(owned_by("Node", "worker-1"), replicaset_owner) is None
    assert owning_workload({"metadata": {}}, replicaset_owner) is None


def test_labels_filter() -> None:
    import kopf

    parsed = labels_filter("team=payments, env in (prod,staging), !legacy, watched")
    assert parsed["team"] == "payments"
    assert parsed["legacy"] is kopf.ABSENT and parsed["watched"] is kopf.PRESENT
    assert parsed["env"]("prod") and not parsed["env"]("dev")
    assert labels_filter("") == {}


def test_labels_filter_keeps_every_term_on_one_key() -> None:
    env = labels_filter("env, env!=dev, env notin (test)")["env"]
    assert env("prod")
    assert not env("dev") and not env("test") and not env(None)


def test_phase_counter_follows_tasks() -> None:
    from highpeaks_agent.controller.phases import PhaseCounter

    counter = PhaseCounter()
    counter.observe("shop", "a", None, deleted=False)
    counter.observe("shop", "b", "Running", deleted=False)
    counter.observe("shop", "b", "Succeeded", deleted=False)
    counter.observe("shop", "c", "Failed", deleted=False)
    counter.observe("shop", "c", "Failed", deleted=True)
    assert counter.counts() == {"Pending": 1, "Running": 0, "Succeeded": 1, "Failed": 0}


def test_bad_selectors_are_refused() -> None:
    with pytest.raises(ValueError, match="invalid label key"):
        labels_filter("bad key!=x")


def test_task_names_add_the_kind_and_never_collide() -> None:
    from highpeaks_agent.controller.naming import MAX_NAME, incident_task_name

    assert incident_task_name("checkout", 2) == "incident-checkout-r2"
    assert incident_task_name("db", 3, "StatefulSet") == "incident-sts-db-r3"
    assert incident_task_name("agent", 4, "DaemonSet") == "incident-ds-agent-r4"
    assert incident_task_name("nightly-28934520", None, "Job") == "incident-job-nightly-28934520"
    # a Deployment named like another kind's tag keeps out of that kind's names
    namesake = incident_task_name("sts-db", 3)
    assert namesake != "incident-sts-db-r3" and namesake.endswith("-r3")
    long = "a" * 70
    names = {
        incident_task_name(long, 7),
        incident_task_name(long, 7, "StatefulSet"),
        incident_task_name(long + "b", 7, "StatefulSet"),
        incident_task_name(long, None, "Job"),
    }
    assert len(names) == 4 and all(len(n) <= MAX_NAME for n in names)
    with pytest.raises(ValueError, match="ReplicaSet"):
        incident_task_name("x", 1, "ReplicaSet")


def test_a_job_has_one_incident_per_job_owned_by_it() -> None:
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "nightly-1", "namespace": "shop", "uid": "j-1"},
        "status": {"failed": 3, "conditions": [{"type": "Failed", "status": "True"}]},
    }
    (action,) = decide(job, failing("BackoffLimitExceeded"), [])
    assert action == Action("open", "incident-job-nightly-1", None, "BackoffLimitExceeded")
    body = incident_task(job, action)
    assert body["spec"]["target"] == {"kind": "Job", "name": "nightly-1"}
    assert body["metadata"]["ownerReferences"][0]["apiVersion"] == "batch/v1"
    assert body["metadata"]["annotations"] == {}  # no revision
    assert decide(job, HEALTHY, [task("incident-job-nightly-1", "X")]) == []  # failed for good
    job["status"]["conditions"] = [{"type": "Complete", "status": "True"}]
    assert decide(job, HEALTHY, [task("incident-job-nightly-1", "X")]) == [
        Action("resolve", "incident-job-nightly-1")
    ]


def test_a_statefulset_incident_is_named_after_its_update_revision() -> None:
    sts = {
        "kind": "StatefulSet",
        "metadata": {"name": "db", "namespace": "shop", "uid": "s-1"},
        "spec": {"replicas": 2},
        "status": {"readyReplicas": 0, "updatedReplicas": 2},
    }
    (action,) = decide(sts, failing(), [], revision=3)
    assert (action.task_name, action.revision) == ("incident-sts-db-r3", 3)
    assert incident_task(sts, action)["metadata"]["annotations"] == {
        "devops.highpeaks.io/revision": "3"
    }


def test_each_kinds_own_status_says_trouble_and_recovery() -> None:
    from highpeaks_agent.controller.incident_kinds import DAEMONSET, JOB, STATEFULSET

    def sts(**status: Any) -> dict[str, Any]:
        return {"kind": "StatefulSet", "metadata": {}, "spec": {"replicas": 2}, "status": status}

    rolling = sts(readyReplicas=2, updatedReplicas=1, currentRevision="a", updateRevision="b")
    done = sts(readyReplicas=2, availableReplicas=2, updatedReplicas=2)
    assert STATEFULSET.needs_look(rolling) and not STATEFULSET.recovered(rolling)
    assert not STATEFULSET.needs_look(done) and STATEFULSET.recovered(done)

    def ds(**status: Any) -> dict[str, Any]:
        return {
            "kind": "DaemonSet",
            "metadata": {},
            "status": {"desiredNumberScheduled": 3, **status},
        }

    stuck = ds(updatedNumberScheduled=3, numberAvailable=1, numberUnavailable=2)
    healthy = ds(updatedNumberScheduled=3, numberAvailable=3)
    assert DAEMONSET.needs_look(stuck) and not DAEMONSET.recovered(stuck)
    assert not DAEMONSET.needs_look(healthy) and DAEMONSET.recovered(healthy)

    def job(**status: Any) -> dict[str, Any]:
        return {"kind": "Job", "metadata": {}, "status": status}

    failed = job(failed=3, conditions=[{"type": "Failed", "status": "True"}])
    retrying = job(failed=1, active=1)
    completed = job(failed=1, conditions=[{"type": "Complete", "status": "True"}])
    assert JOB.needs_look(failed) and JOB.needs_look(retrying) and not JOB.needs_look(completed)
    assert JOB.recovered(completed) and not JOB.recovered(failed)


def test_every_kind_with_incidents_is_watched() -> None:
    import kopf

    from highpeaks_agent.controller.handlers import register, workload_event
    from highpeaks_agent.settings import Settings

    registry = kopf.OperatorRegistry()
    register(registry, Settings())
    watched = {h.id for h in registry._watching.get_all_handlers() if h.fn is workload_event}
    assert watched == {
        "deployments_event",
        "statefulsets_event",
        "daemonsets_event",
        "jobs_event",
    }
