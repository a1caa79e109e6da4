"""Cheap, pure checks that decide whether a watch event is worth a look at its Deployment.

Most Pod and Deployment events in a cluster are healthy churn. Only events that may change
the verdict reach the incident monitor: a pod that is waiting for a bad reason, crashed,
failed, cannot be scheduled or is running but not ready; a Deployment whose controller reports
trouble. Everything else costs one function call and no API request.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

_LABEL_KEY = re.compile(
    r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
)

#: Waiting reasons of a container that is simply starting.
STARTING = frozenset({"ContainerCreating", "PodInitializing"})


def pod_needs_look(pod: Mapping[str, Any]) -> bool:
    """Whether this pod's state could make its workload fail."""
    status = pod.get("status") or {}
    if status.get("phase") in ("Failed", "Unknown"):
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


def owning_deployment(
    pod: Mapping[str, Any], replicaset_owner: Callable[[str, str], str | None]
) -> str | None:
    """The Deployment a pod belongs to (Pod → ReplicaSet → Deployment, by ownerReferences)."""
    md = pod.get("metadata") or {}
    for ref in md.get("ownerReferences") or []:
        if ref.get("controller") and ref.get("kind") == "ReplicaSet":
            return replicaset_owner(str(md.get("namespace", "")), str(ref.get("name", "")))
    return None


def labels_filter(selector: str) -> dict[str, Any]:
    """A label selector string as Kopf's ``labels=`` filter (``k=v``, ``k!=v``, ``k``, ``!k``,
    ``k in (a,b)``, ``k notin (a,b)``); raises ``ValueError`` for anything else."""
    import kopf

    result: dict[str, Any] = {}
    terms: list[str] = []
    depth, current = 0, ""
    for char in selector:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            terms.append(current.strip())
            current = ""
        else:
            current += char
    terms.append(current.strip())
    for term in filter(None, terms):
        if " notin " in f" {term} " or " in " in f" {term} ":
            key, op, rest = term.replace("(", " ( ").split(None, 2)
            values = frozenset(v.strip() for v in rest.strip("() ").split(",") if v.strip())
            if op == "in":
                result[key] = lambda value, _v=values, **_: value in _v
            elif op == "notin":
                result[key] = lambda value, _v=values, **_: value not in _v
            else:
                raise ValueError(f"cannot parse label selector term {term!r}")
        elif "!=" in term:
            key, value = (p.strip() for p in term.split("!=", 1))
            result[key] = lambda v, _x=value, **_: v != _x
        elif "=" in term:
            key, value = (p.strip() for p in term.replace("==", "=").split("=", 1))
            result[key] = value
        elif term.startswith("!"):
            result[term[1:].strip()] = kopf.ABSENT
        else:
            result[term] = kopf.PRESENT
    for key in result:
        if not _LABEL_KEY.match(key):
            raise ValueError(f"invalid label key {key!r} in selector {selector!r}")
    return result
