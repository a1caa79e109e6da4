"""No false alarms, thresholds, grouping, ordering across pods, rollout diff, redaction."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from highpeaks_agent.engine import ObjectRef, Snapshot, Thresholds, diagnose, diagnose_target
from highpeaks_agent.engine.rollout_diff import diff_pod_templates
from highpeaks_agent.engine.snapshot import ContainerLog
from highpeaks_agent.engine.thresholds import DEFAULT_THRESHOLDS
from tests.support.strategies import json_values

from .builders import (
    NOW,
    container,
    controller_revision,
    cronjob,
    deployment,
    event,
    failed_job_pod,
    failing_deployment,
    job,
    job_condition,
    pod,
    pvc,
    replicaset,
    revisioned_set,
    running,
    terminated,
    waiting,
    with_claim,
)


def run(*objects: dict[str, Any], thresholds: Thresholds = DEFAULT_THRESHOLDS) -> list[Any]:
    return diagnose(Snapshot.from_objects(objects), now=NOW, thresholds=thresholds)


# --- not failures -------------------------------------------------------------------------


def test_pod_starting_normally_is_not_a_failure() -> None:
    dep, rs, p = failing_deployment(
        [waiting(reason="ContainerCreating")], phase="Pending", started_ago=60
    )
    assert run(dep, rs, p) == []


def test_pod_pending_past_threshold_with_mount_errors_fails() -> None:
    dep, rs, p = failing_deployment(
        [waiting(reason="ContainerCreating")], phase="Pending", started_ago=60
    )
    ev = event(
        p,
        "FailedMount",
        'MountVolume.SetUp failed for volume "data" : configmap "app-config" not found',
    )
    assert run(dep, rs, p, ev) == []
    assert (
        run(dep, rs, p, ev, thresholds=Thresholds(pending_seconds=30))[0].findings[0].code
        == "VolumeMountFailure"
    )


def test_pod_stuck_starting_past_threshold_fails() -> None:
    dep, rs, p = failing_deployment(
        [waiting(reason="ContainerCreating")], phase="Pending", started_ago=900
    )
    sandbox = event(
        p,
        "FailedCreatePodSandBox",
        'Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "3f2a": plugin type="calico" failed (add): connection is unauthorized',
    )
    finding = run(dep, rs, p, sandbox)[0].findings[0]
    assert (finding.code, finding.title) == (
        "ContainerStartError",
        "Pod checkout-7c9f8d6b5-x2k4q has been starting for 15 minutes",
    )
    pulling = event(
        p, "Pulling", 'Pulling image "registry.example.com/shop/app:1.0.0"', type_="Normal"
    )
    assert run(dep, rs, p, pulling)[0].findings[0].code == "ImagePullError"


def test_completed_job_pod_is_not_a_failure() -> None:
    done = {
        "name": "migrate",
        "ready": False,
        "restartCount": 0,
        "state": {"terminated": terminated(0, "Completed")},
    }
    p = pod("db-migrate-29384-7xk2p", phase="Succeeded", statuses=[done], restart_policy="Never")
    assert run(p) == []


def test_running_pod_with_old_restart_is_not_a_failure() -> None:
    dep, rs, p = failing_deployment(
        [running(restarts=7, last=terminated(1, finished_ago=7200), since=7190)]
    )
    assert run(dep, rs, p) == []


def test_recent_restarts_on_a_running_container_are_a_failure() -> None:
    dep, rs, p = failing_deployment(
        [running(restarts=7, ready=False, last=terminated(1, finished_ago=20), since=15)]
    )
    assert run(dep, rs, p)[0].findings[0].code == "CrashLoopBackOff"


def test_crash_loop_below_restart_threshold_is_not_yet_a_failure() -> None:
    dep, rs, p = failing_deployment([waiting(restarts=2, last=terminated(1))])
    assert run(dep, rs, p) == []
    assert (
        run(dep, rs, p, thresholds=Thresholds(crashloop_restarts=2))[0].findings[0].code
        == "CrashLoopBackOff"
    )


def test_replicaset_scaled_to_zero_and_healthy_old_revision_are_quiet() -> None:
    dep = deployment(available=2, replicas=2)
    old = replicaset(dep, "5d8c7b9f4", revision=1, replicas=0)
    new = replicaset(dep, "7c9f8d6b5", revision=2, replicas=2, ready=2)
    pods = [pod(f"checkout-7c9f8d6b5-{i}", owner=new) for i in range(2)]
    assert run(dep, old, new, *pods) == []


def test_terminating_pod_is_not_a_failure() -> None:
    dep, rs, p = failing_deployment([waiting(restarts=9, last=terminated(1))])
    p["metadata"]["deletionTimestamp"] = "2026-11-20T09:59:50Z"
    assert run(dep, rs, p) == []


def test_running_not_ready_only_after_threshold() -> None:
    dep, rs, p = failing_deployment([running(ready=False, since=120)])
    assert run(dep, rs, p) == []
    dep, rs, p = failing_deployment([running(ready=False, since=400)])
    assert run(dep, rs, p)[0].findings[0].code == "ReadinessProbeFailing"


# --- grouping and ordering ----------------------------------------------------------------


def test_many_pods_failing_the_same_way_are_one_finding() -> None:
    dep = deployment(replicas=5)
    rs = replicaset(dep, "7c9f8d6b5", revision=1, replicas=5)
    pods = [
        pod(
            f"checkout-7c9f8d6b5-{i}",
            owner=rs,
            statuses=[
                waiting(
                    reason="CreateContainerConfigError", message='secret "db-credentials" not found'
                )
            ],
        )
        for i in range(5)
    ]
    result = run(dep, rs, *pods)
    assert len(result) == 1
    assert result[0].target == ObjectRef(kind="Deployment", namespace="shop", name="checkout")
    assert len(result[0].findings) == 1
    assert len(result[0].findings[0].objects) == 5


def test_bare_pod_is_its_own_target_and_statefulset_groups_its_pods() -> None:
    sts = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "db", "namespace": "shop", "uid": "sts-1"},
        "spec": {},
        "status": {},
    }
    crash = [waiting(restarts=5, last=terminated(1))]
    members = [pod(f"db-{i}", owner=sts, statuses=crash) for i in range(2)]
    bare = pod("debug-shell", statuses=crash)
    targets = {(d.target.kind, d.target.name) for d in run(sts, *members, bare)}
    assert targets == {("StatefulSet", "db"), ("Pod", "debug-shell")}


def test_worst_workload_first() -> None:
    broken = deployment("payments")
    broken_rs = replicaset(broken, "6b7d9", revision=1)
    broken_pod = pod(
        "payments-6b7d9-a",
        owner=broken_rs,
        statuses=[waiting(reason="ErrImagePull", message="not found")],
    )
    degraded = deployment("search", available=2, replicas=3)
    degraded_rs = replicaset(degraded, "8f9a1", revision=1)
    degraded_pod = pod(
        "search-8f9a1-a", owner=degraded_rs, statuses=[running(ready=False, since=900)]
    )
    result = run(degraded, degraded_rs, degraded_pod, broken, broken_rs, broken_pod)
    assert [d.target.name for d in result] == ["payments", "search"]
    assert [d.severity.value for d in result] == ["critical", "warning"]


# --- rollout diff -------------------------------------------------------------------------


def test_rollout_changes_list_image_and_env_names_never_values() -> None:
    dep = deployment(revision=2, available=3, replicas=3)
    old_env = [
        {"name": "PAYMENTS_API_URL", "value": "http://payments"},
        {"name": "DB_PASSWORD", "value": "old-hunter2-secret"},
    ]
    new_env = [{"name": "DB_PASSWORD", "value": "new-hunter2-secret"}]
    old = replicaset(
        dep,
        "5d8c7b9f4",
        revision=1,
        replicas=3,
        ready=3,
        containers=[container(image="shop/checkout:2.13.4", env=old_env)],
    )
    new = replicaset(
        dep,
        "7c9f8d6b5",
        revision=2,
        containers=[container(image="shop/checkout:2.14.0", env=new_env)],
    )
    crashing = pod(
        "checkout-7c9f8d6b5-x2k4q", owner=new, statuses=[waiting(restarts=4, last=terminated(1))]
    )
    diagnosis = run(dep, old, new, crashing)[0]
    assert diagnosis.rollout is not None
    assert (diagnosis.rollout.revision, diagnosis.rollout.previous_revision) == (2, 1)
    assert diagnosis.rollout.changes == [
        "container app image: shop/checkout:2.13.4 -> shop/checkout:2.14.0",
        "container app env PAYMENTS_API_URL removed",
        "container app env DB_PASSWORD value changed",
    ]
    text = json.dumps(diagnosis.to_json_dict())
    assert "hunter2" not in text and "http://payments" not in text
    assert diagnosis.severity.value == "warning"  # revision 1 still serves


def test_rollout_diff_covers_resources_probes_command_and_volumes() -> None:
    old = {
        "spec": {
            "containers": [
                {
                    "name": "app",
                    "image": "a:1",
                    "resources": {"limits": {"memory": "512Mi"}},
                    "command": ["/app"],
                }
            ],
            "volumes": [{"name": "cfg", "configMap": {"name": "cfg-v1"}}],
        }
    }
    new = {
        "spec": {
            "containers": [
                {
                    "name": "app",
                    "image": "a:1",
                    "resources": {"limits": {"memory": "256Mi"}},
                    "command": ["/app", "--fast"],
                    "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}},
                },
                {"name": "sidecar", "image": "envoy:1.30"},
            ],
            "volumes": [{"name": "cfg", "configMap": {"name": "cfg-v2"}}],
        }
    }
    assert diff_pod_templates(old, new) == [
        "container sidecar added (image envoy:1.30)",
        'container app command: ["/app"] -> ["/app","--fast"]',
        "container app limits.memory: 512Mi -> 256Mi",
        "container app readinessProbe added",
        "volume cfg source changed",
    ]


def test_no_rollout_when_the_old_revision_is_the_failing_one() -> None:
    dep = deployment(revision=2)
    old = replicaset(dep, "5d8c7b9f4", revision=1)
    new = replicaset(dep, "7c9f8d6b5", revision=2, ready=1)
    old_pod = pod(
        "checkout-5d8c7b9f4-a", owner=old, statuses=[waiting(restarts=4, last=terminated(1))]
    )
    assert run(dep, old, new, old_pod)[0].rollout is None


# --- redaction and targets ----------------------------------------------------------------


def test_planted_secrets_never_reach_the_output() -> None:
    env = [{"name": "REDIS_PASSWORD", "value": "example-not-a-real-secret-123"}]
    dep, rs, p = failing_deployment(
        [
            waiting(
                restarts=4,
                last=terminated(1, message="auth failed with example-not-a-real-secret-123"),
            )
        ],
        containers=[container(env=env)],
    )
    snapshot = Snapshot.from_objects([dep, rs, p])
    snapshot.logs[("shop", p["metadata"]["name"], "app")] = ContainerLog(
        "connecting to postgres://orders:Sup3rS3cret@db:5432/orders\nFATAL: token ghp_1234567890abcdefghijklmnopqrstuvwxyzAB rejected\n",
        previous=True,
    )
    text = json.dumps(diagnose(snapshot, now=NOW)[0].to_json_dict())
    for secret in (
        "example-not-a-real-secret-123",
        "Sup3rS3cret",
        "ghp_1234567890abcdefghijklmnopqrstuvwxyzAB",
    ):
        assert secret not in text
    assert "[REDACTED" in text


def test_diagnose_target_healthy_and_missing() -> None:
    dep = deployment(available=2, replicas=2)
    rs = replicaset(dep, "7c9f8d6b5", revision=1, replicas=2, ready=2)
    snapshot = Snapshot.from_objects([dep, rs, pod("checkout-7c9f8d6b5-a", owner=rs)])
    healthy = diagnose_target(
        snapshot, ObjectRef(kind="Deployment", namespace="shop", name="checkout"), now=NOW
    )
    assert healthy is not None and healthy.findings == []
    assert healthy.summary == "Deployment shop/checkout is healthy: 2/2 replicas ready."
    assert (
        diagnose_target(
            snapshot, ObjectRef(kind="Deployment", namespace="shop", name="nope"), now=NOW
        )
        is None
    )


def test_namespace_filter() -> None:
    dep, rs, p = failing_deployment([waiting(reason="ErrImagePull", message="not found")])
    snapshot = Snapshot.from_objects([dep, rs, p])
    assert diagnose(snapshot, now=NOW, namespace="other") == []
    assert len(diagnose(snapshot, now=NOW, namespace="shop")) == 1


# --- robustness ---------------------------------------------------------------------------

kinds = st.sampled_from(
    ["Pod", "Event", "ReplicaSet", "Deployment", "StatefulSet", "Job", "Node", None]
)


@st.composite
def mangled_objects(draw: st.DrawFn) -> dict[str, Any]:
    """Realistic objects with random parts replaced by arbitrary JSON values."""
    dep, rs, p = failing_deployment([waiting(restarts=5, last=terminated(1))])
    failed = job(conditions=[job_condition("Failed", "BackoffLimitExceeded", "backoff limit")])
    sts = revisioned_set("StatefulSet")
    claim = pvc("data-db-0")
    base = draw(
        st.sampled_from(
            [
                dep,
                rs,
                p,
                event(p, "BackOff", "Back-off restarting failed container"),
                failed,
                failed_job_pod("nightly-report-a", failed),
                cronjob(),
                sts,
                controller_revision(sts, "5d8c7b9f6", 1, "registry.example.com/db:1"),
                with_claim(pod("db-0", owner=sts), "data-db-0"),
                claim,
                event(claim, "ProvisioningFailed", "storageclass not found"),
            ]
        )
    )
    obj: dict[str, Any] = {k: dict(v) if isinstance(v, dict) else v for k, v in base.items()}
    keys = ["metadata", "spec", "status", "involvedObject", "kind", "data", "revision"]
    # inside a workload's status and a revision's data; inside a pod, the claims it mounts
    nested = ["spec.volumes"] if base.get("kind") == "Pod" else ["status.conditions", "data.spec"]
    for key in draw(st.lists(st.sampled_from(keys + nested), max_size=3)):
        parent, _, child = key.rpartition(".")
        target = obj.get(parent) if parent else obj
        if isinstance(target, dict):
            target[child] = draw(json_values)
    obj.setdefault("kind", draw(kinds))
    return obj


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        mangled_objects() | st.dictionaries(st.text(max_size=10), json_values, max_size=6),
        max_size=8,
    )
)
def test_arbitrary_objects_never_crash_the_engine(objects: list[dict[str, Any]]) -> None:
    snapshot = Snapshot.from_objects(objects)
    for diagnosis in diagnose(snapshot, now=NOW):
        assert diagnosis.findings


def test_a_workload_still_starting_is_not_called_healthy() -> None:
    dep = deployment(available=0, replicas=2)
    dep["status"]["readyReplicas"] = 0
    rs = replicaset(dep, "7c9f8d6b5", revision=1, replicas=2, ready=0)
    snapshot = Snapshot.from_objects([dep, rs])
    starting = diagnose_target(
        snapshot, ObjectRef(kind="Deployment", namespace="shop", name="checkout"), now=NOW
    )
    assert starting is not None and starting.findings == []
    assert starting.summary == (
        "Deployment shop/checkout: nothing is failing yet; 0/2 replicas ready so far."
    )
