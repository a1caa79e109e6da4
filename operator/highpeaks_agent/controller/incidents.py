"""Failing rollouts become one incident AgentTask and one IncidentNote, never a stream of them.

Watch events only *poke* the monitor; each Deployment is then looked at once per quiet
period (debounce), under the process-wide concurrency limit of the diagnosis service. What
has been reported is read back from the cluster — the incident task named
``incident-<deployment>-r<revision>`` and its failure-signature annotation — so restarts of
the operator, restart counters ticking and pods being replaced never produce another note.
:func:`decide` is the pure part; :class:`IncidentMonitor` gathers and publishes.

A look that fails is retried a few times with backoff, then left to the periodic resync
(``resync.py``), which pokes every Deployment whose incident is unfinished: writes happen in
the order task, status, note, signature annotation, so whatever is missing is found and
written on the next look. The note has a deterministic name; a 409 on it means "posted".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from highpeaks_agent import metrics, tracing
from highpeaks_agent.controller.detection import failing_since
from highpeaks_agent.controller.kube import GROUP, VERSION, KubeWriter
from highpeaks_agent.controller.naming import failure_signature, incident_task_name
from highpeaks_agent.controller.status import completed_status, condition
from highpeaks_agent.controller.tasks import TRIGGER_LABEL
from highpeaks_agent.engine.model import Diagnosis, Severity
from highpeaks_agent.engine.snapshot import meta
from highpeaks_agent.engine.workloads import revision as deployment_revision
from highpeaks_agent.errors import TargetNotFound
from highpeaks_agent.logging_setup import log_context
from highpeaks_agent.notify.notifier import IncidentNotifier
from highpeaks_agent.render.note import incident_note
from highpeaks_agent.service import Diagnosed, DiagnosisService, Report, utcnow

log = logging.getLogger(__name__)

SIGNATURE_ANNOTATION = "devops.highpeaks.io/failure-signature"
REVISION_ANNOTATION = "devops.highpeaks.io/revision"
AUTO = "auto"
#: Consecutive failed looks at one Deployment before leaving it to the periodic resync.
MAX_ATTEMPTS = 5


class NoteNotPosted(Exception):
    """The IncidentNote could not be written this time; the incident stays unfinished."""


@dataclass(frozen=True, slots=True)
class Action:
    """One thing to do about a Deployment after looking at it."""

    kind: Literal["open", "resignature", "reopen", "suppress", "resolve"]
    task_name: str
    revision: int = 0
    signature: str = ""


def rollout_complete(deployment: Mapping[str, Any]) -> bool:
    """The Deployment controller's own view: every replica updated and available."""
    spec, status = deployment.get("spec") or {}, deployment.get("status") or {}
    replicas = spec.get("replicas", 1)
    generation = meta(deployment).get("generation")
    observed = status.get("observedGeneration")
    return (
        (generation is None or observed is None or observed >= generation)
        and status.get("updatedReplicas", 0) >= replicas
        and status.get("availableReplicas", 0) >= replicas
        and not status.get("unavailableReplicas")
    )


def is_resolved(task: Mapping[str, Any]) -> bool:
    conditions = (task.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Resolved" and c.get("status") == "True" for c in conditions)


def decide(
    deployment: Mapping[str, Any], diagnosis: Diagnosis, tasks: Sequence[Mapping[str, Any]]
) -> list[Action]:
    """What to do, given the Deployment, what the rules found, and its incident tasks."""
    name = str(meta(deployment).get("name", ""))
    failing = bool(diagnosis.findings) and diagnosis.severity in (
        Severity.CRITICAL,
        Severity.WARNING,
    )
    if not failing:
        if not rollout_complete(deployment):
            return []  # pods being replaced, a rollout still starting: not yet recovered
        return [Action("resolve", str(meta(t).get("name"))) for t in tasks if not is_resolved(t)]
    revision = deployment_revision(deployment)
    signature = failure_signature(diagnosis)
    task_name = incident_task_name(name, revision)
    existing = next((t for t in tasks if meta(t).get("name") == task_name), None)
    if existing is None:
        return [Action("open", task_name, revision, signature)]
    annotations = meta(existing).get("annotations") or {}
    if annotations.get(SIGNATURE_ANNOTATION) != signature:
        return [Action("resignature", task_name, revision, signature)]
    if is_resolved(existing):
        return [Action("reopen", task_name, revision, signature)]
    return [Action("suppress", task_name, revision, signature)]


def incident_task(deployment: Mapping[str, Any], action: Action) -> dict[str, Any]:
    """The body of a new incident AgentTask, owned by (and deleted with) the Deployment."""
    md = meta(deployment)
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "AgentTask",
        "metadata": {
            "name": action.task_name,
            "namespace": md.get("namespace"),
            "labels": {TRIGGER_LABEL: AUTO, "app.kubernetes.io/managed-by": "highpeaks-agent"},
            "annotations": {REVISION_ANNOTATION: str(action.revision)},
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "name": md.get("name"),
                    "uid": md.get("uid"),
                    "blockOwnerDeletion": False,
                }
            ],
        },
        "spec": {"target": {"kind": "Deployment", "name": md.get("name")}},
    }


