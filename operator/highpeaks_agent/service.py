"""The diagnosis service: diagnose once from the live cluster, then explain and publish.

Two steps, so a caller that only needs the rules' verdict (the incident monitor's many looks)
never pays for an explanation, and a caller that publishes (an AgentTask, a new incident,
/assist) explains the very diagnosis it already has instead of reading the cluster again:

* :meth:`DiagnosisService.diagnose_target` / :meth:`~DiagnosisService.diagnose_namespace`
  read a snapshot and run the engine → :class:`Diagnosed` (the rules' report, with the
  snapshot the redactor needs);
* :meth:`DiagnosisService.explain` asks the explainer (Flowise) when one is configured,
  redacts what it wrote and counts → :class:`Report`, ready to publish.

The AgentTask handlers, the incident monitor and /assist call this and nothing below it, so
a task and a chat question about the same workload get the same diagnosis.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from highpeaks_agent import metrics, tracing
from highpeaks_agent.engine import diagnose, diagnose_target
from highpeaks_agent.engine.model import Diagnosis, ObjectRef
from highpeaks_agent.engine.snapshot import Snapshot, meta
from highpeaks_agent.engine.thresholds import Thresholds
from highpeaks_agent.errors import TargetNotFound
from highpeaks_agent.explain import DISABLED, Explainer, ExplainOutcome, ExplainRequest
from highpeaks_agent.logging_setup import log_context
from highpeaks_agent.render import answer as answers

Trigger = Literal["task", "incident", "assist"]


@dataclass(frozen=True, slots=True)
class Diagnosed:
    """The rules' verdict on one target or one namespace (every engine string redacted)."""

    scope: str
    """What was diagnosed, e.g. ``Deployment shop/checkout`` or ``namespace shop``."""
    subject: str
    """Stable identity of what was diagnosed: the target's uid, or ``namespace/NAME``."""
    diagnoses: list[Diagnosis]
    rules_answer: str
    snapshot: Snapshot
    trigger: Trigger
    target: Mapping[str, Any] | None = None
    """The target object as read for this diagnosis (None for a namespace)."""

    @property
    def failing(self) -> bool:
        return any(d.findings for d in self.diagnoses)

    @property
    def pods_seen(self) -> int:
        return len(self.snapshot.pods)


@dataclass(frozen=True, slots=True)
class Report:
    """A diagnosis explained and ready to publish (every string redacted)."""

    diagnoses: list[Diagnosis]
    answer: str
    summary: str
    recommendations: list[str]
    source: Literal["rules", "flowise"]
    explanation: ExplainOutcome
    pods_seen: int

    @property
    def failing(self) -> bool:
        return any(d.findings for d in self.diagnoses)


class ContextSource(Protocol):
    """Where snapshots come from: ``sources.live.LiveSource`` in the operator and /assist."""

    async def target_snapshot(self, namespace: str, kind: str, name: str) -> Snapshot:
        """The target and what the engine needs about it; raises ``TargetNotFound``."""
        ...

    async def namespace_snapshot(self, namespace: str) -> Snapshot:
        """Every workload, pod and event of one namespace."""
        ...


def utcnow() -> datetime:
    """The wall clock, in UTC ("now" for live diagnoses)."""
    return datetime.now(UTC)


