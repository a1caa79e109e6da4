"""The ``highpeaks_agent_agenttasks`` gauge: AgentTasks in the cluster, by phase.

Fed by the AgentTask watch, so it counts every task (created by people or by the operator,
before or after a restart), not only the ones this process ran. Memory is one entry per
AgentTask that exists, dropped when the task is deleted.
"""

from __future__ import annotations

from highpeaks_agent import metrics

PHASES = ("Pending", "Running", "Succeeded", "Failed")


class PhaseCounter:
    """Tracks each task's phase and keeps the gauge equal to the counts."""

    def __init__(self) -> None:
        self._phases: dict[tuple[str, str], str] = {}
        for phase in PHASES:
            metrics.AGENT_TASKS.labels(phase).set(0)

    def observe(self, namespace: str, name: str, phase: str | None, *, deleted: bool) -> None:
        key = (namespace, name)
        old = self._phases.pop(key, None)
        if old is not None:
            metrics.AGENT_TASKS.labels(old).dec()
        if deleted:
            return
        current = phase if phase in PHASES else "Pending"
        self._phases[key] = current
        metrics.AGENT_TASKS.labels(current).inc()

    def counts(self) -> dict[str, int]:
        result = dict.fromkeys(PHASES, 0)
        for phase in self._phases.values():
            result[phase] += 1
        return result
