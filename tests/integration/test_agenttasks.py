"""AgentTask lifecycle through the real operator process: valid, failing and invalid tasks."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from kubernetes import client

from tests.support.controllers import SimulatedControllers
from tests.support.operator_process import OperatorProcess

from .conftest import eventually, read_json

pytestmark = pytest.mark.integration
GROUP, VERSION, PLURAL = "devops.highpeaks.io", "v1alpha1", "agenttasks"

CRASH_LOG = (
    "2026-11-25T10:00:00Z INFO starting checkout 2.14.0\n"
    "2026-11-25T10:00:01Z ERROR config: PAYMENTS_API_URL is not set\n"
    "panic: missing required setting PAYMENTS_API_URL\n"
)


def create_task(cluster: SimulatedControllers, name: str, spec: dict[str, Any]) -> Any:
    custom = client.CustomObjectsApi(cluster.core.api_client)
    body = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "AgentTask",
        "metadata": {"name": name},
        "spec": spec,
    }
    return custom.create_namespaced_custom_object(GROUP, VERSION, cluster.ns, PLURAL, body)


def finished_task(cluster: SimulatedControllers, name: str) -> Any:
    custom = client.CustomObjectsApi(cluster.core.api_client)

    def done() -> Any:
        task = custom.get_namespaced_custom_object(GROUP, VERSION, cluster.ns, PLURAL, name)
        return task if (task.get("status") or {}).get("phase") in ("Succeeded", "Failed") else None

    return eventually(done, what=f"task {name} to finish")


def events_about(cluster: SimulatedControllers, uid: str) -> list[Any]:
    events = read_json(cluster.core.list_namespaced_event, cluster.ns)["items"]
    return [e for e in events if e["involvedObject"].get("uid") == uid]


def crashing_checkout(cluster: SimulatedControllers) -> list[str]:
    cluster.deployment("checkout", "registry.example.com/shop/checkout:2.13.4")
    rs = cluster.rollout("checkout", 1, "registry.example.com/shop/checkout:2.14.0")
    pods = [cluster.pod(rs) for _ in range(3)]
    for pod in pods:
        cluster.crash_loop(pod, restarts=6, log=CRASH_LOG)
    cluster.deployment_status("checkout", updated=3, available=0)
    return pods


def test_task_on_a_crashing_deployment_succeeds_with_the_root_cause(
    cluster: SimulatedControllers,
) -> None:
    crashing_checkout(cluster)
    created = create_task(
        cluster,
        "why-checkout",
        {
            "target": {"kind": "Deployment", "name": "checkout"},
            "question": "Why is checkout failing?",
        },
    )
    task = finished_task(cluster, "why-checkout")
    status = task["status"]
    assert status["phase"] == "Succeeded"
    assert status["rootCause"] == "CrashLoopBackOff.ConfigMissing"
    assert status["severity"] == "critical"
    assert status["source"] == "rules"
    assert status["observedGeneration"] == created["metadata"]["generation"]
    assert status["findings"][0]["code"] == "CrashLoopBackOff.ConfigMissing"
    assert any("PAYMENTS_API_URL" in line for f in status["findings"] for line in f["evidence"])
    assert status["recommendations"] and status["summary"]
    assert status["startedAt"] <= status["completedAt"]
    diagnosed = next(c for c in status["conditions"] if c["type"] == "Diagnosed")
    assert (diagnosed["status"], diagnosed["reason"]) == ("True", "RootCauseFound")
    events = eventually(
        lambda: events_about(cluster, task["metadata"]["uid"]), what="Diagnosed event"
    )
    assert [(e["reason"], e["type"]) for e in events] == [("Diagnosed", "Normal")]
    assert events[0]["involvedObject"]["kind"] == "AgentTask"


REPORT_LOG = (
    "2026-11-25T02:00:00Z INFO exporting orders for 2026-11-24\n"
    'psycopg.errors.UndefinedTable: relation "orders_2026_11" does not exist\n'
)


def failed_job(cluster: SimulatedControllers, name: str, cronjob: Any = None) -> list[str]:
    job = cluster.job(name, "registry.example.com/shop/report:3.1.0", cronjob=cronjob)
    pods = [cluster.job_pod_failed(job, REPORT_LOG, exit_code=2) for _ in range(3)]
    cluster.job_failed(
        name,
        failed=3,
        reason="BackoffLimitExceeded",
        message="Job has reached the specified backoff limit",
    )
    return pods


def test_task_on_a_failed_job_names_the_backoff_limit_with_the_last_attempts_log(
    cluster: SimulatedControllers,
) -> None:
    pods = failed_job(cluster, "nightly-report")
    create_task(cluster, "why-report", {"target": {"kind": "Job", "name": "nightly-report"}})
    status = finished_task(cluster, "why-report")["status"]
    assert (status["phase"], status["severity"]) == ("Succeeded", "critical")
    # the failed pods' own log names the cause; the Job's verdict carries the attempts
    assert status["rootCause"] == "CrashLoopBackOff.DatabaseSchema"
    cause, finding = status["findings"][:2]
    assert cause["evidence"][0] == REPORT_LOG.splitlines()[1]
    assert finding["code"] == "JobFailed.BackoffLimitExceeded"
    assert f"{pods[-1]}/app: exit code 2 (Error)" in finding["evidence"]
    assert any("orders_2026_11" in line for line in finding["evidence"])
    assert {o["name"] for o in finding["objects"]} == {"nightly-report", *pods}


def test_task_on_a_cronjob_diagnoses_its_most_recent_job(cluster: SimulatedControllers) -> None:
    nightly = cluster.cronjob("nightly", "registry.example.com/shop/report:3.1.0")
    pods = failed_job(cluster, "nightly-29001", cronjob=nightly)
    create_task(cluster, "why-nightly", {"target": {"kind": "CronJob", "name": "nightly"}})
    status = finished_task(cluster, "why-nightly")["status"]
    assert (status["phase"], status["rootCause"]) == (
        "Succeeded",
        "CrashLoopBackOff.DatabaseSchema",
    )
    assert status["findings"][1]["code"] == "JobFailed.BackoffLimitExceeded"
    assert "most recent Job is nightly-29001" in status["summary"]
    assert set(pods) <= {o["name"] for o in status["findings"][0]["objects"]}


def test_task_on_a_healthy_pod_says_so(cluster: SimulatedControllers) -> None:
    cluster.deployment("web", "nginx:1.27")
    rs = cluster.rollout("web", 1, "nginx:1.27")
    pod = cluster.pod(rs)
    cluster.running(pod)
    create_task(cluster, "pod-status", {"target": {"kind": "Pod", "name": pod}})
    status = finished_task(cluster, "pod-status")["status"]
    assert (status["phase"], status["severity"], status["rootCause"]) == ("Succeeded", "none", "")
    assert status["findings"] == []


@pytest.mark.parametrize(
    ("spec", "reason", "needle"),
    [
        (
            {"target": {"kind": "Deployment", "name": "checkout", "namespace": "kube-system"}},
            "TargetOutsideNamespace",
            "own namespace",
        ),
        (
            {"target": {"kind": "Deployment", "name": "does-not-exist"}},
            "TargetNotFound",
            "does-not-exist",
        ),
        ({"target": {"kind": "CronTab", "name": "x"}}, "InvalidSpec", "spec.target.kind"),
        (
            {"target": {"kind": "Pod", "name": "p"}, "question": "?" * 2001},
            "InvalidSpec",
            "spec.question",
        ),
    ],
)
def test_invalid_tasks_fail_with_a_reason_and_change_nothing_else(
    cluster: SimulatedControllers, spec: dict[str, Any], reason: str, needle: str
) -> None:
    before = {
        e["metadata"]["name"]
        for e in read_json(cluster.core.list_namespaced_event, cluster.ns)["items"]
    }
    create_task(cluster, "bad", spec)
    status = finished_task(cluster, "bad")["status"]
    assert status["phase"] == "Failed"
    diagnosed = status["conditions"][0]
    assert (diagnosed["type"], diagnosed["status"], diagnosed["reason"]) == (
        "Diagnosed",
        "False",
        reason,
    )
    assert needle in diagnosed["message"]
    after = read_json(cluster.core.list_namespaced_event, cluster.ns)["items"]
    new = [e for e in after if e["metadata"]["name"] not in before]
    assert [(e["involvedObject"]["kind"], e["type"]) for e in new] == [("AgentTask", "Warning")]
    custom = client.CustomObjectsApi(cluster.core.api_client)
    tasks = custom.list_namespaced_custom_object(GROUP, VERSION, cluster.ns, PLURAL)["items"]
    assert [t["metadata"]["name"] for t in tasks] == ["bad"]


def test_spec_change_runs_the_task_again(cluster: SimulatedControllers) -> None:
    crashing_checkout(cluster)
    create_task(cluster, "retarget", {"target": {"kind": "Deployment", "name": "nope"}})
    assert finished_task(cluster, "retarget")["status"]["phase"] == "Failed"
    custom = client.CustomObjectsApi(cluster.core.api_client)
    custom.patch_namespaced_custom_object(
        GROUP,
        VERSION,
        cluster.ns,
        PLURAL,
        "retarget",
        {"spec": {"target": {"kind": "Deployment", "name": "checkout"}}},
    )

    def rerun() -> Any:
        task = custom.get_namespaced_custom_object(GROUP, VERSION, cluster.ns, PLURAL, "retarget")
        return (
            task
            if task["status"].get("observedGeneration") == 2
            and task["status"]["phase"] == "Succeeded"
            else None
        )

    assert (
        eventually(rerun, what="re-run")["status"]["rootCause"] == "CrashLoopBackOff.ConfigMissing"
    )


def test_metrics_count_tasks_by_phase(
    cluster: SimulatedControllers, operator: OperatorProcess
) -> None:
    create_task(cluster, "counted", {"target": {"kind": "Deployment", "name": "nowhere"}})
    finished_task(cluster, "counted")

    def failed_count() -> float:
        text = httpx.get(f"{operator.url}/metrics").text
        line = next(
            x
            for x in text.splitlines()
            if x.startswith('highpeaks_agent_agenttasks{phase="Failed"}')
        )
        return float(line.split()[-1])

    assert eventually(lambda: failed_count() >= 1, what="the Failed gauge")
