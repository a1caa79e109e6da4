"""Every rule, in the order it is tried: the one place that says what is looked at first.

A pod is read by the pod rules in turn; the first that finds something decides, so an
evicted or unschedulable pod is not also reported for its containers, and a pod is only
"stuck starting" when none of its containers explains why. Each container is read by the
container rules in turn, and the first finding is that container's: the waiting reasons that
fail at once come first, then a crash loop's most specific explanation, then a container that
runs but never becomes Ready. Every workload rule runs; their findings join the pods'.
When each kubelet reason fails (at once, by restarts, after PENDING_SECONDS) is listed in
``classify.py``; the rules take their reason sets from there.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from highpeaks_agent.engine.analyzers import (
    config,
    controllers,
    crash_causes,
    crashes,
    images,
    jobs,
    nodes,
    probes,
    scheduling,
    startup,
    volumes,
)
from highpeaks_agent.engine.analyzers.context import (
    ContainerContext,
    ContainerRule,
    PodContext,
    PodRule,
    WorkloadContext,
    WorkloadRule,
    as_list,
)
from highpeaks_agent.engine.analyzers.settled import settled
from highpeaks_agent.engine.model import Finding
from highpeaks_agent.engine.snapshot import Snapshot, meta
from highpeaks_agent.engine.thresholds import Thresholds

CONTAINER_RULES: Final[tuple[ContainerRule, ...]] = (
    # waiting reasons that fail at once
    images.pull_failing,
    images.invalid_image_name,
    config.config_error,
    startup.hook_failing,
    startup.cannot_start,
    startup.exec_format_error,
    # a crash loop: what explains it first, the bare crash loop last
    crashes.oom_killed,
    probes.liveness_probe_failing,
    probes.startup_probe_restarts,
    # an init container's own log says why it fails before the bare "it fails" does
    crash_causes.crash_explained_by_log,
    startup.init_container_failing,
    crashes.exits_immediately,
    crashes.crash_loop_back_off,
    # running, but not Ready past the threshold
    probes.startup_probe_pending,
    probes.readiness_probe_failing,
)


def each_container(pod: PodContext) -> list[Finding]:
    """The first container rule's finding for each init container, then each container."""
    findings = []
    for key, is_init in (("initContainerStatuses", True), ("containerStatuses", False)):
        for status in as_list(pod.status.get(key)):
            if isinstance(status, Mapping) and isinstance(status.get("name"), str):
                finding = _first_container_finding(ContainerContext(pod, status, is_init=is_init))
                if finding is not None:
                    findings.append(finding)
    return findings


def _first_container_finding(container: ContainerContext) -> Finding | None:
    for rule in CONTAINER_RULES:
        if (finding := rule(container)) is not None:
            return finding
    return None


POD_RULES: Final[tuple[PodRule, ...]] = (
    # a lost node explains whatever its pods' stale statuses show
    nodes.node_not_ready,
    scheduling.evicted,
    scheduling.refused_by_node,
    scheduling.unschedulable,
    # never scheduled: a claim that cannot bind says more than the missing scheduler verdict
    volumes.unbound_claim,
    scheduling.scheduler_missing,
    each_container,
    # still Pending past the threshold, with no container to blame
    startup.volume_mount_failure,
    images.still_pulling,
    startup.stuck_starting,
)

WORKLOAD_RULES: Final[tuple[WorkloadRule, ...]] = (
    controllers.rollout_stalled,
    controllers.replica_failures,
    jobs.job_failed,
)


def analyze_pod(
    pod: Mapping[str, Any], snapshot: Snapshot, now: datetime, thresholds: Thresholds
) -> list[Finding]:
    """Every failure this pod shows past the thresholds; empty when it is healthy or starting."""
    if settled(pod, snapshot, thresholds):
        return []  # the common case, decided without building the rules' contexts
    context = PodContext(pod, snapshot, now, thresholds)
    if context.status.get("phase") == "Succeeded" or _held_on_purpose(context):
        return []
    if meta(pod).get("deletionTimestamp"):
        # being replaced in a rollout is no failure; stuck terminating on a lost node is
        return nodes.node_not_ready(context)
    for rule in POD_RULES:
        if findings := rule(context):
            return findings
    return []


def _held_on_purpose(pod: PodContext) -> bool:
    """Not yet scheduled because schedulingGates hold it: whoever set the gates lifts them."""
    if pod.spec.get("nodeName"):
        return False
    scheduled = pod.condition("PodScheduled") or {}
    return bool(pod.spec.get("schedulingGates")) or scheduled.get("reason") == "SchedulingGated"


def analyze_workload(workload: WorkloadContext) -> list[Finding]:
    """The findings of every workload rule, in rule order."""
    return [finding for rule in WORKLOAD_RULES for finding in rule(workload)]