class DiagnosisService:
    """Diagnoses a target or a namespace from the live cluster, and explains diagnoses."""

    def __init__(
        self,
        live: ContextSource,
        *,
        thresholds: Thresholds,
        explainer: Explainer | None = None,
        max_concurrency: int = 4,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._live = live
        self._thresholds = thresholds
        self._explainer = explainer
        self._limit = asyncio.Semaphore(max_concurrency)
        self._clock = clock

    async def diagnose_target(
        self, namespace: str, kind: str, name: str, *, trigger: Trigger
    ) -> Diagnosed:
        """The rules' verdict on one workload; raises ``TargetNotFound`` / ``UnsupportedTarget``."""
        where = {"k8s.namespace.name": namespace, "highpeaks.target.kind": kind}
        async with self._limit:
            with (
                _instrumented(trigger, where),
                log_context(kind=kind, namespace=namespace, name=name),
            ):
                with tracing.span("highpeaks.read"):
                    snapshot = await self._live.target_snapshot(namespace, kind, name)
                ref = ObjectRef(kind=kind, namespace=namespace, name=name)
                with tracing.span("highpeaks.engine"):
                    diagnosis = diagnose_target(
                        snapshot, ref, now=self._clock(), thresholds=self._thresholds
                    )
        if diagnosis is None:  # the target vanished between reading and diagnosing
            raise TargetNotFound(kind, namespace, name)
        target = snapshot.get(kind, namespace, name) or {}
        return Diagnosed(
            scope=f"{kind} {namespace}/{name}",
            subject=str(meta(target).get("uid") or f"{kind}/{namespace}/{name}"),
            diagnoses=[diagnosis],
            rules_answer=answers.target_answer(diagnosis),
            snapshot=snapshot,
            trigger=trigger,
            target=target,
        )

    async def diagnose_namespace(self, namespace: str, *, trigger: Trigger) -> Diagnosed:
        """The rules' verdict on every workload of a namespace, worst first."""
        async with self._limit:
            with _instrumented(trigger, {"k8s.namespace.name": namespace}):
                with tracing.span("highpeaks.read"):
                    snapshot = await self._live.namespace_snapshot(namespace)
                with tracing.span("highpeaks.engine"):
                    diagnoses = diagnose(
                        snapshot,
                        now=self._clock(),
                        thresholds=self._thresholds,
                        namespace=namespace,
                    )
        return Diagnosed(
            scope=f"namespace {namespace}",
            subject=f"namespace/{namespace}",
            diagnoses=diagnoses,
            rules_answer=answers.namespace_answer(namespace, diagnoses, len(snapshot.pods)),
            snapshot=snapshot,
            trigger=trigger,
        )

    async def explain(self, diagnosed: Diagnosed, *, question: str | None = None) -> Report:
        """The report to publish: the flow's explanation when it answers, else the rules'.

        The explainer is asked only when something fails or a question was asked. The
        question and whatever the explainer wrote are redacted with the snapshot's redactor
        (so values of secret-looking env vars are caught too).
        """
        redact = diagnosed.snapshot.redactor.text
        outcome = DISABLED
        if self._explainer is not None and (diagnosed.failing or question):
            request = ExplainRequest(
                scope=diagnosed.scope,
                diagnoses=diagnosed.diagnoses,
                question=redact(question) if question else None,
                subject=diagnosed.subject,
            )
            async with self._limit:
                with tracing.span("highpeaks.explain", {"highpeaks.trigger": diagnosed.trigger}):
                    outcome = await self._explainer.explain(request)
        report = _report(diagnosed, outcome)
        metrics.DIAGNOSES.labels(
            diagnosed.trigger, report.source, "failing" if report.failing else "healthy"
        ).inc()
        return Report(
            diagnoses=report.diagnoses,
            answer=redact(report.answer),
            summary=redact(report.summary),
            recommendations=[redact(r) for r in report.recommendations],
            source=report.source,
            explanation=outcome,
            pods_seen=report.pods_seen,
        )


@contextlib.contextmanager
def _instrumented(trigger: Trigger, attributes: dict[str, str]) -> Iterator[None]:
    """Time and trace one diagnosis; count one that failed (the error passes on)."""
    with (
        tracing.span("highpeaks.diagnosis", {"highpeaks.trigger": trigger, **attributes}),
        metrics.DIAGNOSIS_SECONDS.labels(trigger).time(),
    ):
        try:
            yield
        except Exception:
            metrics.DIAGNOSES.labels(trigger, "rules", "error").inc()
            raise


def _report(diagnosed: Diagnosed, outcome: ExplainOutcome) -> Report:
    """The flow's words where it answered, the rules' everywhere else (not yet redacted)."""
    diagnoses = diagnosed.diagnoses
    rules_answer = diagnosed.rules_answer
    rules_summary = diagnoses[0].summary if len(diagnoses) == 1 else rules_answer
    if outcome.status == "ok":
        return Report(
            diagnoses=[d.model_copy(update={"source": "flowise"}) for d in diagnoses],
            answer=outcome.answer or outcome.summary or rules_answer,
            summary=outcome.summary or rules_summary,
            recommendations=outcome.recommendations or answers.recommendations(diagnoses),
            source="flowise",
            explanation=outcome,
            pods_seen=diagnosed.pods_seen,
        )
    return Report(
        diagnoses=diagnoses,
        answer=rules_answer,
        summary=rules_summary,
        recommendations=answers.recommendations(diagnoses),
        source="rules",
        explanation=outcome,
        pods_seen=diagnosed.pods_seen,
    )
