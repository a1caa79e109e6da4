"""The workload kinds that get incidents, and what each kind's controller says about itself.

A Deployment, StatefulSet or DaemonSet has one incident per update revision and root cause:
a Deployment's revision is its ``deployment.kubernetes.io/revision`` annotation, a
StatefulSet's or DaemonSet's the number of the ControllerRevision it is rolling out. A Job
runs once, so it has one incident per root cause and no revision; a Job a CronJob created is
noted on the CronJob too. Per kind here: whether its controller reports trouble (a watch
event worth a look), whether it has recovered (an incident resolved), and its revision.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from highpeaks_agent.controller.watch_filters import deployment_needs_look
from highpeaks_agent.engine.revisions import revision_number, revisions_of, update_revision
from highpeaks_agent.engine.snapshot import Snapshot, controller_ref, meta
from highpeaks_agent.engine.workloads import revision as deployment_revision


@dataclass(frozen=True, slots=True)
class IncidentKind:
    """One kind of workload that gets incident notes."""

    kind: str
    group: str
    version: str
    plural: str
    needs_look: Callable[[Mapping[str, Any]], bool]
    recovered: Callable[[Mapping[str, Any]], bool]
    #: Whether incidents are per revision (a Job's are per Job).
    revisioned: bool = True

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}"


def _int(status: Mapping[str, Any], key: str) -> int:
    value = status.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _status(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    status = obj.get("status")
    return status if isinstance(status, Mapping) else {}


def _observed(obj: Mapping[str, Any]) -> bool:
    """The controller has seen the current spec (its status is not about an older one)."""
    generation = meta(obj).get("generation")
    observed = _status(obj).get("observedGeneration")
    return generation is None or observed is None or observed >= generation


def _replicas(obj: Mapping[str, Any]) -> int:
    spec = obj.get("spec")
    replicas = spec.get("replicas", 1) if isinstance(spec, Mapping) else 1
    return replicas if isinstance(replicas, int) else 1


def deployment_recovered(deployment: Mapping[str, Any]) -> bool:
    """The Deployment controller's own view: every replica updated and available."""
    status, replicas = _status(deployment), _replicas(deployment)
    return (
        _observed(deployment)
        and _int(status, "updatedReplicas") >= replicas
        and _int(status, "availableReplicas") >= replicas
        and not status.get("unavailableReplicas")
    )


def statefulset_needs_look(statefulset: Mapping[str, Any]) -> bool:
    """Fewer replicas ready or updated than wanted, or a rollout not finished."""
    status, replicas = _status(statefulset), _replicas(statefulset)
    update, current = status.get("updateRevision"), status.get("currentRevision")
    return (
        _int(status, "readyReplicas") < replicas
        or _int(status, "updatedReplicas") < replicas
        or bool(update and current and update != current)
    )


def statefulset_recovered(statefulset: Mapping[str, Any]) -> bool:
    """Every replica of the update revision ready (the StatefulSet controller's own view)."""
    status, replicas = _status(statefulset), _replicas(statefulset)
    available = _int(status, "availableReplicas") or _int(status, "readyReplicas")
    return (
        _observed(statefulset)
        and _int(status, "updatedReplicas") >= replicas
        and _int(status, "readyReplicas") >= replicas
        and available >= replicas
    )


def daemonset_needs_look(daemonset: Mapping[str, Any]) -> bool:
    """Nodes whose daemon pod is unavailable, not yet updated, or should not be there."""
    status = _status(daemonset)
    desired = _int(status, "desiredNumberScheduled")
    return (
        _int(status, "numberUnavailable") > 0
        or _int(status, "updatedNumberScheduled") < desired
        or _int(status, "numberMisscheduled") > 0
    )


def daemonset_recovered(daemonset: Mapping[str, Any]) -> bool:
    """Every node that should run the daemon runs the update revision, available."""
    status = _status(daemonset)
    desired = _int(status, "desiredNumberScheduled")
    return (
        _observed(daemonset)
        and _int(status, "updatedNumberScheduled") >= desired
        and _int(status, "numberAvailable") >= desired
        and not _int(status, "numberUnavailable")
    )


def _condition(obj: Mapping[str, Any], kind: str) -> bool:
    conditions = _status(obj).get("conditions")
    return any(
        isinstance(c, Mapping) and c.get("type") == kind and c.get("status") == "True"
        for c in (conditions if isinstance(conditions, list) else [])
    )


def job_needs_look(job: Mapping[str, Any]) -> bool:
    """The Job failed, or some of its pods did while it has not completed."""
    if _condition(job, "Failed") or _condition(job, "FailureTarget"):
        return True
    return _int(_status(job), "failed") > 0 and not _condition(job, "Complete")


def job_recovered(job: Mapping[str, Any]) -> bool:
    """The Job completed after all (a later attempt succeeded)."""
    return _condition(job, "Complete")


DEPLOYMENT = IncidentKind(
    "Deployment",
    "apps",
    "v1",
    "deployments",
    deployment_needs_look,
    deployment_recovered,
)
STATEFULSET = IncidentKind(
    "StatefulSet",
    "apps",
    "v1",
    "statefulsets",
    statefulset_needs_look,
    statefulset_recovered,
)
DAEMONSET = IncidentKind(
    "DaemonSet",
    "apps",
    "v1",
    "daemonsets",
    daemonset_needs_look,
    daemonset_recovered,
)
JOB = IncidentKind("Job", "batch", "v1", "jobs", job_needs_look, job_recovered, revisioned=False)
INCIDENT_KINDS: tuple[IncidentKind, ...] = (DEPLOYMENT, STATEFULSET, DAEMONSET, JOB)
BY_KIND: dict[str, IncidentKind] = {k.kind: k for k in INCIDENT_KINDS}
BY_PLURAL: dict[str, IncidentKind] = {k.plural: k for k in INCIDENT_KINDS}


def incident_kind(workload: Mapping[str, Any]) -> IncidentKind:
    """The incident kind of a workload object (a Deployment when it does not say)."""
    kind = workload.get("kind")
    found = BY_KIND.get(kind if isinstance(kind, str) else "Deployment")
    if found is None:
        raise ValueError(f"no incidents for kind {kind!r}; only {', '.join(BY_KIND)}")
    return found


def incident_revision(workload: Mapping[str, Any], snapshot: Snapshot | None) -> int:
    """The revision an incident of this workload is about: a Deployment's revision
    annotation, the number of the ControllerRevision a StatefulSet or DaemonSet rolls out
    (from ``snapshot``, which holds its revisions), 0 for a Job."""
    kind = incident_kind(workload)
    if kind is DEPLOYMENT:
        return deployment_revision(workload)
    if not kind.revisioned or snapshot is None:
        return 0
    md = meta(workload)
    # the snapshot finds children of its own objects, not of a copy
    own = snapshot.get(kind.kind, md.get("namespace"), str(md.get("name", ""))) or workload
    update = update_revision(own, revisions_of(own, snapshot))
    return revision_number(update) if update is not None else 0


def cronjob_of(job: Mapping[str, Any]) -> dict[str, Any] | None:
    """The CronJob that created a Job, as an object an Event can be about (from the Job's
    controller reference: no read needed)."""
    ref = controller_ref(job)
    if ref is None or ref.get("kind") != "CronJob":
        return None
    return {
        "apiVersion": ref.get("apiVersion", "batch/v1"),
        "kind": "CronJob",
        "metadata": {
            "name": ref.get("name", ""),
            "namespace": meta(job).get("namespace", ""),
            "uid": ref.get("uid", ""),
        },
    }
