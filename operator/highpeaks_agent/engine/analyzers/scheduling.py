"""Scheduling: a pod no node will take, or one the kubelet evicted under node pressure."""

from __future__ import annotations

from collections.abc import Mapping

from highpeaks_agent.engine import catalogue, classify
from highpeaks_agent.engine.analyzers.context import PodContext, as_mapping
from highpeaks_agent.engine.model import Finding


def evicted(pod: PodContext) -> list[Finding]:
    """status.reason Evicted."""
    if pod.status.get("reason") != "Evicted":
        return []
    message = str(pod.status.get("message") or "The pod was evicted.")
    return [
        pod.finding(
            catalogue.EVICTED,
            f"Pod {pod.name} was evicted by the kubelet",
            detail=message,
            evidence=[message],
            suggestion="Check node pressure (`kubectl describe node "
            f"{pod.spec.get('nodeName') or 'NODE'}`) and set requests close to real usage so "
            "this pod is not first to go; evicted pods can be deleted once replaced.",
        )
    ]


def unschedulable(pod: PodContext) -> list[Finding]:
    """PodScheduled=False reason Unschedulable, refined by the scheduler's latest message."""
    condition = next(
        (c for c in map(as_mapping, pod.status.get("conditions") or []) if _unschedulable(c)),
        None,
    )
    if condition is None:
        return []
    messages = pod.event_messages("FailedScheduling")
    message = messages[-1] if messages else str(condition.get("message") or "")
    code = classify.scheduling_code(message)
    return [
        pod.finding(
            code,
            f"Pod {pod.name} cannot be scheduled",
            detail=message,
            evidence=[message],
            suggestion=_scheduling_hint(code, pod),
        )
    ]


def _unschedulable(condition: Mapping[str, object]) -> bool:
    return (
        condition.get("type") == "PodScheduled"
        and condition.get("status") == "False"
        and condition.get("reason") == "Unschedulable"
    )


def _scheduling_hint(code: str, pod: PodContext) -> str:
    if code == catalogue.UNSCHEDULABLE_RESOURCES:
        return (
            "No node has enough free capacity." + _requests_sentence(pod) + " Lower the "
            "requests, free capacity, or add nodes (`kubectl describe nodes | grep -A5 Allocated`)."
        )
    if code == catalogue.UNSCHEDULABLE_NODE_AFFINITY:
        return "Check the pod's nodeSelector/affinity against node labels (`kubectl get nodes --show-labels`)."
    if code == catalogue.UNSCHEDULABLE_TAINTS:
        return "The fitting nodes carry taints this pod does not tolerate: add a toleration or untaint a node."
    if code == catalogue.UNSCHEDULABLE_VOLUME_BINDING:
        return (
            f"Check the pod's PersistentVolumeClaims (`kubectl get pvc -n {pod.namespace}`): "
            "are they Bound, and is the volume in a zone the pod can run in?"
        )
    return f"Read the scheduler's message: `kubectl describe pod {pod.name} -n {pod.namespace}`."


def _requests_sentence(pod: PodContext) -> str:
    """ " The pod requests app: cpu=8, memory=16Gi." or nothing when it requests nothing."""
    requests = []
    for container in map(as_mapping, pod.spec.get("containers") or []):
        asked = as_mapping(container.get("resources")).get("requests")
        if isinstance(asked, Mapping) and asked:
            pairs = ", ".join(f"{k}={v}" for k, v in sorted(asked.items()))
            requests.append(f"{container.get('name')}: {pairs}")
    return f" The pod requests {'; '.join(requests)}." if requests else ""
