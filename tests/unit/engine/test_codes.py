"""One test per finding code of CONTRACT §2, from realistic kubelet/scheduler/controller wording."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from highpeaks_agent.engine import Snapshot, diagnose
from highpeaks_agent.engine.catalogue import CATALOGUE
from highpeaks_agent.engine.model import Diagnosis
from highpeaks_agent.engine.snapshot import ContainerLog

from .builders import (
    NOW,
    container,
    deployment,
    event,
    failed_job_pod,
    failing_deployment,
    job,
    job_condition,
    marked_not_ready,
    node,
    pod,
    replicaset,
    running,
    terminated,
    unreachable_taints,
    waiting,
)


def run(
    *objects: dict[str, Any], logs: dict[tuple[str, str, str], str] | None = None
) -> list[Diagnosis]:
    snapshot = Snapshot.from_objects(objects)
    for key, text in (logs or {}).items():
        snapshot.logs[key] = ContainerLog(text, previous=True)
    return diagnose(snapshot, now=NOW)


def root(*objects: dict[str, Any], **kwargs: Any) -> str:
    result = run(*objects, **kwargs)
    assert len(result) == 1, result
    return result[0].findings[0].code


PULL_CASES = {
    "ImagePullError.NotFound": 'rpc error: code = NotFound desc = failed to pull and unpack image "registry.example.com/shop/app:1.0.1": failed to resolve reference "registry.example.com/shop/app:1.0.1": registry.example.com/shop/app:1.0.1: not found',
    "ImagePullError.Unauthorized": 'rpc error: code = Unknown desc = failed to pull and unpack image "registry.example.com/shop/app:1.0.0": failed to resolve reference "registry.example.com/shop/app:1.0.0": pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed',
    "ImagePullError.Network": 'rpc error: code = Unknown desc = failed to pull and unpack image "registry.example.com/shop/app:1.0.0": failed to resolve reference "registry.example.com/shop/app:1.0.0": failed to do request: Head "https://registry.example.com/v2/shop/app/manifests/1.0.0": dial tcp: lookup registry.example.com on 10.96.0.10:53: no such host',
    "ImagePullError": 'rpc error: code = Unknown desc = failed to pull and unpack image "registry.example.com/shop/app:1.0.0": failed to extract layer sha256:abc: write /var/lib/containerd/tmp: no space left on device',
}


@pytest.mark.parametrize("code", sorted(PULL_CASES))
def test_image_pull_errors(code: str) -> None:
    message = PULL_CASES[code]
    dep, rs, p = failing_deployment(
        [
            waiting(
                reason="ImagePullBackOff",
                message='Back-off pulling image "registry.example.com/shop/app:1.0.0"',
            )
        ]
    )
    ev = event(
        p, "Failed", f'Failed to pull image "registry.example.com/shop/app:1.0.0": {message}'
    )
    assert root(dep, rs, p, ev) == code


def test_err_image_pull_message_in_status_alone() -> None:
    dep, rs, p = failing_deployment(
        [waiting(reason="ErrImagePull", message=PULL_CASES["ImagePullError.NotFound"])]
    )
    result = run(dep, rs, p)
    assert result[0].findings[0].code == "ImagePullError.NotFound"
    assert result[0].severity.value == "critical"


def test_invalid_image_name() -> None:
    dep, rs, p = failing_deployment(
        [
            waiting(
                reason="InvalidImageName",
                message='Failed to apply default image tag "Shop/App:1.0": couldn\'t parse image reference "Shop/App:1.0": invalid reference format: repository name must be lowercase',
            )
        ]
    )
    assert root(dep, rs, p) == "InvalidImageName"


@pytest.mark.parametrize(
    ("message", "code", "needle"),
    [
        (
            'secret "db-credentials" not found',
            "ConfigError.SecretNotFound",
            "kubectl get secret db-credentials -n shop",
        ),
        (
            'configmap "app-config" not found',
            "ConfigError.ConfigMapNotFound",
            "kubectl get configmap app-config -n shop",
        ),
        (
            "couldn't find key password in Secret shop/db-credentials",
            "ConfigError.KeyNotFound",
            "password in Secret shop/db-credentials",
        ),
        (
            "failed to sync configmap cache: timed out waiting for the condition",
            "ConfigError",
            "kubectl describe pod",
        ),
    ],
)
def test_config_errors(message: str, code: str, needle: str) -> None:
    dep, rs, p = failing_deployment([waiting(reason="CreateContainerConfigError", message=message)])
    finding = run(dep, rs, p)[0].findings[0]
    assert finding.code == code
    assert needle in finding.suggestion
    assert message in finding.evidence


@pytest.mark.parametrize(
    ("reason", "message", "code"),
    [
        (
            "RunContainerError",
            'failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "/app/server": stat /app/server: no such file or directory: unknown',
            "ContainerStartError.CommandNotFound",
        ),
        (
            "CreateContainerError",
            'failed to generate container spec: exec: "gunicorn": executable file not found in $PATH',
            "ContainerStartError.CommandNotFound",
        ),
        (
            "CreateContainerConfigError",
            'container has runAsNonRoot and image will run as root (pod: "checkout-7c9f8d6b5-x2k4q_shop(1)", container: app)',
            "ContainerStartError.SecurityContext",
        ),
        (
            "RunContainerError",
            "failed to start container: OCI runtime create failed: unable to apply cgroup configuration: unknown",
            "ContainerStartError",
        ),
    ],
)
def test_container_start_errors(reason: str, message: str, code: str) -> None:
    dep, rs, p = failing_deployment([waiting(reason=reason, message=message)])
    assert root(dep, rs, p) == code


def test_crash_loop_with_log_evidence() -> None:
    dep, rs, p = failing_deployment(
        [
            waiting(
                restarts=4,
                message="back-off 1m20s restarting failed container=app",
                last=terminated(1),
            )
        ]
    )
    log = "starting\nloading catalogue\nshutting down: catalogue sync gave up\n"
    finding = run(dep, rs, p, logs={("shop", p["metadata"]["name"], "app"): log})[0].findings[0]
    assert finding.code == "CrashLoopBackOff"
    assert finding.title == "Container app keeps crashing (exit code 1)"
    assert "shutting down: catalogue sync gave up" in finding.evidence
    assert "--previous" in finding.suggestion


def test_oom_killed_before_crash_loop() -> None:
    limits = container(resources={"limits": {"memory": "256Mi"}})
    dep, rs, p = failing_deployment(
        [waiting(restarts=5, last=terminated(137, "OOMKilled"))], containers=[limits]
    )
    finding = run(dep, rs, p)[0].findings[0]
    assert finding.code == "OOMKilled"
    assert "256Mi" in finding.title


def test_container_exits_immediately() -> None:
    dep, rs, p = failing_deployment([waiting(restarts=6, last=terminated(0, "Completed"))])
    assert root(dep, rs, p) == "ContainerExitsImmediately"


def test_liveness_probe_failing_explains_crash_loop() -> None:
    dep, rs, p = failing_deployment([waiting(restarts=3, last=terminated(137, "Error"))])
    events = [
        event(
            p,
            "Unhealthy",
            'Liveness probe failed: Get "http://10.244.1.7:8080/healthz": context deadline exceeded (Client.Timeout exceeded while awaiting headers)',
            count=9,
        ),
        event(
            p, "Killing", "Container app failed liveness probe, will be restarted", type_="Normal"
        ),
        event(
            p,
            "BackOff",
            "Back-off restarting failed container app in pod checkout-7c9f8d6b5-x2k4q_shop(1)",
        ),
    ]
    assert root(dep, rs, p, *events) == "LivenessProbeFailing"


def test_readiness_probe_failing_before_rollout_stalled() -> None:
    stalled = [
        {
            "type": "Progressing",
            "status": "False",
            "reason": "ProgressDeadlineExceeded",
            "message": 'ReplicaSet "checkout-7c9f8d6b5" has timed out progressing.',
        }
    ]
    dep = deployment(conditions=stalled)
    rs = replicaset(dep, "7c9f8d6b5", revision=1)
    p = pod("checkout-7c9f8d6b5-x2k4q", owner=rs, statuses=[running(ready=False, since=900)])
    ev = event(
        p, "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503", count=40
    )
    codes = [f.code for f in run(dep, rs, p, ev)[0].findings]
    assert codes == ["ReadinessProbeFailing", "RolloutStalled"]


def test_startup_probe_failing() -> None:
    dep, rs, p = failing_deployment([waiting(restarts=3, last=terminated(137, "Error"))])
    ev = event(
        p,
        "Unhealthy",
        "Startup probe failed: dial tcp 10.244.1.7:8080: connect: connection refused",
        count=30,
    )
    assert root(dep, rs, p, ev) == "StartupProbeFailing"


def test_init_container_failing_before_pod_initializing() -> None:
    dep, rs, p = failing_deployment(
        [waiting(reason="PodInitializing")],
        init_statuses=[waiting("migrate", restarts=4, last=terminated(2, "Error"))],
        phase="Pending",
    )
    finding = run(dep, rs, p)[0].findings[0]
    assert finding.code == "InitContainerFailing"
    assert "-c migrate" in finding.suggestion


def test_volume_mount_failure() -> None:
    dep, rs, p = failing_deployment(
        [waiting(reason="ContainerCreating")], phase="Pending", started_ago=900
    )
    ev = event(
        p,
        "FailedMount",
        'MountVolume.SetUp failed for volume "tls" : secret "checkout-tls" not found',
        count=12,
    )
    assert root(dep, rs, p, ev) == "VolumeMountFailure"


UNSCHEDULABLE = {
    "Unschedulable.InsufficientResources": "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.",
    "Unschedulable.NodeAffinity": "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
    "Unschedulable.Taints": "0/1 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.",
    "Unschedulable.VolumeBinding": "0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
    "Unschedulable": "0/3 nodes are available: 3 node(s) didn't have free ports for the requested pod ports.",
}


@pytest.mark.parametrize("code", sorted(UNSCHEDULABLE))
def test_unschedulable(code: str) -> None:
    message = UNSCHEDULABLE[code]
    condition = {
        "type": "PodScheduled",
        "status": "False",
        "reason": "Unschedulable",
        "message": message,
    }
    dep, rs, p = failing_deployment([], phase="Pending", conditions=[condition], started_ago=20)
    ev = event(p, "FailedScheduling", message, count=3)
    assert root(dep, rs, p, ev) == code


def test_insufficient_resources_names_the_requests() -> None:
    condition = {
        "type": "PodScheduled",
        "status": "False",
        "reason": "Unschedulable",
        "message": UNSCHEDULABLE["Unschedulable.InsufficientResources"],
    }
    big = container(resources={"requests": {"cpu": "8", "memory": "16Gi"}})
    dep, rs, p = failing_deployment([], phase="Pending", conditions=[condition], containers=[big])
    assert "cpu=8" in run(dep, rs, p)[0].findings[0].suggestion


def test_evicted() -> None:
    p = pod(
        "batch-runner",
        phase="Failed",
        statuses=[],
        reason="Evicted",
        message="The node was low on resource: memory. Threshold quantity: 100Mi, available: 90Mi. Container app was using 1.2Gi, request is 256Mi, has larger consumption of memory.",
    )
    result = run(p)
    assert result[0].findings[0].code == "Evicted"
    assert result[0].target.kind == "Pod"


@pytest.mark.parametrize(
    ("message", "code"),
    [
        (
            'pods "checkout-7c9f8d6b5-x2k4q" is forbidden: exceeded quota: compute-quota, requested: limits.memory=1Gi, used: limits.memory=4Gi, limited: limits.memory=4Gi',
            "ReplicaCreateFailed.QuotaExceeded",
        ),
        (
            'pods "checkout-7c9f8d6b5-x2k4q" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container "app" must set securityContext.allowPrivilegeEscalation=false)',
            "ReplicaCreateFailed.Forbidden",
        ),
        (
            'Internal error occurred: failed calling webhook "inject.example.com": failed to call webhook: Post "https://injector.svc:443/inject": context deadline exceeded',
            "ReplicaCreateFailed",
        ),
    ],
)
def test_replica_create_failed(message: str, code: str) -> None:
    failure = [
        {"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate", "message": message}
    ]
    dep = deployment(conditions=failure)
    rs = replicaset(dep, "7c9f8d6b5", revision=1)
    ev = event(rs, "FailedCreate", f"Error creating: {message}", count=14)
    result = run(dep, rs, ev)
    assert result[0].findings[0].code == code
    assert result[0].target.kind == "Deployment"


def test_rollout_stalled_alone() -> None:
    stalled = [
        {
            "type": "Progressing",
            "status": "False",
            "reason": "ProgressDeadlineExceeded",
            "message": 'ReplicaSet "checkout-7c9f8d6b5" has timed out progressing.',
        }
    ]
    dep = deployment(conditions=stalled)
    assert root(dep) == "RolloutStalled"


#: The job controller's Failed condition, by reason (messages as it writes them).
JOB_FAILURES = {
    "JobFailed.BackoffLimitExceeded": (
        "BackoffLimitExceeded",
        "Job has reached the specified backoff limit",
    ),
    "JobFailed.DeadlineExceeded": (
        "DeadlineExceeded",
        "Job was active longer than specified deadline",
    ),
    "JobFailed.PodFailurePolicy": (
        "PodFailurePolicy",
        "Container app for pod shop/nightly-report-x7k2p failed with exit code 42 matching "
        "FailJob rule at index 0",
    ),
    "JobFailed": (
        "MaxFailedIndexesExceeded",
        "Job has exceeded the specified maximal number of failed indexes",
    ),
}


@pytest.mark.parametrize("code", sorted(JOB_FAILURES))
@pytest.mark.parametrize("with_pods", [True, False], ids=["with-pods", "job-alone"])
def test_a_failed_job_is_named_by_its_condition(code: str, with_pods: bool) -> None:
    reason, message = JOB_FAILURES[code]
    failed = job(failed=3, backoff_limit=2, conditions=[job_condition("Failed", reason, message)])
    pods = [failed_job_pod(f"nightly-report-{i}", failed, exit_code=42) for i in "abc"]
    result = run(failed, *(pods if with_pods else []))
    assert [d.target.kind for d in result] == ["Job"]
    finding = result[0].findings[0]
    assert (finding.code, result[0].severity.value) == (code, "critical")
    assert finding.detail == message
    assert any(reason in line for line in finding.evidence)
    if with_pods:
        assert "nightly-report-c/app: exit code 42 (Error)" in finding.evidence
        assert {o.name for o in finding.objects} >= {"nightly-report-a", "nightly-report-c"}
        assert [f.code for f in result[0].findings] == [code], "the bare exits are its evidence"


def test_never_pull_at_once() -> None:
    message = 'Container image "registry.example.com/shop/app:1.0.0" is not present with pull policy of Never'
    dep, rs, p = failing_deployment([waiting(reason="ErrImageNeverPull", message=message)])
    finding = run(dep, rs, p)[0].findings[0]
    assert finding.code == "ImagePullError.NeverPull"
    assert "worker-1" in finding.title
    assert "IfNotPresent" in finding.suggestion


@pytest.mark.parametrize(
    "reason", ["PostStartHookError", "PreStartHookError", "PreCreateHookError"]
)
def test_hook_reasons_fail_at_once(reason: str) -> None:
    message = 'Exec lifecycle hook ([/bin/sh -c /hooks/warm-cache.sh]) for Container "app" in Pod "checkout-7c9f8d6b5-x2k4q_shop(1)" failed - error: command \'/bin/sh -c /hooks/warm-cache.sh\' exited with 126: , message: "/bin/sh: /hooks/warm-cache.sh: Permission denied\\n"'
    dep, rs, p = failing_deployment(
        [waiting(reason=reason, message=message)], phase="Pending", started_ago=20
    )
    finding = run(dep, rs, p)[0].findings[0]
    assert finding.code == "ContainerStartError.Hook"
    assert message in finding.evidence


def test_failed_post_start_hook_event_names_the_hook_before_the_crash_loop() -> None:
    dep, rs, p = failing_deployment([waiting(restarts=1, last=terminated(137, "Error"))])
    ev = event(
        p,
        "FailedPostStartHook",
        'HTTP lifecycle hook (/warmup) for Container "app" in Pod "checkout-7c9f8d6b5-x2k4q_shop(1)" failed - error: Get "http://10.244.2.9:8080/warmup": dial tcp 10.244.2.9:8080: connect: connection refused, message: ""',
    )
    assert root(dep, rs, p, ev) == "ContainerStartError.Hook"


def test_an_old_hook_failure_on_a_container_running_again_is_quiet() -> None:
    """The kubelet runs a container only once its postStart hook succeeded."""
    dep, rs, p = failing_deployment([running(ready=False, restarts=1, since=60)])
    ev = event(p, "FailedPostStartHook", "PostStartHook failed", ago=120)
    assert run(dep, rs, p, ev) == []


def test_failed_pre_stop_hook_after_a_liveness_kill_is_not_the_cause() -> None:
    dep, rs, p = failing_deployment([waiting(restarts=3, last=terminated(137, "Error"))])
    events = [
        event(p, "Unhealthy", "Liveness probe failed: HTTP probe failed with statuscode: 500"),
        event(p, "Killing", "Container app failed liveness probe, will be restarted"),
        event(
            p,
            "FailedPreStopHook",
            'Exec lifecycle hook ([/bin/sh -c sleep 5 && /drain]) for Container "app" in Pod "checkout-7c9f8d6b5-x2k4q_shop(1)" failed - error: command \'/bin/sh -c sleep 5 && /drain\' exited with 127: , message: ""',
        ),
    ]
    assert root(dep, rs, p, *events) == "LivenessProbeFailing"


def test_exec_format_error_in_the_log_names_the_node_architecture() -> None:
    dep, rs, p = failing_deployment([waiting(restarts=1, last=terminated(1, "Error"))])
    p["spec"]["nodeName"] = "graviton-1"
    log = "exec /usr/local/bin/orders-api: exec format error\n"
    snapshot_objects = (dep, rs, p, node("graviton-1", arch="arm64"))
    finding = run(*snapshot_objects, logs={("shop", p["metadata"]["name"], "app"): log})[
        0
    ].findings[0]
    assert finding.code == "ContainerStartError.ExecFormat"
    assert "node graviton-1: kubernetes.io/arch=arm64" in finding.evidence
    assert "arm64" in finding.suggestion


def test_exec_format_error_reads_the_architecture_the_kubelet_reports() -> None:
    dep, rs, p = failing_deployment([waiting(restarts=2, last=terminated(1, "Error"))])
    worker = node(arch="arm64")
    worker["metadata"]["labels"] = {}
    worker["status"]["nodeInfo"] = {"architecture": "arm64", "operatingSystem": "linux"}
    log = "exec /app/server: exec format error\n"
    finding = run(dep, rs, p, worker, logs={("shop", p["metadata"]["name"], "app"): log})[
        0
    ].findings[0]
    assert "node worker-1: kubernetes.io/arch=arm64" in finding.evidence


def test_exec_format_error_as_a_start_error() -> None:
    message = 'failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "/app/server": exec format error: unknown'
    dep, rs, p = failing_deployment([waiting(reason="RunContainerError", message=message)])
    assert root(dep, rs, p) == "ContainerStartError.ExecFormat"


@pytest.mark.parametrize("scheduler", ["volcano", "default-scheduler"])
def test_scheduler_missing(scheduler: str) -> None:
    dep, rs, p = failing_deployment([], phase="Pending", started_ago=31 * 60)
    del p["spec"]["nodeName"]
    p["spec"]["schedulerName"] = scheduler
    finding = run(dep, rs, p)[0].findings[0]
    assert finding.code == "Unschedulable.SchedulerMissing"
    assert scheduler in finding.title
    assert "starting" not in finding.title


def test_scheduler_missing_only_after_the_pending_threshold() -> None:
    dep, rs, p = failing_deployment([], phase="Pending", started_ago=60)
    del p["spec"]["nodeName"]
    p["spec"]["schedulerName"] = "volcano"
    assert run(dep, rs, p) == []


@pytest.mark.parametrize(
    ("ready", "taint"),
    [
        ("Unknown", "node.kubernetes.io/unreachable"),
        ("False", "node.kubernetes.io/not-ready"),
        ("True", "node.kubernetes.io/unreachable"),
    ],
)
def test_node_not_ready(ready: str, taint: str) -> None:
    dep, rs, p = failing_deployment([running(ready=False)])
    lost = node(ready=ready, taints=[{"key": taint, "effect": "NoExecute"}])
    finding = run(dep, rs, p, lost)[0].findings[0]
    assert finding.code == "NodeNotReady"
    assert f"node worker-1: taint {taint}:NoExecute" in finding.evidence


def test_node_lost_pod_reason_without_the_node() -> None:
    p = pod(
        "legacy-worker",
        phase="Unknown",
        reason="NodeLost",
        message="Node worker-1 which was running pod legacy-worker is unresponsive",
    )
    finding = run(p)[0].findings[0]
    assert finding.code == "NodeNotReady"
    assert "is unresponsive" in finding.detail


def test_pod_stuck_terminating_on_a_lost_node_is_not_a_rollout_replacement() -> None:
    dep, rs, p = failing_deployment([running()])
    p["metadata"]["deletionTimestamp"] = "2026-11-20T09:50:00Z"
    assert run(dep, rs, p, node(ready="True")) == []
    assert root(dep, rs, p, node(ready="Unknown")) == "NodeNotReady"


def test_a_live_read_pod_on_an_unreachable_node_shows_the_nodes_evidence() -> None:
    """What the live reader returns: the pod as the node lifecycle controller marked it (its
    containers still running and ready) and the node it read by name."""
    dep, rs, p = failing_deployment([running()])
    lost = node(ready="Unknown", taints=unreachable_taints(), heartbeat_ago=200)
    (diagnosis,) = run(dep, rs, marked_not_ready(p), lost)
    finding = diagnosis.findings[0]
    assert finding.code == "NodeNotReady"
    assert finding.evidence[:3] == [
        "node worker-1: Ready=Unknown (NodeStatusUnknown: Kubelet stopped posting node status.) "
        f"since {lost['status']['conditions'][0]['lastTransitionTime']}",
        "node worker-1: taint node.kubernetes.io/unreachable:NoSchedule",
        "node worker-1: taint node.kubernetes.io/unreachable:NoExecute",
    ]
    assert "kubectl describe node worker-1" in finding.suggestion
    # without the node (and before the NodeNotReady event) the pod alone shows nothing wrong
    assert run(dep, rs, marked_not_ready(p)) == []


def test_healthy_node_is_quiet() -> None:
    dep, rs, p = failing_deployment([running()])
    assert run(dep, rs, p, node()) == []


def test_every_contract_code_is_covered_by_a_test_here() -> None:
    source = Path(__file__).read_text(encoding="utf-8")
    missing = [code for code in CATALOGUE if f'"{code}"' not in source]
    assert not missing, missing


# --- crashes refined by the crashed instance's log (CONTRACT §2a) ----------------------------


def crash_with_log(
    log: str, exit_code: int = 1, **spec: Any
) -> tuple[dict[str, Any], list[Diagnosis]]:
    """A Deployment whose one container crash-loops with ``log`` as its previous log."""
    dep, rs, p = failing_deployment(
        [waiting(restarts=5, last=terminated(exit_code))], containers=[container(**spec)]
    )
    result = run(dep, rs, p, logs={("shop", p["metadata"]["name"], "app"): log})
    assert len(result) == 1, result
    return p, result


def test_crash_missing_module() -> None:
    log = (
        "Traceback (most recent call last):\n"
        '  File "/app/main.py", line 3, in <module>\n'
        "    import stripe\n"
        "ModuleNotFoundError: No module named 'stripe'\n"
    )
    _, result = crash_with_log(log)
    finding = result[0].findings[0]
    assert finding.code == "CrashLoopBackOff.MissingModule"
    assert finding.evidence[0] == "ModuleNotFoundError: No module named 'stripe'"
    assert "stripe" in finding.suggestion and "registry.example.com/shop/app:1.0.0" in (
        finding.suggestion
    )


def test_crash_config_missing_names_the_env_var_the_spec_does_not_set() -> None:
    log = "2026/11/20 09:59:30 FATAL: environment variable PAYMENTS_API_URL is not set\n"
    env = [{"name": "LOG_LEVEL", "value": "info"}]
    _, result = crash_with_log(log, env=env, envFrom=[{"configMapRef": {"name": "checkout"}}])
    finding = result[0].findings[0]
    assert finding.code == "CrashLoopBackOff.ConfigMissing"
    assert finding.evidence[0] == log.strip()
    assert "does not set PAYMENTS_API_URL on container app" in finding.suggestion
    assert "ConfigMap checkout" in finding.suggestion


def test_crash_config_invalid_gives_the_parsers_position() -> None:
    log = "Error: failed to load config: yaml: line 14: mapping values are not allowed in this context\n"
    mounts = [{"name": "config", "mountPath": "/etc/app"}]
    _, result = crash_with_log(log, volumeMounts=mounts)
    finding = result[0].findings[0]
    assert finding.code == "CrashLoopBackOff.ConfigInvalid"
    assert "line 14" in finding.suggestion


def test_crash_permission_denied_names_read_only_root_filesystem() -> None:
    log = (
        '2026/11/20 09:59:58 [emerg] 1#1: mkdir() "/var/cache/nginx/client_temp" failed '
        "(30: Read-only file system)\n"
        'nginx: [emerg] mkdir() "/var/cache/nginx/client_temp" failed (30: Read-only file system)\n'
    )
    _, result = crash_with_log(log, securityContext={"readOnlyRootFilesystem": True})
    finding = result[0].findings[0]
    assert finding.code == "CrashLoopBackOff.PermissionDenied"
    assert finding.evidence[0].startswith("nginx: [emerg] mkdir()")
    assert "readOnlyRootFilesystem is true on container app" in finding.suggestion
    assert "emptyDir at /var/cache/nginx" in finding.suggestion


def test_crash_permission_denied_on_a_low_port_as_non_root() -> None:
    log = "nginx: [emerg] bind() to 0.0.0.0:80 failed (13: Permission denied)\n"
    _, result = crash_with_log(log, securityContext={"runAsUser": 101, "runAsNonRoot": True})
    finding = result[0].findings[0]
    assert finding.code == "CrashLoopBackOff.PermissionDenied"
    assert "runs as user 101 and port 80 is below 1024" in finding.suggestion


def test_crash_port_in_use_names_the_other_container() -> None:
    log = "Error: listen EADDRINUSE: address already in use :::8080\n"
    dep, rs, p = failing_deployment(
        [waiting(restarts=5, last=terminated(1)), running("sidecar")],
        containers=[
            container(ports=[{"containerPort": 8080}]),
            container("sidecar", "envoy:1.30", ports=[{"containerPort": 8080}]),
        ],
    )
    result = run(dep, rs, p, logs={("shop", p["metadata"]["name"], "app"): log})
    finding = result[0].findings[0]
    assert finding.code == "CrashLoopBackOff.PortInUse"
    assert "Port 8080 is also declared by container sidecar" in finding.suggestion


def test_crash_dependency_unreachable_names_host_and_port() -> None:
    log = (
        "org.springframework.beans.factory.BeanCreationException: Error creating bean\n"
        "Caused by: org.postgresql.util.PSQLException: Connection to postgres:5432 refused.\n"
        "\tat org.postgresql.core.v3.ConnectionFactoryImpl.openConnectionImpl(ConnectionFactoryImpl.java:319)\n"
        "Caused by: java.net.ConnectException: Connection refused\n"
        "\tat java.base/sun.nio.ch.Net.connect0(Native Method)\n"
        "\t... 42 more\n"
    )
    _, result = crash_with_log(log)
    finding = result[0].findings[0]
    assert finding.code == "CrashLoopBackOff.DependencyUnreachable"
    assert finding.evidence[0] == "Caused by: java.net.ConnectException: Connection refused"


def test_crash_auth_failed_names_the_secret() -> None:
    log = 'psycopg2.OperationalError: FATAL:  password authentication failed for user "shop"\n'
    env = [
        {
            "name": "DB_PASSWORD",
            "valueFrom": {"secretKeyRef": {"name": "shop-db", "key": "password"}},
        }
    ]
    _, result = crash_with_log(log, env=env)
    finding = result[0].findings[0]
    assert finding.code == "CrashLoopBackOff.AuthFailed"
    assert "(from env DB_PASSWORD from Secret shop-db key password)" in finding.suggestion
    assert 'user "shop"' not in finding.title and "of user shop" in finding.title


def test_crash_tls_error_names_host_and_problem() -> None:
    log = (
        'level=fatal msg="cannot reach vault" error="Get \\"https://vault.infra:8200/v1/sys/health\\":'
        ' x509: certificate signed by unknown authority"\n'
    )
    _, result = crash_with_log(log)
    finding = result[0].findings[0]
    assert finding.code == "CrashLoopBackOff.TLSError"
    assert "vault.infra:8200" in finding.title
    assert "CA the container does not trust" in finding.suggestion


def test_crash_out_of_memory_sets_the_heap_flag_against_the_limit() -> None:
    log = (
        'Exception in thread "main" java.lang.OutOfMemoryError: Java heap space\n'
        "\tat java.base/java.util.Arrays.copyOf(Arrays.java:3537)\n"
        "\tat com.shop.Catalogue.load(Catalogue.java:88)\n"
    )
    spec = {
        "env": [{"name": "JAVA_OPTS", "value": "-Xms256m -Xmx2g"}],
        "resources": {"limits": {"memory": "1Gi"}},
    }
    _, result = crash_with_log(log, **spec)
    finding = result[0].findings[0]
    assert finding.code == "CrashLoopBackOff.OutOfMemory"
    assert "-Xmx2g against a memory limit of 1Gi" in finding.suggestion


def test_kernel_oom_kill_wins_over_the_logs_own_words() -> None:
    dep, rs, p = failing_deployment([waiting(restarts=5, last=terminated(137, "OOMKilled"))])
    log = 'Exception in thread "main" java.lang.OutOfMemoryError: Java heap space\n'
    result = run(dep, rs, p, logs={("shop", p["metadata"]["name"], "app"): log})
    assert result[0].findings[0].code == "OOMKilled"


def test_crash_disk_full_names_the_volume() -> None:
    log = "OSError: [Errno 28] No space left on device: '/data/exports/2026-11-20.csv'\n"
    _, result = crash_with_log(log, volumeMounts=[{"name": "data", "mountPath": "/data"}])
    finding = result[0].findings[0]
    assert finding.code == "CrashLoopBackOff.DiskFull"
    assert "mounted at /data" in finding.suggestion


def test_crash_database_schema_asks_for_migrations() -> None:
    log = (
        "sqlalchemy.exc.ProgrammingError: (psycopg2.errors.UndefinedTable) "
        'relation "orders" does not exist\n'
    )
    _, result = crash_with_log(log)
    finding = result[0].findings[0]
    assert finding.code == "CrashLoopBackOff.DatabaseSchema"
    assert "migrations" in finding.suggestion and "orders" in finding.title


def test_crash_app_error_names_type_and_top_frame() -> None:
    log = (
        "panic: runtime error: invalid memory address or nil pointer dereference\n"
        "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x6b2f1c]\n\n"
        "goroutine 1 [running]:\n"
        "github.com/shop/checkout/internal/cart.(*Cart).Total(0x0)\n"
        "\t/src/internal/cart/cart.go:42 +0x1c\n"
        "main.main()\n"
        "\t/src/main.go:27 +0x25\n"
    )
    _, result = crash_with_log(log, exit_code=2)
    finding = result[0].findings[0]
    assert finding.code == "CrashLoopBackOff.AppError"
    assert finding.evidence[0].startswith("panic: runtime error")
    assert "github.com/shop/checkout/internal/cart.(*Cart).Total(0x0)" in finding.title


def test_a_retry_that_then_connected_refines_nothing() -> None:
    log = (
        "2026-11-20T09:59:00Z ERROR dial tcp 10.96.12.7:5432: connect: connection refused\n"
        "2026-11-20T09:59:05Z INFO connected to db:5432\n"
        "2026-11-20T09:59:06Z INFO listening on :8080\n"
        "shutting down\n"
    )
    _, result = crash_with_log(log)
    assert result[0].findings[0].code == "CrashLoopBackOff"


def test_a_handled_warning_refines_nothing_but_the_error_after_it_does() -> None:
    warned = '{"level":"warn","msg":"retrying","error":"dial tcp db:5432: connect: connection refused"}\n'
    _, result = crash_with_log(warned)
    assert result[0].findings[0].code == "CrashLoopBackOff"
    failed = (
        warned
        + '{"level":"fatal","msg":"giving up","error":"pq: password authentication failed for user \\"shop\\""}\n'
    )
    _, result = crash_with_log(failed)
    assert result[0].findings[0].code == "CrashLoopBackOff.AuthFailed"
