"""The open-incident gauges: how many incident AgentTasks are not yet resolved, and since when.

Fed by the AgentTask watch like the by-phase gauge (``phases.py``), so it counts what the
cluster holds — incidents opened before a restart, or by another replica, included — and
drops a task when it is resolved or deleted (with its Deployment, which owns it).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from highpeaks_agent import metrics
from highpeaks_agent.controller.incidents import AUTO, is_resolved
from highpeaks_agent.controller.tasks import TRIGGER_LABEL
from highpeaks_agent.engine.timeutil import parse_time


def is_open_incident(task: Mapping[str, Any]) -> bool:
    """An incident task (label ``trigger: auto``) whose ``Resolved`` condition is not True."""
    labels = (task.get("metadata") or {}).get("labels") or {}
    return labels.get(TRIGGER_LABEL) == AUTO and not is_resolved(task)


class OpenIncidentCounter:
    """Keeps the gauges equal to the open incident tasks seen by the watch."""

    def __init__(self) -> None:
        self._open: dict[tuple[str, str], float] = {}
        """Open incident tasks → their creation time (Unix seconds)."""
        self._publish()

    def observe(self, namespace: str, name: str, task: Mapping[str, Any], *, deleted: bool) -> None:
        key = (namespace, name)
        if not deleted and is_open_incident(task):
            created = parse_time((task.get("metadata") or {}).get("creationTimestamp"))
            self._open[key] = created.timestamp() if created else time.time()
        else:
            self._open.pop(key, None)
        self._publish()

    def _publish(self) -> None:
        metrics.OPEN_INCIDENTS.set(len(self._open))
        metrics.OLDEST_OPEN_INCIDENT.set(min(self._open.values(), default=0.0))

    @property
    def count(self) -> int:
        return len(self._open)
