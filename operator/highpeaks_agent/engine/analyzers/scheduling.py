"""Scheduling: a pod no node will take, or one the kubelet evicted under node pressure."""

from __future__ import annotations

from collections.abc import Mapping

from highpeaks_agent.engine import catalogue, classify
from highpeaks_agent.engine.analyzers.context import PodContext, as_list, as_mapping
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


def refused_by_node(pod: PodContext) -> list[Finding]:
    """The kubelet refused the pod at admission (status.reason OutOfcpu, NodeAffinity, …)."""
    rule = classify.pod_reason_rule(pod.status.get("reason"))
    if rule is None or rule.code is None or rule.code in _OWN_RULES:
        return []
    node = pod.spec.get("nodeName") or "its node"
    message = str(pod.status.get("message") or pod.status.get("reason"))
    return [
        pod.finding(
            rule.code,
            f"Pod {pod.name} was refused by node {node} ({pod.status.get('reason')})",
            detail=message,
            evidence=[message],
            suggestion=_scheduling_hint(rule.code, pod)
            + " The scheduler and the kubelet disagreed about the node: a controller creates a "
            "replacement; a bare pod must be recreated.",
        )
    ]


# pod reasons with a rule of their own
_OWN_RULES = frozenset({catalogue.EVICTED, catalogue.NODE_NOT_READY})


def unschedulable(pod: PodContext) -> list[Finding]:
    """PodScheduled=False (reason Unschedulable, or a scheduler error), refined by the
    scheduler's latest message."""
    condition = pod.condition("PodScheduled")
    if condition is None or not _unschedulable(condition):
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
            suggestion=_scheduling_hint(code, pod, message),
        )
    ]


def _unschedulable(condition: Mapping[str, object]) -> bool:
    # SchedulingGated is held on purpose; the registry never gets here for such a pod
    return condition.get("status") == "False" and condition.get("reason") != "SchedulingGated"


def scheduler_missing(pod: PodContext) -> list[Finding]:
    """Pending past the threshold with no node and no PodScheduled condition: no scheduler
    has looked at the pod (every scheduler writes that condition when it cannot place one)."""
    if not pod.pending_too_long or pod.spec.get("nodeName") or pod.condition("PodScheduled"):
        return []
    scheduler = str(pod.spec.get("schedulerName") or "default-scheduler")
    if scheduler == "default-scheduler":
        hint = (
            "Check kube-scheduler: `kubectl get pods -n kube-system -l component=kube-scheduler` "
            "and its leader lease (`kubectl get lease kube-scheduler -n kube-system`)."
        )
    else:
        hint = (
            f"Deploy or fix the scheduler {scheduler!r} (`kubectl get pods -A | grep {scheduler}`), "
            "or remove spec.schedulerName to use default-scheduler."
        )
    detail = (
        f"spec.schedulerName is {scheduler!r}; after {pod.age_minutes} minutes the pod has no "
        "node and no PodScheduled condition."
    )
    return [
        pod.finding(
            catalogue.UNSCHEDULABLE_SCHEDULER_MISSING,
            f"Pod {pod.name} was never picked up by scheduler {scheduler}",
            detail=detail,
            evidence=[detail],
            suggestion=hint,
        )
    ]


def _scheduling_hint(code: str, pod: PodContext, message: str = "") -> str:
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
    if "free ports" in message:
        return (
            "Every node already runs a pod on the hostPort this pod asks for: drop the hostPort "
            "(use a Service), or run at most one such pod per node."
        )
    return f"Read the scheduler's message: `kubectl describe pod {pod.name} -n {pod.namespace}`."


def _requests_sentence(pod: PodContext) -> str:
    """ " The pod requests app: cpu=8, memory=16Gi." or nothing when it requests nothing."""
    requests = []
    for container in map(as_mapping, as_list(pod.spec.get("containers"))):
        asked = as_mapping(container.get("resources")).get("requests")
        if isinstance(asked, Mapping) and asked:
            pairs = ", ".join(f"{k}={v}" for k, v in sorted(asked.items()))
            requests.append(f"{container.get('name')}: {pairs}")
    return f" The pod requests {'; '.join(requests)}." if requests else ""
