"""Core v1 Events the way kubelet writes them: one object per (object, reason, note), counted.

``kubectl describe`` reads core v1 Events by ``involvedObject`` (kind, name, namespace and
uid), so that is what these carry. A repeated note is the same Event with ``count`` and
``lastTimestamp`` bumped, never a new object: the name is deterministic, not generateName.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from highpeaks_agent.controller.naming import event_name
from highpeaks_agent.engine.redact import redact_text

COMPONENT = "highpeaks-agent"
MAX_MESSAGE = 1024  # the API server truncates longer messages anyway


def _time(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def involved_object(obj: Mapping[str, Any]) -> dict[str, Any]:
    """``involvedObject`` for an object as the API returned it."""
    md = obj.get("metadata") or {}
    return {
        "apiVersion": obj.get("apiVersion", ""),
        "kind": obj.get("kind", ""),
        "name": md.get("name", ""),
        "namespace": md.get("namespace", ""),
        "uid": md.get("uid", ""),
        "resourceVersion": md.get("resourceVersion", ""),
    }


def new_event(
    obj: Mapping[str, Any],
    *,
    reason: str,
    message: str,
    type_: Literal["Normal", "Warning"],
    key: str,
    now: datetime,
) -> dict[str, Any]:
    """The body of a new Event about ``obj``; ``key`` tells notes of one reason apart."""
    involved = involved_object(obj)
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": event_name(involved["name"], reason, f"{involved['uid']}/{key}"),
            "namespace": involved["namespace"],
            "labels": {"app.kubernetes.io/managed-by": COMPONENT},
        },
        "involvedObject": involved,
        "reason": reason,
        "message": redact_text(message)[:MAX_MESSAGE],
        "type": type_,
        "count": 1,
        "firstTimestamp": _time(now),
        "lastTimestamp": _time(now),
        "source": {"component": COMPONENT},
        "reportingComponent": COMPONENT,
        "reportingInstance": COMPONENT,
    }


def repeat_patch(existing: Mapping[str, Any], *, message: str, now: datetime) -> dict[str, Any]:
    """The merge patch that records one more occurrence of an existing Event."""
    count = existing.get("count")
    return {
        "count": (count if isinstance(count, int) else 1) + 1,
        "lastTimestamp": _time(now),
        "message": redact_text(message)[:MAX_MESSAGE],
    }
