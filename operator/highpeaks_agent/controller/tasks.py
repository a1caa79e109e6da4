"""The AgentTask lifecycle: Pending → Running → Succeeded | Failed, then a ``Diagnosed`` Event.

The Kopf handlers call :meth:`TaskRunner.run` on create, on a spec change and on resume. The
runner validates the spec, writes ``Running``, asks the diagnosis service (the same one
/assist uses) and writes the whole status through the status subresource. A task that cannot
be run ends Failed with a condition saying why, and nothing else in the cluster changes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from kubernetes.client.exceptions import ApiException

from highpeaks_agent.controller.kube import KubeWriter
from highpeaks_agent.controller.spec import AgentTaskSpec, Rejection, parse_spec
from highpeaks_agent.controller.status import completed_status, failed_status, running_status
from highpeaks_agent.errors import TargetNotFound
from highpeaks_agent.service import DiagnosisService, Report, utcnow

log = logging.getLogger(__name__)

TRIGGER_LABEL = "devops.highpeaks.io/trigger"


class RetryLater(Exception):
    """The API server failed in a way worth retrying (the handler turns it into a retry)."""


def is_settled(body: Mapping[str, Any]) -> bool:
    """Whether the task's status already answers its current spec (nothing to do on resume)."""
    status = body.get("status") or {}
    generation = (body.get("metadata") or {}).get("generation")
    return status.get("phase") in ("Succeeded", "Failed") and (
        generation is None or status.get("observedGeneration") == generation
    )


class TaskRunner:
    """Runs AgentTasks: validate, diagnose, publish."""

    def __init__(
        self,
        service: DiagnosisService,
        kube: KubeWriter,
        *,
        flowise_configured: bool,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._service = service
        self._kube = kube
        self._flowise = flowise_configured
        self._clock = clock

    async def run(self, body: Mapping[str, Any]) -> None:
        """Diagnose the task's target and write the whole status, unless it is already done.

        The body a watch delivers may be seconds old (Kopf re-handles a stale one when its
        own annotation patch is late), so whether the current generation is finished is read
        from the API server, never judged from the event alone.
        """
        md = body.get("metadata") or {}
        current = await self._current(str(md.get("namespace", "")), str(md.get("name", "")))
        if current is None or is_settled(current):
            return
        await self._run(current)

    async def _current(self, namespace: str, name: str) -> Mapping[str, Any] | None:
        try:
            return await self._kube.read_task(namespace, name)
        except ApiException as exc:
            raise RetryLater(f"Kubernetes API error {exc.status}: {exc.reason}") from exc

    async def _run(self, body: Mapping[str, Any]) -> None:
        md = body.get("metadata") or {}
        namespace, name = str(md.get("namespace", "")), str(md.get("name", ""))
        generation = md.get("generation")
        spec = parse_spec(body.get("spec"), namespace)
        started = self._clock()
        if isinstance(spec, Rejection):
            await self._fail(body, spec, generation, started)
            return
        try:
            await self._kube.patch_task_status(namespace, name, running_status(generation, started))
            report = await self._diagnose(namespace, spec)
        except TargetNotFound as exc:
            rejection = Rejection(
                "TargetNotFound",
                f"{exc.kind} {exc.name!r} does not exist in namespace {namespace!r}",
            )
            await self._fail(body, rejection, generation, started)
            return
        except ApiException as exc:
            if exc.status == 404 and (exc.body or "").find(name) >= 0:
                return  # the task itself was deleted meanwhile: nothing left to report on
            raise RetryLater(f"Kubernetes API error {exc.status}: {exc.reason}") from exc
        status = completed_status(
            report,
            generation=generation,
            started_at=started,
            now=self._clock(),
            flowise_configured=self._flowise,
        )
        await self._kube.patch_task_status(namespace, name, status)
        await self._kube.post_event(
            body,
            reason="Diagnosed",
            message=f"{status['severity']}: {status['summary']}",
            type_="Normal",
            key=f"diagnosed/{generation}",
            now=self._clock(),
        )

    async def _diagnose(self, namespace: str, spec: AgentTaskSpec) -> Report:
        diagnosed = await self._service.diagnose_target(
            namespace, spec.target.kind, spec.target.name, trigger="task"
        )
        return await self._service.explain(diagnosed, question=spec.question)

    async def _fail(
        self,
        body: Mapping[str, Any],
        rejection: Rejection,
        generation: int | None,
        started: datetime,
    ) -> None:
        md = body.get("metadata") or {}
        status = failed_status(
            rejection, generation=generation, started_at=started, now=self._clock()
        )
        await self._kube.patch_task_status(str(md.get("namespace")), str(md.get("name")), status)
        await self._kube.post_event(
            body,
            reason="Rejected" if rejection.reason != "TargetNotFound" else "TargetNotFound",
            message=rejection.message,
            type_="Warning",
            key=f"failed/{generation}/{rejection.reason}",
            now=self._clock(),
        )
