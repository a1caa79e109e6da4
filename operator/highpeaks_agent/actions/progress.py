"""Whether a workload's rollout after an action has completed, failed, or is still going.

Read the way ``kubectl rollout status`` reads it, never from an event: the controller must
have observed the patched generation, then

- a Deployment is complete when every replica is updated and available and no old one is
  left, and failed when its ``Progressing`` condition says ``ProgressDeadlineExceeded``
  after the action started (an older such condition is the rollout the action replaced);
- a StatefulSet when its current revision is the update revision and every replica is ready;
- a DaemonSet when every scheduled pod is updated and available.

``pause`` is done once the controller observed it. StatefulSets and DaemonSets have no
progress deadline of their own; :data:`DEFAULT_PROGRESS_DEADLINE` (a Deployment's default)
bounds the wait for them, and for a Deployment whose controller never reports. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from highpeaks_agent.engine.timeutil import parse_time

DEFAULT_PROGRESS_DEADLINE = 600
#: Slack over the deadline for the controller to notice it has passed.
DEADLINE_SLACK = 30
#: How long a StatefulSet may show no updated pod at its restored revision before it is
#: taken as waiting on a pod of the failing one (the controller replaces pods in seconds).
STUCK_SECONDS = 30

State = Literal["Progressing", "Succeeded", "Failed"]


@dataclass(frozen=True, slots=True)
class Progress:
    state: State
    message: str


def progress(
    workload: Mapping[str, Any], action: str, *, started: datetime, now: datetime
) -> Progress:
    """Where the rollout the action started stands at ``now``."""
    spec, status = _map(workload.get("spec")), _map(workload.get("status"))
    generation = _map(workload.get("metadata")).get("generation")
    observed = status.get("observedGeneration")
    caught_up = isinstance(generation, int) and isinstance(observed, int) and observed >= generation
    kind = str(workload.get("kind"))
    if caught_up and action == "pause":
        return Progress("Succeeded", "the rollout is paused")
    if caught_up:
        done = _complete(kind, spec, status)
        if done:
            return Progress("Succeeded", done)
        failed = _deadline_exceeded(status, started) or _stuck_statefulset(
            workload, started=started, now=now
        )
        if failed:
            return Progress("Failed", failed)
    bound = wait_bound(workload)
    if now > started + timedelta(seconds=bound + DEADLINE_SLACK):
        return Progress("Failed", f"the rollout did not complete within {bound} s")
    return Progress("Progressing", _waiting(kind, status))


def wait_bound(workload: Mapping[str, Any]) -> int:
    """Seconds after the start the operator stops waiting on its own: a Deployment's
    controller says when its deadline passes (the condition above), so this only bounds a
    controller that never answers — never shorter than :data:`DEFAULT_PROGRESS_DEADLINE`,
    since an outage may delay the patch itself."""
    return max(deadline_seconds(workload), DEFAULT_PROGRESS_DEADLINE)


def deadline_seconds(workload: Mapping[str, Any]) -> int:
    value = _map(workload.get("spec")).get("progressDeadlineSeconds")
    return value if isinstance(value, int) and value > 0 else DEFAULT_PROGRESS_DEADLINE


def _complete(kind: str, spec: Mapping[str, Any], status: Mapping[str, Any]) -> str:
    wanted = spec.get("replicas", 1)
    if kind == "Deployment":
        if spec.get("paused"):
            return ""
        counts = [status.get(k, 0) for k in ("updatedReplicas", "replicas", "availableReplicas")]
        if all(c == wanted for c in counts):
            return f"rollout complete: {wanted} of {wanted} replicas updated and available"
        return ""
    if kind == "StatefulSet":
        same = status.get("currentRevision") == status.get("updateRevision")
        if same and status.get("readyReplicas", 0) == wanted == status.get(
            "updatedReplicas", wanted
        ):
            return f"rollout complete: {wanted} of {wanted} replicas ready at revision {status.get('updateRevision')}"
        return ""
    desired = status.get("desiredNumberScheduled", 0)
    updated, available = status.get("updatedNumberScheduled", 0), status.get("numberAvailable", 0)
    if updated == desired == available:
        return f"rollout complete: {desired} of {desired} pods updated and available"
    return ""


def _stuck_statefulset(workload: Mapping[str, Any], *, started: datetime, now: datetime) -> str:
    """A StatefulSet that keeps waiting for a pod of the failing revision to become Ready.

    With ``podManagementPolicy: OrderedReady`` the controller does not replace a pod that never
    became Ready, even once the template is restored (Kubernetes' "forced rollback": the pods
    it already made from the bad template must be deleted by hand). Seen as: the controller
    observed the change, its update revision is the current one, yet not every replica is
    ready nor updated, :data:`STUCK_SECONDS` after the action started.
    """
    spec, status = _map(workload.get("spec")), _map(workload.get("status"))
    if workload.get("kind") != "StatefulSet" or spec.get("podManagementPolicy") == "Parallel":
        return ""
    wanted = spec.get("replicas", 1)
    revision = status.get("updateRevision")
    if (
        now - started < timedelta(seconds=STUCK_SECONDS)
        or revision != status.get("currentRevision")
        or status.get("updatedReplicas", 0) >= wanted
    ):
        return ""
    name, namespace = (
        _map(workload.get("metadata")).get("name"),
        _map(workload.get("metadata")).get("namespace"),
    )
    return (
        f"the template is restored, but StatefulSet {name} waits for a pod made from the failing "
        "revision to become Ready, which it never does (podManagementPolicy OrderedReady: "
        "Kubernetes' forced rollback). Delete its pods that are not at revision "
        f"{revision} (`kubectl -n {namespace} get pods -L controller-revision-hash`) and the "
        "controller makes them again from the restored template"
    )


def _deadline_exceeded(status: Mapping[str, Any], started: datetime) -> str:
    for condition in status.get("conditions") or []:
        if not isinstance(condition, Mapping) or condition.get("type") != "Progressing":
            continue
        if condition.get("reason") != "ProgressDeadlineExceeded":
            return ""
        when = parse_time(condition.get("lastUpdateTime") or condition.get("lastTransitionTime"))
        if when is not None and when >= started.replace(microsecond=0):
            return f"the rollout exceeded its progress deadline: {condition.get('message', '')}".strip()
    return ""


def _waiting(kind: str, status: Mapping[str, Any]) -> str:
    if kind == "Deployment":
        return (
            f"waiting: {status.get('updatedReplicas', 0)} updated, "
            f"{status.get('availableReplicas', 0)} available"
        )
    if kind == "StatefulSet":
        return f"waiting: {status.get('readyReplicas', 0)} ready"
    return f"waiting: {status.get('updatedNumberScheduled', 0)} updated"


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
