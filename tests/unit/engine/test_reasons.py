"""Every reason the kubelet writes maps to one code, at the moment classify.py says.

Each row of the reason tables is run through the whole engine: just before its moment the
pod is quiet, at its moment the root cause is the row's code.
"""

from __future__ import annotations

from typing import Any

import pytest

from highpeaks_agent.engine import Snapshot, diagnose
from highpeaks_agent.engine.catalogue import CATALOGUE
from highpeaks_agent.engine.classify import (
    POD_REASONS,
    TERMINATED_REASONS,
    WAITING_REASONS,
    When,
    pod_reason_rule,
)
from highpeaks_agent.engine.model import Diagnosis
from highpeaks_agent.engine.thresholds import DEFAULT_THRESHOLDS

from .builders import NOW, failing_deployment, pod, terminated, waiting

RESTARTS = DEFAULT_THRESHOLDS.crashloop_restarts
PENDING = DEFAULT_THRESHOLDS.pending_seconds


def run(*objects: dict[str, Any]) -> list[Diagnosis]:
    return diagnose(Snapshot.from_objects(objects), now=NOW)


def root_code(result: list[Diagnosis]) -> str:
    assert len(result) == 1, result
    return result[0].findings[0].code


def test_every_code_in_the_tables_is_catalogued() -> None:
    for table in (WAITING_REASONS, TERMINATED_REASONS, POD_REASONS):
        for reason, rule in table.items():
            assert rule.code is None or rule.code in CATALOGUE, reason
            assert (rule.code is None) == (rule.when is When.NEVER), reason


def _waiting_pod(reason: str, *, restarts: int, age: float) -> tuple[dict[str, Any], ...]:
    last = terminated(1, "Error") if reason == "CrashLoopBackOff" else None
    status = waiting(reason=reason, restarts=restarts, last=last)
    if WAITING_REASONS[reason].code == "InitContainerFailing":
        return failing_deployment(
            [waiting(reason="PodInitializing")],
            init_statuses=[{**status, "name": "migrate"}],
            phase="Pending",
            started_ago=age,
        )
    phase = "Running" if reason == "CrashLoopBackOff" else "Pending"
    return failing_deployment([status], phase=phase, started_ago=age)


@pytest.mark.parametrize("reason", sorted(WAITING_REASONS))
def test_waiting_reason(reason: str) -> None:
    rule = WAITING_REASONS[reason]
    if rule.when is When.AT_ONCE:
        before, at = (
            _waiting_pod(reason, restarts=0, age=1),
            _waiting_pod(reason, restarts=0, age=1),
        )
    elif rule.when is When.RESTARTS:
        before = _waiting_pod(reason, restarts=RESTARTS - 1, age=60)
        at = _waiting_pod(reason, restarts=RESTARTS, age=60)
    else:
        before = _waiting_pod(reason, restarts=0, age=PENDING - 60)
        at = _waiting_pod(reason, restarts=0, age=PENDING + 60)
    if rule.when is not When.AT_ONCE:
        assert run(*before) == [], reason
    assert root_code(run(*at)) == rule.code, reason


_EXIT_CODES = {"OOMKilled": 137, "ContainerStatusUnknown": 137, "Completed": 0}


def _terminated_pod(reason: str, *, restarts: int) -> tuple[dict[str, Any], ...]:
    state = terminated(_EXIT_CODES.get(reason, 1), reason, finished_ago=2)
    status = {**waiting(restarts=restarts), "state": {"terminated": state}}
    return failing_deployment([status], phase="Running", started_ago=600)


@pytest.mark.parametrize("reason", sorted(TERMINATED_REASONS))
def test_current_terminated_reason(reason: str) -> None:
    """The state between two restarts, before the kubelet shows CrashLoopBackOff."""
    rule = TERMINATED_REASONS[reason]
    if rule.when is When.RESTARTS:
        assert run(*_terminated_pod(reason, restarts=RESTARTS - 1)) == [], reason
    restarts = RESTARTS if rule.when is When.RESTARTS else 0
    assert root_code(run(*_terminated_pod(reason, restarts=restarts))) == rule.code, reason


@pytest.mark.parametrize("reason", sorted(TERMINATED_REASONS))
def test_last_terminated_reason_behind_a_crash_loop(reason: str) -> None:
    rule = TERMINATED_REASONS[reason]
    last = terminated(_EXIT_CODES.get(reason, 1), reason)
    status = waiting(
        restarts=RESTARTS, last=last, message="back-off 40s restarting failed container"
    )
    dep, rs, p = failing_deployment([status])
    assert root_code(run(dep, rs, p)) == rule.code, reason


@pytest.mark.parametrize("reason", sorted(POD_REASONS))
def test_pod_reason(reason: str) -> None:
    rule = POD_REASONS[reason]
    p = pod(
        "batch-7h2k",
        phase="Failed",
        statuses=[],
        reason=reason,
        message=f"Pod was rejected: {reason}",
    )
    result = run(p)
    if rule.code is None:
        assert result == [], reason
    else:
        assert root_code(result) == rule.code, reason


def test_any_out_of_resource_reason_is_an_admission_refusal() -> None:
    rule = pod_reason_rule("OutOfnvidia.com/gpu")
    assert rule is not None and rule.code == "Unschedulable.InsufficientResources"
    assert pod_reason_rule(None) is None and pod_reason_rule("SomethingNew") is None


def test_the_tables_cover_the_reasons_the_kubelet_writes() -> None:
    """The constants of pkg/kubelet/images, pkg/kubelet/container/sync_result.go,
    pkg/kubelet/kuberuntime and the runtimes' terminated reasons, each listed once."""
    kubelet = {
        "ErrImagePull", "ImagePullBackOff", "ImageInspectError", "ErrImageNeverPull",
        "RegistryUnavailable", "InvalidImageName", "CreateContainerConfigError",
        "CreateContainerError", "PreCreateHookError", "PreStartHookError", "PostStartHookError",
        "RunContainerError", "KillContainerError", "VerifyNonRootError", "RunInitContainerError",
        "CreatePodSandboxError", "ConfigPodSandboxError", "KillPodSandboxError",
        "CrashLoopBackOff", "ContainerCreating", "PodInitializing", "StartError",
        "ContainerCannotRun",
    }  # fmt: skip
    terminations = {"OOMKilled", "Error", "Completed", "ContainerStatusUnknown", "StartError"}
    pods = {"Evicted", "NodeLost", "DeadlineExceeded", "UnexpectedAdmissionError", "NodeAffinity"}
    assert kubelet <= set(WAITING_REASONS)
    assert terminations <= set(TERMINATED_REASONS)
    assert pods <= set(POD_REASONS)
