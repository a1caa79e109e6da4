"""Each input the engine used to pass over in silence, or name wrongly, reproduced."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from highpeaks_agent.engine import Snapshot, diagnose
from highpeaks_agent.engine.model import Diagnosis

from .builders import NOW, event, failing_deployment, node, pod, terminated, ts, waiting


def run(*objects: dict[str, Any]) -> list[Diagnosis]:
    return diagnose(Snapshot.from_objects(objects), now=NOW)


def codes(result: list[Diagnosis]) -> list[str]:
    return [finding.code for diagnosis in result for finding in diagnosis.findings]


def test_image_inspect_error_fails_at_once() -> None:
    message = 'Failed to inspect image "registry.example.com/shop/app:1.0.0": rpc error: code = Unknown desc = short read: expected 1024 bytes but got 0: unexpected EOF'
    dep, rs, p = failing_deployment([waiting(reason="ImageInspectError", message=message)])
    finding = run(dep, rs, p)[0].findings[0]
    assert finding.code == "ImagePullError"
    assert "cannot be inspected" in finding.title
    assert "crictl rmi" in finding.suggestion


def test_current_state_oom_killed_between_restarts() -> None:
    killed = {**waiting(restarts=4), "state": {"terminated": terminated(137, "OOMKilled")}}
    dep, rs, p = failing_deployment([killed])
    assert codes(run(dep, rs, p)) == ["OOMKilled"]


def test_mixed_container_states_name_both_causes() -> None:
    hook = waiting(
        "sidecar",
        "PreStartHookError",
        "failed to run pre-start hook for container: exit status 1",
    )
    crash = waiting("app", restarts=4, last=terminated(2, "Error"))
    dep, rs, p = failing_deployment([hook, crash], phase="Pending", started_ago=15 * 60)
    found = codes(run(dep, rs, p))
    assert found == ["ContainerStartError.Hook", "CrashLoopBackOff"]


def test_crash_loop_in_a_pod_pending_past_the_threshold_is_named() -> None:
    crash = waiting("app", restarts=2, last=terminated(2, "Error"))
    dep, rs, p = failing_deployment([crash], phase="Pending", started_ago=15 * 60)
    assert codes(run(dep, rs, p)) == ["CrashLoopBackOff"]


def test_scheduling_gated_pods_are_held_on_purpose() -> None:
    gated_condition = {
        "type": "PodScheduled",
        "status": "False",
        "reason": "SchedulingGated",
        "message": "Scheduling is blocked due to non-empty scheduling gates",
        "lastTransitionTime": ts(3600),
    }
    dep, rs, p = failing_deployment(
        [], phase="Pending", conditions=[gated_condition], started_ago=3600
    )
    del p["spec"]["nodeName"]
    assert run(dep, rs, p) == []
    p["status"]["conditions"] = []
    p["spec"]["schedulingGates"] = [{"name": "example.com/quota-check"}]
    assert run(dep, rs, p) == []


def test_a_pod_no_scheduler_picked_up_is_not_starting() -> None:
    dep, rs, p = failing_deployment([], phase="Pending", started_ago=31 * 60)
    del p["spec"]["nodeName"]
    p["spec"]["schedulerName"] = "my-scheduler"
    finding = run(dep, rs, p)[0].findings[0]
    assert finding.code == "Unschedulable.SchedulerMissing"
    assert "has been starting" not in finding.title


def test_plural_secrets_and_configmaps_wording() -> None:
    for message, code in (
        ('secrets "db-credentials" not found', "ConfigError.SecretNotFound"),
        ('configmaps "app-config" not found', "ConfigError.ConfigMapNotFound"),
    ):
        dep, rs, p = failing_deployment(
            [waiting(reason="CreateContainerConfigError", message=message)]
        )
        assert codes(run(dep, rs, p))[0] == code, message


def test_exec_format_error_is_not_a_crash_loop_or_missing_command() -> None:
    last = terminated(1, "Error", message="exec /docker-entrypoint.sh: exec format error")
    dep, rs, p = failing_deployment([waiting(restarts=5, last=last)])
    assert codes(run(dep, rs, p)) == ["ContainerStartError.ExecFormat"]


def test_exec_format_error_in_a_start_event() -> None:
    dep, rs, p = failing_deployment([waiting(restarts=1, last=terminated(128, "StartError"))])
    ev = event(
        p,
        "Failed",
        'Error: failed to start container "app": Error response from daemon: OCI runtime create '
        'failed: container_linux.go:367: starting container process caused: exec: "/app/run": '
        "exec format error: unknown",
    )
    assert codes(run(dep, rs, p, ev)) == ["ContainerStartError.ExecFormat"]


def test_a_pod_stuck_starting_names_what_its_containers_wait_on() -> None:
    sandbox = waiting(reason="CreatePodSandboxError", message="cni plugin not initialized")
    dep, rs, p = failing_deployment([sandbox], phase="Pending", started_ago=15 * 60)
    finding = run(dep, rs, p)[0].findings[0]
    assert finding.code == "ContainerStartError"
    assert "app: waiting (CreatePodSandboxError): cni plugin not initialized" in finding.evidence


def test_scheduler_message_named_by_the_predicate_ruling_out_most_nodes() -> None:
    for message, code in (
        (
            "0/10 nodes are available: 10 node(s) didn't match node selector, 4 Insufficient cpu.",
            "Unschedulable.NodeAffinity",
        ),
        ("fit failure summary on nodes : PodToleratesNodeTaints (1)", "Unschedulable.Taints"),
    ):
        condition = {"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}
        dep, rs, p = failing_deployment([], phase="Pending", conditions=[condition])
        ev = event(p, "FailedScheduling", message)
        assert codes(run(dep, rs, p, ev)) == [code], message


def test_newest_timestamp_reads_every_timestamp_of_the_input() -> None:
    sources = {
        "creationTimestamp": lambda p, t: p["metadata"].update(creationTimestamp=t),
        "startTime": lambda p, t: p["status"].update(startTime=t),
        "condition": lambda p, t: p["status"].update(
            conditions=[{"type": "Ready", "status": "True", "lastTransitionTime": t}]
        ),
        "running.startedAt": lambda p, t: p["status"]["containerStatuses"][0].update(
            state={"running": {"startedAt": t}}
        ),
        "lastState.finishedAt": lambda p, t: p["status"]["containerStatuses"][0].update(
            lastState={"terminated": {"exitCode": 1, "finishedAt": t}}
        ),
    }
    newest = "2026-11-20T11:30:00Z"
    for name, plant in sources.items():
        p = pod("web-1", started_ago=600)
        p["status"]["containerStatuses"][0]["state"] = {}
        plant(p, newest)
        assert Snapshot.from_objects([p]).newest_timestamp() == datetime(
            2026, 11, 20, 11, 30, tzinfo=UTC
        ), name
    ev = event(pod("web-2"), "Pulled", "Successfully pulled image", type_="Normal")
    ev.update(lastTimestamp=None, eventTime="2026-11-20T11:30:00.000000Z")
    assert Snapshot.from_objects([ev]).newest_timestamp() == datetime(
        2026, 11, 20, 11, 30, tzinfo=UTC
    )


def test_a_dump_with_only_pod_times_measures_ages_against_them_not_the_clock() -> None:
    """No event and no condition: "now" is the pod's own start, so it is not yet stuck."""
    dep, rs, p = failing_deployment(
        [waiting(reason="ContainerCreating")], phase="Pending", started_ago=9 * 3600
    )
    snapshot = Snapshot.from_objects([dep, rs, p])
    now = snapshot.newest_timestamp()
    assert now is not None and now < NOW
    assert diagnose(snapshot, now=now) == []


