"""Cheap, pure checks that decide whether a watch event is worth a look at its workload.

Most Pod and Deployment events in a cluster are healthy churn. Only events that may change
the verdict reach the incident monitor: a pod that is waiting for a bad reason, crashed,
failed, cannot be scheduled, was never picked up by a scheduler, sits on a lost node (its
containers still look healthy) or is running but not ready; a Deployment whose controller
reports trouble. Everything else costs one function call and no API request. Also here: the
namespace selector as Kopf's ``labels=`` filter.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import kopf

from highpeaks_agent.engine.node_signs import shows_lost_node
from highpeaks_agent.selectors import Requirement, parse_selector

#: Waiting reasons of a container that is simply starting.
STARTING = frozenset({"ContainerCreating", "PodInitializing"})


def pod_needs_look(pod: Mapping[str, Any]) -> bool:
    """Whether this pod's state could make its workload fail."""
    status = pod.get("status") or {}
    if status.get("phase") in ("Failed", "Unknown"):
        return True
    if _never_picked_up(pod) or shows_lost_node(pod):
        return True
    for cond in status.get("conditions") or []:
        if cond.get("type") == "PodScheduled" and cond.get("status") == "False":
            return True
    for key in ("initContainerStatuses", "containerStatuses"):
        for cs in status.get(key) or []:
            state = cs.get("state") or {}
            waiting = state.get("waiting")
            if waiting and waiting.get("reason") not in STARTING:
                return True
            terminated = state.get("terminated")
            if terminated and terminated.get("exitCode", 0) != 0:
                return True
            if key == "containerStatuses" and "running" in state and cs.get("ready") is False:
                return True
    return False


def _never_picked_up(pod: Mapping[str, Any]) -> bool:
    """Pending with no node, no condition and no container status: no scheduler has looked at
    it (each writes PodScheduled when it cannot place a pod). A pod seconds old looks the same;
    the monitor's thresholds tell the two apart."""
    status = pod.get("status") or {}
    return (
        status.get("phase", "Pending") == "Pending"
        and not (pod.get("spec") or {}).get("nodeName")
        and not status.get("conditions")
        and not status.get("containerStatuses")
        and not status.get("initContainerStatuses")
    )


def deployment_needs_look(deployment: Mapping[str, Any]) -> bool:
    """Whether the Deployment controller reports trouble or an unfinished rollout."""
    status = deployment.get("status") or {}
    for cond in status.get("conditions") or []:
        if cond.get("type") == "Progressing" and cond.get("status") == "False":
            return True
        if cond.get("type") == "ReplicaFailure" and cond.get("status") == "True":
            return True
    replicas = (deployment.get("spec") or {}).get("replicas", 1)
    return bool(status.get("unavailableReplicas")) or status.get("updatedReplicas", 0) < replicas


#: Kinds that control their pods directly and get incidents.
_DIRECT_OWNERS = frozenset({"StatefulSet", "DaemonSet", "Job"})


def owning_workload(
    pod: Mapping[str, Any], replicaset_owner: Callable[[str, str], str | None]
) -> tuple[str, str] | None:
    """(kind, name) of the workload with incidents a pod belongs to, by ownerReferences:
    Pod → ReplicaSet → Deployment, or the StatefulSet, DaemonSet or Job controlling it."""
    md = pod.get("metadata") or {}
    for ref in md.get("ownerReferences") or []:
        if not ref.get("controller"):
            continue
        kind, name = str(ref.get("kind", "")), str(ref.get("name", ""))
        if kind == "ReplicaSet":
            deployment = replicaset_owner(str(md.get("namespace", "")), name)
            return ("Deployment", deployment) if deployment is not None else None
        if kind in _DIRECT_OWNERS:
            return kind, name
    return None


def labels_filter(selector: str) -> dict[str, Any]:
    """A label selector string as Kopf's ``labels=`` filter; raises ``ValueError`` for a bad
    one (see :func:`highpeaks_agent.selectors.parse_selector`)."""
    by_key: dict[str, list[Requirement]] = {}
    for requirement in parse_selector(selector):
        by_key.setdefault(requirement.key, []).append(requirement)
    return {key: _kopf_pattern(requirements) for key, requirements in by_key.items()}


def _kopf_pattern(requirements: list[Requirement]) -> Any:
    """Kopf's own markers where one term says it all (readable in Kopf's logs); otherwise a
    callback, which Kopf calls with the label's value or ``None`` when the label is missing."""
    if len(requirements) == 1:
        (only,) = requirements
        if only.operator == "exists":
            return kopf.PRESENT
        if only.operator == "!":
            return kopf.ABSENT
        if only.operator == "=":
            (value,) = only.values
            return value

    def matches(value: str | None, **_: Any) -> bool:
        return all(requirement.matches(value) for requirement in requirements)

    return matches
