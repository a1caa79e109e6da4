"""Incidents of every kind on the real control plane, from the shipped example
`examples/broken-workloads.yaml`: its StatefulSet, DaemonSet and CronJob (whose Job the real
CronJob controller starts on schedule) each get one incident task and one IncidentNote where
kubectl shows it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.cluster import ROOT, TestCluster
from tests.support.notes import assert_says_each_fact_once
from tests.support.operator_process import OperatorProcess

from .conftest import eventually

pytestmark = pytest.mark.cluster
NS = "ledger"


@pytest.fixture(scope="module")
def broken_workloads(installed: TestCluster, operator: OperatorProcess) -> Iterator[TestCluster]:
    installed.kubectl("apply", "-f", str(ROOT / "examples" / "broken-workloads.yaml"))
    yield installed
    installed.kubectl_run("delete", "namespace", NS, "--wait=false")


def notes_on(kube: TestCluster, kind: str, name: str) -> list[Any]:
    events = kube.kubectl_json("-n", NS, "get", "events", "--field-selector", "reason=IncidentNote")
    return [
        e
        for e in events["items"]
        if (e["involvedObject"]["kind"], e["involvedObject"]["name"]) == (kind, name)
    ]


def finished_task(kube: TestCluster, prefix: str) -> Any:
    items = kube.kubectl_json("-n", NS, "get", "agt", "-l", "devops.highpeaks.io/trigger=auto")[
        "items"
    ]
    return next(
        t
        for t in items
        if t["metadata"]["name"].startswith(prefix)
        and t.get("status", {}).get("phase") == "Succeeded"
    )


@pytest.mark.parametrize(
    ("kind", "name", "task", "resource", "cause"),
    [
        ("StatefulSet", "ledger-db", "incident-sts-ledger-db-r", "statefulset", "CrashLoopBackOff"),
        ("DaemonSet", "log-agent", "incident-ds-log-agent-r", "daemonset", "ImagePullError"),
    ],
)
def test_a_failing_revision_gets_one_note(
    broken_workloads: TestCluster, kind: str, name: str, task: str, resource: str, cause: str
) -> None:
    kube = broken_workloads
    found = eventually(lambda: finished_task(kube, task), what=f"the incident task of {name}")
    assert found["spec"]["target"] == {"kind": kind, "name": name}
    assert found["status"]["rootCause"].startswith(cause), found["status"]
    (note,) = eventually(lambda: notes_on(kube, kind, name), what=f"the IncidentNote on {name}")
    assert_says_each_fact_once(note["message"])
    assert "IncidentNote" in kube.kubectl("-n", NS, "describe", resource, name)
    time.sleep(10)  # restarts and back-offs go on: still one note
    (again,) = notes_on(kube, kind, name)
    assert again["metadata"]["name"] == note["metadata"]["name"] and again.get("count", 1) == 1


def test_a_cronjobs_failing_job_is_noted_on_the_job_and_the_cronjob(
    broken_workloads: TestCluster,
) -> None:
    kube = broken_workloads
    # The CronJob runs every minute: its first Job starts within a minute of the apply.
    found = eventually(
        lambda: finished_task(kube, "incident-job-nightly-export-"),
        timeout=180,
        what="the Job's incident task",
    )
    job = found["spec"]["target"]["name"]
    (on_job,) = eventually(lambda: notes_on(kube, "Job", job), what="the IncidentNote on the Job")
    assert_says_each_fact_once(on_job["message"])
    assert eventually(
        lambda: notes_on(kube, "CronJob", "nightly-export"), what="the CronJob's note"
    )
    assert "IncidentNote" in kube.kubectl("-n", NS, "describe", "cronjob", "nightly-export")

    # Asked about the CronJob itself: the diagnosis comes from its most recent Job.
    kube.apply(
        {
            "apiVersion": "devops.highpeaks.io/v1alpha1",
            "kind": "AgentTask",
            "metadata": {"name": "why-nightly", "namespace": NS},
            "spec": {"target": {"kind": "CronJob", "name": "nightly-export"}},
        }
    )

    def answered() -> Any:
        status = kube.kubectl_json("-n", NS, "get", "agt", "why-nightly")["status"]
        assert status["phase"] == "Succeeded"
        return status

    status = eventually(answered, what="the CronJob's diagnosis")
    assert status["rootCause"] == found["status"]["rootCause"], (status, found["status"])
    assert status["rootCause"], status
