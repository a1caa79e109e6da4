"""What a pod's own status shows when its node was lost, before any container notices.

A node that stops reporting leaves its pods' container statuses as the kubelet last wrote
them: running and ready. Only the control plane's writes show the loss: the node lifecycle
controller flips the pod's ``Ready`` condition to False (``ContainersReady`` stays True, which
the kubelet itself never writes without readiness gates), the taint eviction controller or
pod GC adds ``DisruptionTarget`` before deleting the pod, and older clusters set
``status.reason`` NodeLost or phase Unknown. The watch filter and the live reader both ask
this; both are cheap, so this reads the status only (no events, no node).
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
