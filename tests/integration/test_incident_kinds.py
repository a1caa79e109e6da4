"""Incidents of every workload kind through the real operator: a StatefulSet's or DaemonSet's
failing update revision, a failing Job, and a CronJob's failing Job each get exactly one
incident task and one IncidentNote on the right object (the CronJob's Job: on both)."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import pytest

from tests.support.controllers import SimulatedControllers
from tests.support.operator_process import OperatorProcess

from .conftest import eventually, read_json
from .test_agenttasks import CRASH_LOG
from .test_incidents import settle, tasks

pytestmark = pytest.mark.integration

DB_OLD, DB_NEW = "registry.example.com/shop/db:15.4", "registry.example.com/shop/db:16.0"
AGENT_OLD, AGENT_NEW = (
    "registry.example.com/ops/agent:1.2.0",
    "registry.example.com/ops/agent:9.9.9",
)
JOB_LOG = 'applying migration 0042\nERROR relation "orders" does not exist\n'


def kind_notes(cluster: SimulatedControllers, kind: str, name: str) -> list[Any]:
    events = read_json(cluster.core.list_namespaced_event, cluster.ns)["items"]
    return [
        e
        for e in events
        if e["reason"] == "IncidentNote"
        and (e["involvedObject"]["kind"], e["involvedObject"]["name"]) == (kind, name)
    ]


def finished(cluster: SimulatedControllers, name: str) -> Any:
    names = [t["metadata"]["name"] for t in tasks(cluster)]
    assert name in names, names
    task = next(t for t in tasks(cluster) if t["metadata"]["name"] == name)
    assert task["status"]["phase"] == "Succeeded"
    assert task["metadata"]["annotations"]["devops.highpeaks.io/failure-signature"]
    return task


def broken_statefulset(cluster: SimulatedControllers) -> list[str]:
    """db r1 healthy on both replicas; r2 rolls out from the highest ordinal and crash-loops
    there, so the StatefulSet controller stops with one replica updated and not ready."""
    cluster.revisioned("StatefulSet", "db", DB_OLD)
    old = cluster.revision("StatefulSet", "db", 1, DB_OLD)
    cluster.running(cluster.revisioned_pod("StatefulSet", "db", old, 0))
    new = cluster.revision("StatefulSet", "db", 2, DB_NEW)
    crashing = cluster.revisioned_pod("StatefulSet", "db", new, 1)
    cluster.crash_loop(crashing, restarts=4, log=CRASH_LOG)
    cluster.statefulset_status("db", ready=1, updated=1, current=old, update=new)
    return [crashing]


def one_note(cluster: SimulatedControllers, kind: str, name: str, task: str) -> tuple[Any, Any]:
    (note,) = eventually(lambda: kind_notes(cluster, kind, name), what=f"IncidentNote on {name}")
    found = eventually(lambda: finished(cluster, task), what=f"incident task {task}")
    assert (note["type"], note["count"]) == ("Warning", 1)
    return note, found


def test_a_statefulsets_crash_looping_update_revision(
    cluster: SimulatedControllers, operator: OperatorProcess
) -> None:
    pods = broken_statefulset(cluster)
    note, task = one_note(cluster, "StatefulSet", "db", "incident-sts-db-r2")
    message = note["message"]
    assert message.startswith("Revision 2 is failing (CrashLoopBackOff"), message
    assert "db:15.4 -> …:16.0" in message and message.count("16.0") == 1, message
    assert message.endswith(
        "(details: kubectl describe agenttask incident-sts-db-r2) Proposed action: rollback-to-1;"
        " approve: kubectl highpeaks approve incident-sts-db-r2 rollback-to-1"
    )
    (owner,) = task["metadata"]["ownerReferences"]
    assert (owner["kind"], owner["name"]) == ("StatefulSet", "db")
    assert task["spec"]["target"] == {"kind": "StatefulSet", "name": "db"}
    assert task["status"]["rollout"]["revision"] == 2
    assert task["metadata"]["annotations"]["devops.highpeaks.io/revision"] == "2"
    for restarts in range(5, 12):  # the crash loop goes on: nothing new
        cluster.crash_loop(pods[0], restarts=restarts, log=CRASH_LOG)
    settle(operator)
    assert [n["count"] for n in kind_notes(cluster, "StatefulSet", "db")] == [1]
    assert [t["metadata"]["name"] for t in tasks(cluster)] == ["incident-sts-db-r2"]


def test_a_daemonsets_update_revision_that_cannot_pull_its_image(
    cluster: SimulatedControllers, operator: OperatorProcess
) -> None:
    cluster.revisioned("DaemonSet", "agent", AGENT_OLD)
    cluster.revision("DaemonSet", "agent", 1, AGENT_OLD)
    new = cluster.revision("DaemonSet", "agent", 2, AGENT_NEW)
    for node in (1, 2):
        cluster.image_pull_failing(
            cluster.revisioned_pod("DaemonSet", "agent", new, node), AGENT_NEW
        )
    cluster.daemonset_status("agent", desired=2, updated=2, available=0)
    note, task = one_note(cluster, "DaemonSet", "agent", "incident-ds-agent-r2")
    assert note["message"].startswith("Revision 2 is failing (ImagePullError.NotFound):")
    assert "2 of 2 pods failing" in note["message"], note["message"]
    assert task["status"]["rootCause"] == "ImagePullError.NotFound"
    assert task["spec"]["target"] == {"kind": "DaemonSet", "name": "agent"}


def failed_job(cluster: SimulatedControllers, name: str, cronjob: Any = None) -> Any:
    job = cluster.job(name, "registry.example.com/shop/migrate:3.1", cronjob=cronjob)
    for _ in range(3):
        cluster.job_pod_failed(job, JOB_LOG)
    cluster.job_failed(
        name,
        failed=3,
        reason="BackoffLimitExceeded",
        message="Job has reached the specified backoff limit",
    )
    return job


def test_a_failing_job(cluster: SimulatedControllers, operator: OperatorProcess) -> None:
    failed_job(cluster, "migrate")
    note, task = one_note(cluster, "Job", "migrate", "incident-job-migrate")
    assert note["message"].startswith("Job migrate is failing ("), note["message"]
    assert "devops.highpeaks.io/revision" not in task["metadata"]["annotations"]
    (owner,) = task["metadata"]["ownerReferences"]
    assert (owner["apiVersion"], owner["kind"], owner["name"]) == ("batch/v1", "Job", "migrate")
    settle(operator)
    assert len(kind_notes(cluster, "Job", "migrate")) == 1 and len(tasks(cluster)) == 1


def test_a_cronjobs_failing_job_is_noted_on_both(
    cluster: SimulatedControllers, operator: OperatorProcess
) -> None:
    cronjob = cluster.cronjob("nightly", "registry.example.com/shop/migrate:3.1")
    failed_job(cluster, "nightly-28934520", cronjob=cronjob)
    job_note, _ = one_note(cluster, "Job", "nightly-28934520", "incident-job-nightly-28934520")
    (cron_note,) = eventually(lambda: kind_notes(cluster, "CronJob", "nightly"), what="note")
    assert cron_note["message"] == job_note["message"] and cron_note["count"] == 1
    assert cron_note["involvedObject"]["uid"] == cronjob["metadata"]["uid"]
    settle(operator)
    assert len(kind_notes(cluster, "CronJob", "nightly")) == 1
    assert len(kind_notes(cluster, "Job", "nightly-28934520")) == 1

    if shutil.which("kubectl") is None:
        pytest.fail("kubectl is required: it is how people read what the operator writes")
    kubectl = ["kubectl", "--kubeconfig", str(operator.kubeconfig), "-n", cluster.ns]
    described = subprocess.run(
        [*kubectl, "describe", "cronjob", "nightly"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert "IncidentNote" in described and "Job nightly-28934520 is failing" in " ".join(
        described.split()
    )
