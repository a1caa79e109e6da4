"""What a pod's own status shows when its node was lost, before any container notices.

A node that stops reporting leaves its pods' container statuses as the kubelet last wrote
them: running and ready. Only the control plane's writes show the loss: the node lifecycle
controller flips the pod's ``Ready`` condition to False (``ContainersReady`` stays True, which
the kubelet itself never writes without readiness gates), the taint eviction controller or
pod GC adds ``DisruptionTarget`` before deleting the pod, and older clusters set
``status.reason`` NodeLost or phase Unknown. The watch filter and the live reader both ask
this; both are cheap, so this reads the status only (no events, no node).

When the Node itself is at hand, it says so directly: its Ready condition and the lifecycle
controller's taints (:func:`lost_node_lines`, read by the node rule and the settled-pod
shortcut alike).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: ``DisruptionTarget`` reasons of controllers that remove pods from a lost or gone node.
NODE_DISRUPTIONS = frozenset({"DeletionByTaintManager", "DeletionByPodGC"})


def shows_lost_node(pod: Mapping[str, Any]) -> bool:
    """Whether the pod's status says its node stopped reporting or is gone."""
    status = pod.get("status") or {}
    if status.get("reason") == "NodeLost" or status.get("phase") == "Unknown":
        return True
    conditions = {
        c.get("type"): c for c in status.get("conditions") or [] if isinstance(c, Mapping)
    }
    disruption = conditions.get("DisruptionTarget") or {}
    if disruption.get("status") == "True" and disruption.get("reason") in NODE_DISRUPTIONS:
        return True
    ready = conditions.get("Ready") or {}
    containers_ready = conditions.get("ContainersReady") or {}
    return (
        ready.get("status") in ("False", "Unknown")
        and ready.get("reason") != "ReadinessGatesNotReady"
        and containers_ready.get("status") == "True"
    )


#: The node lifecycle controller's taints for a node that is not Ready or no longer reports.
LOST_TAINTS = frozenset({"node.kubernetes.io/unreachable", "node.kubernetes.io/not-ready"})


def lost_node_lines(node: Mapping[str, Any], name: Any) -> list[str]:
    """What shows this Node is lost (its Ready condition, its taints), as evidence lines naming
    it ``name``; empty when nothing does, so no pod fails for being on it."""
    status = _mapping(node.get("status"))
    lines = [
        f"node {name}: Ready={c.get('status')} ({c.get('reason')}: {c.get('message')}) "
        f"since {c.get('lastTransitionTime')}"
        for c in map(_mapping, _list(status.get("conditions")))
        if c.get("type") == "Ready" and c.get("status") in ("False", "Unknown")
    ]
    taints = map(_mapping, _list(_mapping(node.get("spec")).get("taints")))
    lines += [
        f"node {name}: taint {t.get('key')}:{t.get('effect')}"
        for t in taints
        if t.get("key") in LOST_TAINTS
    ]
    return lines


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