def note_message(report: Report, action: Action) -> str:
    """The IncidentNote: one paragraph an SRE reads in ``kubectl describe deploy``."""
    return incident_note(
        report.diagnoses[0],
        revision=action.revision,
        summary=report.summary,
        recommendations=report.recommendations,
        task_name=action.task_name,
    )


def _observe_detection(diagnosed: Diagnosed, now: datetime) -> None:
    """Observe the time from the failure's first sign to its note (see ``detection.py``)."""
    since = failing_since(diagnosed.diagnoses[0], diagnosed.snapshot)
    if since is not None:
        metrics.INCIDENT_DETECTION.observe(max(0.0, (now - since).total_seconds()))


class IncidentMonitor:
    """Debounced, deduplicated incident handling for Deployments."""

    def __init__(
        self,
        service: DiagnosisService,
        kube: KubeWriter,
        *,
        debounce_seconds: float,
        flowise_configured: bool,
        clock: Callable[[], datetime] = utcnow,
        notifier: IncidentNotifier | None = None,
    ) -> None:
        self._service = service
        self._kube = kube
        self._notifier = notifier
        self._debounce = debounce_seconds
        self._flowise = flowise_configured
        self._clock = clock
        self._pending: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._again: set[tuple[str, str]] = set()

    def poke(self, namespace: str, name: str) -> None:
        """Something about this Deployment changed: look at it once things are quiet."""
        key = (namespace, name)
        if key in self._pending:
            self._again.add(key)
            return
        self._pending[key] = asyncio.create_task(self._settle(key), name=f"incident:{key}")

    async def close(self) -> None:
        """Cancel pending looks (operator shutdown)."""
        tasks = list(self._pending.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _settle(self, key: tuple[str, str]) -> None:
        failures = 0
        try:
            while True:
                await asyncio.sleep(self._debounce * (2**failures))
                self._again.discard(key)
                try:
                    await self.evaluate(*key)
                    failures = 0
                except Exception:
                    # The API server hiccuped: look again with backoff, a bounded number of
                    # times, rather than wait for a watch event that may not come soon.
                    failures += 1
                    log.exception("looking at Deployment %s/%s failed (%d)", *key, failures)
                    if failures < MAX_ATTEMPTS:
                        self._again.add(key)
                if key not in self._again:
                    return
        finally:
            self._pending.pop(key, None)
            self._again.discard(key)

    async def evaluate(self, namespace: str, name: str) -> list[Action]:
        """Look at one Deployment now and act on what the rules find (one traced decision)."""
        where = {"k8s.namespace.name": namespace, "k8s.deployment.name": name}
        with (
            tracing.span("highpeaks.incident", where) as span,
            log_context(kind="Deployment", namespace=namespace, name=name),
        ):
            actions = await self._evaluate(namespace, name)
            span.set_attribute("highpeaks.actions", ",".join(a.kind for a in actions) or "none")
        return actions

    async def _evaluate(self, namespace: str, name: str) -> list[Action]:
        try:
            diagnosed = await self._service.diagnose_target(
                namespace, "Deployment", name, trigger="incident"
            )
        except TargetNotFound:
            return []
        if not diagnosed.target:
            return []
        deployment = dict(diagnosed.target)
        uid = meta(deployment).get("uid")
        tasks = [
            t
            for t in await self._kube.list_tasks(namespace, f"{TRIGGER_LABEL}={AUTO}")
            if any(ref.get("uid") == uid for ref in meta(t).get("ownerReferences") or [])
        ]
        actions = decide(deployment, diagnosed.diagnoses[0], tasks)
        for action in actions:
            with log_context(agenttask=f"{namespace}/{action.task_name}"):
                await self._act(action, deployment, diagnosed)
        return actions

    async def _act(self, action: Action, deployment: dict[str, Any], diagnosed: Diagnosed) -> None:
        namespace = str(meta(deployment).get("namespace"))
        if action.kind == "suppress":
            metrics.INCIDENT_NOTES.labels("suppressed").inc()
            self._notify(namespace, action)  # sends only what a crash left unsent
        elif action.kind == "resolve":
            await self._resolve(namespace, action.task_name)
        elif action.kind == "reopen":
            await self._kube.patch_task_status(
                namespace,
                action.task_name,
                {"conditions": self._conditions(diagnosed, "FailingAgain", resolved=False)},
            )
            metrics.INCIDENT_NOTES.labels("suppressed").inc()
        else:
            await self._report(action, deployment, diagnosed)

    async def _report(
        self, action: Action, deployment: dict[str, Any], diagnosed: Diagnosed
    ) -> None:
        """Open an incident (or give it a new root cause): its task, status, note, record."""
        namespace = str(meta(deployment).get("namespace"))
        started = self._clock()
        task, created = await self._kube.create_task(incident_task(deployment, action))
        if action.kind == "open" and not created:
            known = (meta(task).get("annotations") or {}).get(SIGNATURE_ANNOTATION)
            if known == action.signature:  # another life of this process got there first
                metrics.INCIDENT_NOTES.labels("suppressed").inc()
                return
        explained = await self._service.explain(diagnosed)
        status = completed_status(
            explained,
            generation=meta(task).get("generation"),
            started_at=started,
            now=self._clock(),
            flowise_configured=self._flowise,
        )
        await self._kube.patch_task_status(namespace, action.task_name, status)
        await self._post_note(action, deployment, explained)
        if action.kind == "open":
            _observe_detection(diagnosed, self._clock())
        # Recorded only once the note is out: a crash in between means the next look finds
        # the note already there (409 on its deterministic name) and records it then.
        await self._kube.patch_task_metadata(
            namespace,
            action.task_name,
            {"annotations": {SIGNATURE_ANNOTATION: action.signature}},
        )
        self._notify(namespace, action)
        await self._kube.post_event(
            task,
            reason="Diagnosed",
            message=f"{status['severity']}: {status['summary']}",
            type_="Normal",
            key=f"diagnosed/{action.signature}",
            now=self._clock(),
        )

    async def _post_note(
        self, action: Action, deployment: dict[str, Any], explained: Report
    ) -> None:
        """The IncidentNote, exactly once (a 409 on its name means an earlier try posted it);
        raises ``NoteNotPosted`` so the look is retried and, failing that, the resync comes."""
        posted = await self._kube.post_event(
            deployment,
            reason="IncidentNote",
            message=note_message(explained, action),
            type_="Warning",
            key=f"{action.revision}/{action.signature}",
            now=self._clock(),
            once=True,
        )
        metrics.INCIDENT_NOTES.labels("posted" if posted else "failed").inc()
        if not posted:
            namespace = meta(deployment).get("namespace")
            raise NoteNotPosted(f"IncidentNote for {namespace}/{action.task_name}")

    def _notify(self, namespace: str, action: Action) -> None:
        if self._notifier is not None:
            self._notifier.submit(namespace, action.task_name, action.signature)

    def _conditions(
        self, diagnosed: Diagnosed, reason: str, *, resolved: bool
    ) -> list[dict[str, Any]]:
        diagnosis = diagnosed.diagnoses[0]
        now = self._clock()
        message = (
            "The rollout is complete and every replica is available"
            if resolved
            else f"Failing again: {diagnosis.root_cause}"
        )
        return [
            condition("Diagnosed", True, "RootCauseFound", diagnosis.summary, now, None),
            condition("Resolved", resolved, reason, message, now, None),
        ]

    async def _resolve(self, namespace: str, task_name: str) -> None:
        task = await self._kube.read_task(namespace, task_name)
        if task is None:
            return
        kept = [
            c
            for c in (task.get("status") or {}).get("conditions") or []
            if c.get("type") != "Resolved"
        ]
        now = self._clock()
        kept.append(
            condition(
                "Resolved",
                True,
                "RolloutRecovered",
                "The rollout is complete and every replica is available",
                now,
                None,
            )
        )
        await self._kube.patch_task_status(namespace, task_name, {"conditions": kept})
        await self._kube.post_event(
            task,
            reason="Resolved",
            message="The rollout recovered: every replica is updated and available",
            type_="Normal",
            key="resolved",
            now=now,
        )
