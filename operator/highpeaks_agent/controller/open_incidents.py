"""The ``highpeaks_agent_open_incidents`` gauge: incident AgentTasks not yet resolved.

Fed by the AgentTask watch like the by-phase gauge (``phases.py``), so it counts what the
cluster holds — incidents opened before a restart, or by another replica, included — and
drops a task when it is resolved or deleted (with its Deployment, which owns it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from highpeaks_agent import metrics
from highpeaks_agent.controller.incidents import AUTO, is_resolved
from highpeaks_agent.controller.tasks import TRIGGER_LABEL


def is_open_incident(task: Mapping[str, Any]) -> bool:
    """An incident task (label ``trigger: auto``) whose ``Resolved`` condition is not True."""
    labels = (task.get("metadata") or {}).get("labels") or {}
    return labels.get(TRIGGER_LABEL) == AUTO and not is_resolved(task)


class OpenIncidentCounter:
    """Keeps the gauge equal to the number of open incident tasks seen by the watch."""

    def __init__(self) -> None:
        self._open: set[tuple[str, str]] = set()
        metrics.OPEN_INCIDENTS.set(0)

    def observe(self, namespace: str, name: str, task: Mapping[str, Any], *, deleted: bool) -> None:
        key = (namespace, name)
        if not deleted and is_open_incident(task):
            self._open.add(key)
        else:
            self._open.discard(key)
        metrics.OPEN_INCIDENTS.set(len(self._open))

    @property
    def count(self) -> int:
        return len(self._open)