def test_a_dump_with_no_timestamp_at_all_measures_no_age() -> None:
    dep, rs, p = failing_deployment([waiting(reason="ContainerCreating")], phase="Pending")
    del p["metadata"]["creationTimestamp"], p["status"]["startTime"]
    snapshot = Snapshot.from_objects([dep, rs, p])
    assert snapshot.newest_timestamp() is None
    # whatever clock the caller falls back to, no age is measured from nothing
    assert diagnose(snapshot, now=datetime.now(UTC)) == []
    dep, rs, p = failing_deployment([waiting(reason="ErrImageNeverPull")], phase="Pending")
    del p["metadata"]["creationTimestamp"], p["status"]["startTime"]
    result = diagnose(Snapshot.from_objects([dep, rs, p]), now=datetime.now(UTC))
    assert codes(result) == ["ImagePullError.NeverPull"]
    assert "minutes" not in result[0].summary


def test_newest_timestamp_across_layouts_and_malformed_values() -> None:
    first = pod("web-1")
    first["metadata"]["creationTimestamp"] = "2026-11-20T11:59:59Z"
    first["status"]["startTime"] = "9999-99-99T99:99:99Z"  # the largest string, not a time
    second = pod("web-2")
    second["metadata"]["creationTimestamp"] = {"not": "a time"}
    second["status"]["startTime"] = "2026-11-20T11:59:59.500000Z"
    third = pod("web-3")
    third["status"]["startTime"] = "2026-11-20T13:00:00+01:00"  # 12:00 UTC, the newest
    third["status"]["conditions"] = ["not a condition", {"lastTransitionTime": 7}]
    newest = Snapshot.from_objects([first, second, third]).newest_timestamp()
    assert newest == datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    fractional = Snapshot.from_objects([first, second]).newest_timestamp()
    assert fractional == datetime(2026, 11, 20, 11, 59, 59, 500000, tzinfo=UTC)


def test_malformed_lists_are_read_as_absent_not_a_crash() -> None:
    p = pod("web-1", phase="Pending", started_ago=3600)
    p["status"].update(conditions=7, containerStatuses=3, initContainerStatuses="x")
    p["spec"].update(containers="abc", imagePullSecrets=4)
    lost = node()
    lost["status"]["conditions"], lost["spec"]["taints"] = 5, 9
    assert codes(run(p, lost)) == ["ContainerStartError"]
