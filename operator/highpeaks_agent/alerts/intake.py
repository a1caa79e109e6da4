"""Alertmanager alerts in, AgentTasks out: one task per alert fingerprint, idempotently.

A firing alert whose labels name a workload becomes the AgentTask ``alert-<fingerprint>``
(created through the operator's own writer: a 409 means it already exists, which is the
idempotence); the normal AgentTask handler then diagnoses it. A resolved alert sets the
task's ``Resolved`` condition. Anything else is answered with a reason and changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from highpeaks_agent import metrics
from highpeaks_agent.alerts.mapping import (
    Unscoped,
    Workload,
    alert_task,
    is_resolved,
    resolved_conditions,
    scope_of,
    task_name,
)
from highpeaks_agent.alerts.payload import Alert
from highpeaks_agent.engine.redact import redact_text
from highpeaks_agent.errors import Forbidden, TargetNotFound, UnsupportedTarget

log = logging.getLogger(__name__)

#: Alerts of one request handled at once (each is a few API calls).
CONCURRENCY = 8
Outcome = Literal["created", "exists", "resolved", "ignored", "forbidden"]
#: Raises ``Forbidden`` unless the caller may create AgentTasks in the namespace.
Authorizer = Callable[[str], Awaitable[None]]
#: Whether the operator serves a namespace (``WATCH_NAMESPACE_SELECTOR``).
NamespaceFilter = Callable[[str], Awaitable[bool]]


class TaskStore(Protocol):
    """The operator's AgentTask writer (``controller.kube.KubeWriter``)."""

    async def create_task(self, body: Mapping[str, Any]) -> tuple[dict[str, Any], bool]: ...

    async def read_task(self, namespace: str, name: str) -> dict[str, Any] | None: ...

    async def patch_task_status(
        self, namespace: str, name: str, status: Mapping[str, Any]
    ) -> dict[str, Any]: ...


class Workloads(Protocol):
    """Reads targets (``sources.owners.LiveWorkloads``)."""

    async def read(self, namespace: str, kind: str, name: str) -> dict[str, Any]: ...

    async def controlling(self, namespace: str, kind: str, name: str) -> dict[str, Any]: ...


class TaskBusy(Exception):
    """A resolved alert whose task is still being diagnosed: the diagnosis would overwrite
    the ``Resolved`` condition, so Alertmanager is asked to send the group again (503)."""


@dataclass(frozen=True, slots=True)
class AlertResult:
    """What became of one alert; ``reason`` says why when nothing was created."""

    fingerprint: str
    alertname: str
    status: str
    outcome: Outcome
    reason: str = ""
    task: str | None = None
    namespace: str | None = None
    target: dict[str, str] | None = None


class AlertIntake:
    """Turns Alertmanager alerts into AgentTasks."""

    def __init__(
        self,
        workloads: Workloads,
        tasks: TaskStore,
        *,
        watch_namespaces: Collection[str] = (),
        selected: NamespaceFilter | None = None,
        clock: Callable[[], datetime],
    ) -> None:
        self._workloads = workloads
        self._tasks = tasks
        self._watched = frozenset(watch_namespaces)
        self._selected = selected
        self._clock = clock

    async def receive(self, alerts: list[Alert], authorize: Authorizer | None) -> list[AlertResult]:
        """Handle every alert, results in order; API errors propagate (Alertmanager then
        retries the group, which is safe: every step is idempotent)."""
        limit = asyncio.Semaphore(CONCURRENCY)

        async def one(alert: Alert) -> AlertResult:
            async with limit:
                result = await self._one(alert, authorize)
            metrics.ALERTS_RECEIVED.labels(result.outcome).inc()
            return result

        return list(await asyncio.gather(*(one(alert) for alert in alerts)))

    async def _one(self, alert: Alert, authorize: Authorizer | None) -> AlertResult:
        scope = scope_of(alert)
        if isinstance(scope, Unscoped):
            return self._result(alert, "ignored", scope.reason)
        if not await self._serves(scope.namespace):
            reason = f"namespace {scope.namespace} is not watched by this operator"
            return self._result(alert, "ignored", reason, namespace=scope.namespace)
        name = task_name(alert.fingerprint)
        if name is None:
            return self._result(alert, "ignored", "the alert has no fingerprint")
        if authorize is not None:
            try:
                await authorize(scope.namespace)
            except Forbidden as exc:
                return self._result(alert, "forbidden", str(exc), namespace=scope.namespace)
        if alert.status == "resolved":
            return await self._resolve(alert, scope.namespace, name)
        return await self._open(alert, scope, name)

    async def _serves(self, namespace: str) -> bool:
        """A task elsewhere would never be diagnosed: WATCH_NAMESPACES and the selector."""
        if self._watched and namespace not in self._watched:
            return False
        return self._selected is None or await self._selected(namespace)

    async def _open(self, alert: Alert, scope: Workload, name: str) -> AlertResult:
        try:
            target = await self._workloads.controlling(scope.namespace, scope.kind, scope.name)
        except (TargetNotFound, UnsupportedTarget) as exc:
            reason = str(exc)
            if scope.label == "job":
                reason += " (the job label is often Prometheus' scrape job; kube-state-metrics names Jobs in job_name)"
            return self._result(alert, "ignored", reason, namespace=scope.namespace)
        kind = str(target.get("kind"))
        body = alert_task(alert, name, target, kind)
        task, created = await self._tasks.create_task(body)
        ref = {"kind": kind, "name": str(body["spec"]["target"]["name"])}
        if created:
            log.info("alert %s: created AgentTask %s/%s", alert.name, scope.namespace, name)
            return self._result(alert, "created", task=name, namespace=scope.namespace, target=ref)
        if is_resolved(task):  # the same alert fires again after it was resolved
            conditions = resolved_conditions(task, resolved=False, alert=alert, now=self._clock())
            await self._tasks.patch_task_status(scope.namespace, name, {"conditions": conditions})
        return self._result(alert, "exists", task=name, namespace=scope.namespace, target=ref)

    async def _resolve(self, alert: Alert, namespace: str, name: str) -> AlertResult:
        task = await self._tasks.read_task(namespace, name)
        if task is None:
            return self._result(
                alert, "ignored", "no task was opened for this alert", namespace=namespace
            )
        if (task.get("status") or {}).get("phase") not in ("Succeeded", "Failed"):
            raise TaskBusy(f"AgentTask {namespace}/{name} is still being diagnosed")
        if not is_resolved(task):
            conditions = resolved_conditions(task, resolved=True, alert=alert, now=self._clock())
            await self._tasks.patch_task_status(namespace, name, {"conditions": conditions})
        return self._result(alert, "resolved", task=name, namespace=namespace)

    @staticmethod
    def _result(
        alert: Alert,
        outcome: Outcome,
        reason: str = "",
        *,
        task: str | None = None,
        namespace: str | None = None,
        target: dict[str, str] | None = None,
    ) -> AlertResult:
        return AlertResult(
            fingerprint=alert.fingerprint[:64],
            alertname=redact_text(alert.name)[:200],
            status=alert.status,
            outcome=outcome,
            reason=redact_text(reason),
            task=task,
            namespace=namespace,
            target=target,
        )
