"""A pod no rule can find fault with, recognised before any context is built.

Most pods in a cluster are healthy, and each would otherwise go through every pod rule and,
per container, every container rule. ``settled`` accepts only shapes where each rule's own
first test fails; anything unusual (a deletion, a status reason, a condition not "True",
a waiting or terminated state, a recent restart, a known Node that is lost) goes the full way.
``tests/unit/engine/test_settled.py`` checks it against the full rule run.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from highpeaks_agent.engine.snapshot import Snapshot
from highpeaks_agent.engine.thresholds import Thresholds

_STATUS_KEYS = ("initContainerStatuses", "containerStatuses")


def settled(pod: Mapping[str, Any], snapshot: Snapshot, thresholds: Thresholds) -> bool:
    """True only when every rule would pass this pod by: Running, on a node the snapshot does
    not hold or holds as not lost, every condition True, every container running, Ready, and
    not crash-looping."""
    metadata, status, spec = pod.get("metadata"), pod.get("status"), pod.get("spec")
    if type(metadata) is not dict or type(status) is not dict or type(spec) is not dict:
        return False
    if metadata.get("deletionTimestamp") or status.get("phase") != "Running":
        return False  # Pending is measured against the clock; a deletion has its own rule
    if status.get("reason") is not None:
        return False  # evicted, refused, lost
    node_name = spec.get("nodeName")
    if type(node_name) is str and node_name in snapshot.lost_nodes:
        return False  # the node rule reports a pod on a lost node
    conditions = status.get("conditions")
    if conditions is not None and not _all_true(conditions):
        return False
    for key in _STATUS_KEYS:
        statuses = status.get(key)
        if statuses is None:
            continue
        if type(statuses) is not list:
            return False
        if not all(_running_ready(entry, thresholds) for entry in statuses):
            return False
    return True


def _all_true(conditions: Any) -> bool:
    if type(conditions) is not list:
        return False
    return all(type(c) is dict and c.get("status") == "True" for c in conditions)


def _running_ready(entry: Any, thresholds: Thresholds) -> bool:
    """Running and Ready, with no waiting or terminated state, and not restarted often enough
    for a past termination to count as a crash loop."""
    if type(entry) is not dict or type(entry.get("name")) is not str:
        return False
    if entry.get("ready") is not True:
        return False
    state = entry.get("state")
    if type(state) is not dict or not state.get("running"):
        return False
    if state.get("waiting") or state.get("terminated"):
        return False
    last = entry.get("lastState")
    if last is None or (type(last) is dict and not last.get("terminated")):
        return True
    restarts = entry.get("restartCount")
    return type(restarts) is int and restarts < thresholds.crashloop_restarts
