"""Jobs, CronJobs, StatefulSets, DaemonSets and the claims their pods wait on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from highpeaks_agent.engine import Snapshot, diagnose, diagnose_target
from highpeaks_agent.engine.model import Diagnosis, ObjectRef
from highpeaks_agent.engine.snapshot import ContainerLog
from highpeaks_agent.sources.files import load_path

from .builders import (
    NOW,
    controller_revision,
    cronjob,
    event,
    failed_job_pod,
    job,
    job_condition,
    pod,
    pvc,
    revisioned_set,
    running,
    terminated,
    ts,
    waiting,
    with_claim,
    with_revision_label,
)

BACKOFF = job_condition(
    "Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit"
)


def run(
    *objects: dict[str, Any], logs: dict[tuple[str, str, str], str] | None = None
) -> list[Diagnosis]:
    snapshot = Snapshot.from_objects(objects)
    for key, text in (logs or {}).items():
        snapshot.logs[key] = ContainerLog(text, previous=False)
    return diagnose(snapshot, now=NOW)


def codes(diagnosis: Diagnosis) -> list[str]:
    return [f.code for f in diagnosis.findings]


# --- Jobs ---------------------------------------------------------------------------------


def test_a_failed_job_carries_the_exit_codes_and_log_tail_of_its_last_attempt() -> None:
    failed = job(failed=2, backoff_limit=1, conditions=[BACKOFF])
    first = failed_job_pod("nightly-report-a", failed, started_ago=1200)
    last = failed_job_pod("nightly-report-b", failed, exit_code=2, started_ago=600)
    log = "loading rows\nERROR: report aborted after 3 attempts\n"
    result = run(failed, first, last, logs={("shop", "nightly-report-b", "app"): log})
    finding = result[0].findings[0]
    assert finding.code == "JobFailed.BackoffLimitExceeded"
    assert finding.title == (
        "Job nightly-report failed: its pods kept failing until the backoff limit (1)"
    )
    assert finding.evidence[1] == "2 failed, 0 succeeded of 1 completions (backoffLimit 1)"
    assert "nightly-report-b/app: exit code 2 (Error)" in finding.evidence
    assert "ERROR: report aborted after 3 attempts" in finding.evidence
    assert finding.evidence[-1] == "earlier attempts: nightly-report-a/app exit code 1 (Error)"
    assert "kubectl logs nightly-report-b -n shop" in finding.suggestion
    assert result[0].summary.startswith("Job shop/nightly-report is failing: Job nightly-report")
    assert "2 of 2 pods affected" in result[0].summary


def test_a_failed_job_pods_log_names_the_cause_before_the_jobs_verdict() -> None:
    failed = job(failed=1, backoff_limit=0, conditions=[BACKOFF])
    last = failed_job_pod("nightly-report-a", failed, exit_code=1)
    log = 'loading rows\nERROR:  relation "orders_2026" does not exist at character 15\n'
    result = run(failed, last, logs={("shop", "nightly-report-a", "app"): log})
    assert codes(result[0]) == ["CrashLoopBackOff.DatabaseSchema", "JobFailed.BackoffLimitExceeded"]
    assert result[0].findings[0].evidence[0] == log.splitlines()[1]
    assert "migrations" in result[0].findings[0].suggestion


def test_a_more_specific_pod_cause_comes_before_the_jobs_own_verdict() -> None:
    failed = job(failed=1, backoff_limit=0, conditions=[BACKOFF])
    oom = failed_job_pod("nightly-report-a", failed, exit_code=137, reason="OOMKilled")
    assert codes(run(failed, oom)[0]) == ["OOMKilled", "JobFailed.BackoffLimitExceeded"]


def test_the_failure_target_condition_fails_the_job_before_failed_is_written() -> None:
    target = job_condition(
        "FailureTarget", "DeadlineExceeded", "Job was active longer than specified deadline"
    )
    failing = job(activeDeadlineSeconds=600, conditions=[target])
    finding = run(failing)[0].findings[0]
    assert finding.code == "JobFailed.DeadlineExceeded"
    assert finding.title == "Job nightly-report failed: it ran longer than its deadline (600s)"


def test_an_active_job_pod_that_cannot_pull_its_image_fails_the_job_at_once() -> None:
    active = job()
    stuck = pod(
        "nightly-report-a",
        owner=active,
        phase="Pending",
        restart_policy="Never",
        statuses=[waiting(reason="ImagePullBackOff", message="Back-off pulling image")],
    )
    assert codes(run(active, stuck)[0])[0].startswith("ImagePullError")


def test_a_failed_on_failure_job_folds_its_crash_loop_into_its_own_finding() -> None:
    failed = job(backoff_limit=3, restart_policy="OnFailure", conditions=[BACKOFF])
    crashing = waiting(restarts=3, last=terminated(3, finished_ago=60))
    p = pod("nightly-report-a", owner=failed, restart_policy="OnFailure", statuses=[crashing])
    [diagnosis] = run(failed, p)
    assert codes(diagnosis) == ["JobFailed.BackoffLimitExceeded"]
    assert "nightly-report-a/app: exit code 3 (Error)" in diagnosis.findings[0].evidence


def test_a_job_the_quota_keeps_from_creating_pods() -> None:
    active = job()
    refused = event(
        active,
        "FailedCreate",
        'Error creating: pods "nightly-report-8d2kq" is forbidden: exceeded quota: batch-quota, '
        "requested: limits.cpu=2, used: limits.cpu=8, limited: limits.cpu=8",
        count=9,
    )
    assert codes(run(active, refused)[0]) == ["ReplicaCreateFailed.QuotaExceeded"]


def _retrying() -> list[dict[str, Any]]:
    active = job(failed=2, backoff_limit=6)
    return [
        active,
        failed_job_pod("nightly-report-a", active, started_ago=900),
        failed_job_pod("nightly-report-b", active, started_ago=600),
        pod("nightly-report-c", owner=active, restart_policy="Never", statuses=[running()]),
    ]


def _retrying_on_failure() -> list[dict[str, Any]]:
    active = job(backoff_limit=6, restart_policy="OnFailure")
    crashing = waiting(restarts=3, last=terminated(1))
    return [
        active,
        pod("nightly-report-a", owner=active, restart_policy="OnFailure", statuses=[crashing]),
    ]


def _completed_after_retries() -> list[dict[str, Any]]:
    complete = job_condition(
        "Complete", "CompletionsReached", "Reached expected number of succeeded pods"
    )
    done = job(failed=2, succeeded=1, conditions=[complete])
    return [
        done,
        failed_job_pod("nightly-report-a", done),
        failed_job_pod("nightly-report-b", done),
        pod("nightly-report-c", owner=done, phase="Succeeded", statuses=[]),
    ]


def _suspended() -> list[dict[str, Any]]:
    held = job(suspend=True, failed=1)
    return [held, failed_job_pod("nightly-report-a", held)]


@pytest.mark.parametrize(
    "objects",
    [_retrying, _retrying_on_failure, _completed_after_retries, _suspended],
    ids=[
        "retrying-below-backoff-limit",
        "on-failure-restarts-below-limit",
        "completed",
        "suspended",
    ],
)
def test_jobs_that_are_not_failing(objects: Any) -> None:
    assert run(*objects()) == []


# --- CronJobs -----------------------------------------------------------------------------


def _cron_history(latest_failed: bool, *, suspend: bool = False) -> list[dict[str, Any]]:
    schedule = cronjob(suspend=suspend)
    done = job_condition(
        "Complete", "CompletionsReached", "Reached expected number of succeeded pods"
    )
    older = job(
        "nightly-29001",
        owner=schedule,
        created_ago=90000,
        conditions=[BACKOFF if not latest_failed else done],
    )
    newer = job(
        "nightly-29002",
        owner=schedule,
        created_ago=3600,
        failed=1,
        backoff_limit=0,
        conditions=[BACKOFF if latest_failed else done],
    )
    pods = [failed_job_pod("nightly-29001-a", older), failed_job_pod("nightly-29002-a", newer)]
    return [schedule, older, newer, *pods]


def test_a_cronjob_fails_when_its_most_recent_job_failed() -> None:
    result = run(*_cron_history(latest_failed=True))
    assert [str(d.target) for d in result] == ["CronJob/shop/nightly"]
    diagnosis = result[0]
    assert codes(diagnosis) == ["JobFailed.BackoffLimitExceeded"]
    assert diagnosis.findings[0].objects[0] == ObjectRef(
        kind="Job", namespace="shop", name="nightly-29002"
    )
    assert {o.name for o in diagnosis.findings[0].objects} == {"nightly-29002", "nightly-29002-a"}
    assert "most recent Job is nightly-29002 (1 of 1 pod failed)" in diagnosis.summary


@pytest.mark.parametrize(
    "objects",
    [lambda: _cron_history(latest_failed=False), lambda: _cron_history(True, suspend=True)],
    ids=["older-job-failed", "suspended"],
)
def test_cronjobs_that_are_not_failing(objects: Any) -> None:
    assert run(*objects()) == []


def test_a_job_of_a_cronjob_groups_under_it_even_without_the_cronjob_in_the_input() -> None:
    _, _, newer, _, newer_pod = _cron_history(latest_failed=True)
    result = run(newer, newer_pod)
    assert [str(d.target) for d in result] == ["CronJob/shop/nightly"]


def test_a_job_of_a_cronjob_is_a_target_of_its_own_too() -> None:
    snapshot = Snapshot.from_objects(_cron_history(latest_failed=True))
    target = ObjectRef(kind="Job", namespace="shop", name="nightly-29002")
    diagnosis = diagnose_target(snapshot, target, now=NOW)
    assert diagnosis is not None and codes(diagnosis) == ["JobFailed.BackoffLimitExceeded"]
    cron = diagnose_target(
        snapshot, ObjectRef(kind="CronJob", namespace="shop", name="nightly"), now=NOW
    )
    assert cron is not None and cron.root_cause == "JobFailed.BackoffLimitExceeded"


# --- StatefulSets and DaemonSets ------------------------------------------------------------


def _rolled_out(kind: str, *, failing_revision: str) -> list[dict[str, Any]]:
    """Revision 1 (app:1.0.0) and revision 2 (app:1.1.0, new env var); one pod of each."""
    workload = revisioned_set(kind, ready=1)
    old = controller_revision(workload, "5d8c7b9f6", 1, "registry.example.com/shop/app:1.0.0")
    new = controller_revision(
        workload,
        "7f9b6c4d2",
        2,
        "registry.example.com/shop/app:1.1.0",
        env=[{"name": "DB_POOL", "value": "9"}],
    )
    if kind == "StatefulSet":
        workload["status"]["updateRevision"] = new["metadata"]["name"]
    label = (
        (lambda cr: cr["metadata"]["name"])
        if kind == "StatefulSet"
        else (lambda cr: cr["metadata"]["labels"]["controller-revision-hash"])
    )
    crash = waiting(restarts=5, last=terminated(1))
    pods = []
    for name, revision in (("db-0", old), ("db-1", new)):
        failing = (revision is new) == (failing_revision == "update")
        p = pod(name, owner=workload, statuses=[crash] if failing else [running()])
        pods.append(with_revision_label(p, label(revision)))
    return [workload, old, new, *pods]


@pytest.mark.parametrize("kind", ["StatefulSet", "DaemonSet"])
def test_the_update_revisions_failing_pods_get_the_diff_from_the_revision_before(kind: str) -> None:
    objects = _rolled_out(kind, failing_revision="update")
    diagnosis = run(*objects)[0]
    assert str(diagnosis.target) == f"{kind}/shop/db"
    assert diagnosis.root_cause == "CrashLoopBackOff"
    assert diagnosis.rollout is not None
    assert (diagnosis.rollout.revision, diagnosis.rollout.previous_revision) == (2, 1)
    assert diagnosis.rollout.changes == [
        "container app image: registry.example.com/shop/app:1.0.0 -> registry.example.com/shop/app:1.1.0",
        "container app env DB_POOL added",
    ]
    assert diagnosis.severity.value == "warning", "the old revision's pod still serves"
    assert "Started with revision 2" in diagnosis.summary


@pytest.mark.parametrize("kind", ["StatefulSet", "DaemonSet"])
def test_an_old_revisions_failing_pod_is_not_blamed_on_the_update(kind: str) -> None:
    objects = _rolled_out(kind, failing_revision="old")
    diagnosis = run(*objects)[0]
    assert diagnosis.root_cause == "CrashLoopBackOff"
    assert diagnosis.rollout is None


@pytest.mark.parametrize("kind", ["StatefulSet", "DaemonSet"])
def test_without_revisions_in_the_input_there_is_no_diff(kind: str) -> None:
    objects = _rolled_out(kind, failing_revision="update")
    without = [o for o in objects if o["kind"] != "ControllerRevision"]
    diagnosis = run(*without)[0]
    assert diagnosis.root_cause == "CrashLoopBackOff" and diagnosis.rollout is None


def test_a_statefulset_paused_by_partition_is_not_failing() -> None:
    paused = revisioned_set("StatefulSet", replicas=3, ready=3, partition=3)
    old = controller_revision(paused, "5d8c7b9f6", 1, "registry.example.com/shop/app:1.0.0")
    new = controller_revision(paused, "7f9b6c4d2", 2, "registry.example.com/shop/app:1.1.0")
    paused["status"].update(
        currentRevision=old["metadata"]["name"],
        updateRevision=new["metadata"]["name"],
        updatedReplicas=0,
    )
    pods = [
        with_revision_label(pod(f"db-{i}", owner=paused), old["metadata"]["name"]) for i in range(3)
    ]
    assert run(paused, old, new, *pods) == []
    snapshot = Snapshot.from_objects([paused, old, new, *pods])
    healthy = diagnose_target(
        snapshot, ObjectRef(kind="StatefulSet", namespace="shop", name="db"), now=NOW
    )
    assert (
        healthy is not None
        and healthy.summary == "StatefulSet shop/db is healthy: 3/3 replicas ready."
    )


# --- claims -------------------------------------------------------------------------------

UNBOUND = (
    "0/3 nodes are available: 3 pod has unbound immediate PersistentVolumeClaims. preemption: "
    "0/3 nodes are available: 3 Preemption is not helpful for scheduling."
)


def _waiting_for_claim(conditions: bool) -> dict[str, Any]:
    unschedulable = [
        {
            "type": "PodScheduled",
            "status": "False",
            "reason": "Unschedulable",
            "message": UNBOUND,
            "lastTransitionTime": ts(900),
        }
    ]
    p = pod(
        "db-0",
        phase="Pending",
        statuses=[],
        started_ago=900,
        conditions=unschedulable if conditions else None,
    )
    del p["spec"]["nodeName"]
    return with_claim(p, "data-db-0")


def test_an_unbound_claim_is_named_with_its_storage_class_and_its_own_event() -> None:
    p = _waiting_for_claim(conditions=True)
    claim = pvc("data-db-0")
    failed = event(claim, "ProvisioningFailed", 'storageclass.storage.k8s.io "fast-ssd" not found')
    finding = run(p, claim, failed)[0].findings[0]
    assert finding.code == "Unschedulable.VolumeBinding"
    assert finding.evidence == [
        UNBOUND,
        "PersistentVolumeClaim data-db-0: Pending, StorageClass fast-ssd",
        'data-db-0 ProvisioningFailed: storageclass.storage.k8s.io "fast-ssd" not found',
    ]
    assert finding.suggestion.startswith("The claim is not bound: check that StorageClass fast-ssd")


def test_a_pending_pod_without_a_scheduler_verdict_is_blamed_on_its_unbound_claim() -> None:
    p = _waiting_for_claim(conditions=False)
    claim = pvc("data-db-0", storage_class=None)
    no_class = event(
        claim,
        "FailedBinding",
        "no persistent volumes available for this claim and no storage class is set",
    )
    finding = run(p, claim, no_class)[0].findings[0]
    assert finding.code == "Unschedulable.VolumeBinding"
    assert finding.title == "Pod db-0 waits for PersistentVolumeClaim data-db-0"
    assert finding.evidence == [
        "PersistentVolumeClaim data-db-0: Pending, no StorageClass (the cluster default, if any)",
        "data-db-0 FailedBinding: no persistent volumes available for this claim and no storage class is set",
    ]
    assert "names no StorageClass" in finding.suggestion


def test_a_claim_waiting_for_its_first_consumer_is_not_the_cause() -> None:
    p = _waiting_for_claim(conditions=False)
    claim = pvc("data-db-0")
    waits = event(
        claim,
        "WaitForFirstConsumer",
        "waiting for first consumer to be created before binding",
        type_="Normal",
    )
    assert [f.code for f in run(p, claim, waits)[0].findings] != ["Unschedulable.VolumeBinding"]


def test_a_list_holding_only_a_bound_claim_is_valid_input(tmp_path: Path) -> None:
    listed = tmp_path / "claims.yaml"
    listed.write_text(
        "apiVersion: v1\nkind: List\nitems:\n"
        "- apiVersion: v1\n  kind: PersistentVolumeClaim\n"
        "  metadata: {name: data-db-0, namespace: shop}\n  status: {phase: Bound}\n",
        encoding="utf-8",
    )
    snapshot = load_path(str(listed), stdin=None)  # type: ignore[arg-type]
    assert [c["metadata"]["name"] for c in snapshot.persistentvolumeclaims] == ["data-db-0"]
    assert diagnose(snapshot, now=NOW) == []
