"""Incidents of every kind in a real cluster: `examples/broken-workloads.yaml`'s StatefulSet,
DaemonSet and CronJob each get one incident task and one IncidentNote where kubectl shows it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.notes import assert_says_each_fact_once

from .conftest import eventually, kubectl, kubectl_json

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
NS = "ledger"


@pytest.fixture(scope="module", autouse=True)
def broken_workloads() -> Any:
    kubectl("apply", "-f", str(ROOT / "examples" / "broken-workloads.yaml"))
    yield
    kubectl("delete", "namespace", NS, "--wait=false", check=False)


def notes_on(kind: str, name: str) -> list[Any]:
    events = kubectl_json("-n", NS, "get", "events", "--field-selector", "reason=IncidentNote")
    return [
        e
        for e in events["items"]
        if (e["involvedObject"]["kind"], e["involvedObject"]["name"]) == (kind, name)
    ]


def finished_task(prefix: str) -> Any:
    items = kubectl_json("-n", NS, "get", "agt", "-l", "devops.highpeaks.io/trigger=auto")["items"]
    return next(
        t
        for t in items
        if t["metadata"]["name"].startswith(prefix)
        and t.get("status", {}).get("phase") == "Succeeded"
    )


@pytest.mark.parametrize(
    ("kind", "name", "task", "resource"),
    [
        ("StatefulSet", "ledger-db", "incident-sts-ledger-db-r", "statefulset"),
        ("DaemonSet", "log-agent", "incident-ds-log-agent-r", "daemonset"),
    ],
)
def test_a_failing_revision_gets_one_note(kind: str, name: str, task: str, resource: str) -> None:
    found = eventually(lambda: finished_task(task), what=f"the incident task of {name}")
    assert found["spec"]["target"] == {"kind": kind, "name": name}
    (note,) = eventually(lambda: notes_on(kind, name), what=f"the IncidentNote on {name}")
    assert_says_each_fact_once(note["message"])
    assert "IncidentNote" in kubectl("-n", NS, "describe", resource, name)
    time.sleep(60)  # restarts and back-offs go on: still one note
    (again,) = notes_on(kind, name)
    assert again["metadata"]["name"] == note["metadata"]["name"] and again.get("count", 1) == 1


def test_a_cronjobs_failing_job_is_noted_on_the_job_and_the_cronjob() -> None:
    found = eventually(
        lambda: finished_task("incident-job-nightly-export-"), what="the Job's incident task"
    )
    job = found["spec"]["target"]["name"]
    (on_job,) = eventually(lambda: notes_on("Job", job), what="the IncidentNote on the Job")
    assert_says_each_fact_once(on_job["message"])
    assert eventually(lambda: notes_on("CronJob", "nightly-export"), what="the CronJob's note")
    assert "IncidentNote" in kubectl("-n", NS, "describe", "cronjob", "nightly-export")
