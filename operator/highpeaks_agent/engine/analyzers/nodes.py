"""Nodes: pods stranded on a node that stopped reporting (kubelet down, node lost, network cut)."""

from __future__ import annotations

from highpeaks_agent.engine import catalogue
from highpeaks_agent.engine.analyzers.context import PodContext
from highpeaks_agent.engine.model import Finding
from highpeaks_agent.engine.node_signs import lost_node_lines


def node_not_ready(pod: PodContext) -> list[Finding]:
    """The pod's node is NotReady/Unknown or tainted unreachable, or the pod says NodeLost.

    At once: the node lifecycle controller already waited its grace period before it set the
    condition, the taint or the pod's reason.
    """
    evidence = _node_evidence(pod)
    if pod.status.get("reason") == "NodeLost":
        evidence.insert(0, str(pod.status.get("message") or "status.reason NodeLost"))
    elif not evidence:
        return []
    node = pod.spec.get("nodeName") or "its node"
    return [
        pod.finding(
            catalogue.NODE_NOT_READY,
            f"Pod {pod.name} is on node {node}, which is not ready",
            detail=evidence[0],
            evidence=evidence,
            suggestion=f"Check the node (`kubectl describe node {node}`): is the kubelet running, "
            "the machine up and reachable? Pods there are replaced only once the node is "
            "deleted or recovers; a StatefulSet's pod waits until then.",
        )
    ]


def _node_evidence(pod: PodContext) -> list[str]:
    """Lines showing the node is lost: its Ready condition and taints, else the pod's event."""
    node = pod.node
    if node is None:
        # the node lifecycle controller marks the pods Ready=False; only then read the events
        ready = pod.condition("Ready")
        if ready is None or ready.get("status") != "False":
            return []
        return pod.event_messages("NodeNotReady")[-1:]
    return lost_node_lines(node, pod.spec.get("nodeName"))
