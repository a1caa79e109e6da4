"""The diagnosis service: gather live context, run the engine, ask the explainer, redact.

The AgentTask handlers and /assist call this and nothing below it, so a task and a chat
question about the same workload get the same diagnosis. Built once at start-up.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from highpeaks_agent import metrics
from highpeaks_agent.engine import diagnose, diagnose_target
from highpeaks_agent.engine.model import Diagnosis, ObjectRef
from highpeaks_agent.engine.redact import redact_text, redactor_for
from highpeaks_agent.engine.snapshot import Snapshot, meta
from highpeaks_agent.engine.thresholds import Thresholds
from highpeaks_agent.errors import TargetNotFound
from highpeaks_agent.explain import DISABLED, Explainer, ExplainOutcome, ExplainRequest
from highpeaks_agent.render import answer as answers

Trigger = Literal["task", "incident", "assist"]


@dataclass(frozen=True, slots=True)
class Report:
    """The outcome of one diagnosis request, ready to publish (every string redacted)."""

    diagnoses: list[Diagnosis]
    answer: str
    summary: str
    recommendations: list[str]
    source: Literal["rules", "flowise"]
    explanation: ExplainOutcome
    pods_seen: int
    target: Mapping[str, Any] | None = None
    """The target object as read for this diagnosis (None for a namespace)."""

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
    """Diagnoses a target or a namespace from the live cluster."""

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
        self,
        namespace: str,
        kind: str,
        name: str,
        *,
        question: str | None = None,
        trigger: Trigger = "task",
        explain: bool = True,
    ) -> Report:
        """Diagnose one workload; raises ``TargetNotFound`` / ``ValueError`` for bad targets."""
        async with self._limit:
            try:
                snapshot = await self._live.target_snapshot(namespace, kind, name)
                ref = ObjectRef(kind=kind, namespace=namespace, name=name)
                diagnosis = diagnose_target(
                    snapshot, ref, now=self._clock(), thresholds=self._thresholds
                )
            except Exception:
                metrics.DIAGNOSES.labels(trigger, "rules", "error").inc()
                raise
            if diagnosis is None:  # the target vanished between reading and diagnosing
                raise TargetNotFound(kind, namespace, name)
            target = snapshot.get(kind, namespace, name) or {}
            uid = str(meta(target).get("uid") or f"{kind}/{namespace}/{name}")
            outcome = await self._explain(
                f"{kind} {namespace}/{name}", [diagnosis], question, uid, explain
            )
            report = self._report(
                [diagnosis], answers.target_answer(diagnosis), outcome, len(snapshot.pods)
            )
            return replace(_finish(report, snapshot, trigger), target=target)

    async def diagnose_namespace(
        self,
        namespace: str,
        *,
        question: str | None = None,
        trigger: Trigger = "assist",
    ) -> Report:
        """Diagnose every workload of a namespace, worst first."""
        async with self._limit:
            try:
                snapshot = await self._live.namespace_snapshot(namespace)
                diagnoses = diagnose(
                    snapshot, now=self._clock(), thresholds=self._thresholds, namespace=namespace
                )
            except Exception:
                metrics.DIAGNOSES.labels(trigger, "rules", "error").inc()
                raise
            outcome = await self._explain(
                f"namespace {namespace}", diagnoses, question, f"namespace/{namespace}", True
            )
            report = self._report(
                diagnoses,
                answers.namespace_answer(namespace, diagnoses, len(snapshot.pods)),
                outcome,
                len(snapshot.pods),
            )
            return _finish(report, snapshot, trigger)

    async def _explain(
        self,
        scope: str,
        diagnoses: list[Diagnosis],
        question: str | None,
        identity: str,
        wanted: bool,
    ) -> ExplainOutcome:
        failing = [d for d in diagnoses if d.findings]
        if self._explainer is None or not wanted or not (failing or question):
            return DISABLED
        clean_question = redact_text(question) if question else None
        revision = next((d.rollout.revision for d in failing if d.rollout), None)
        signature = ",".join(sorted({d.root_cause for d in failing}))
        session = hashlib.sha256(f"{identity}|{revision}".encode()).hexdigest()[:32]
        cache_key = hashlib.sha256(
            f"{identity}|{revision}|{signature}|{clean_question or ''}".encode()
        ).hexdigest()
        return await self._explainer.explain(
            ExplainRequest(
                scope=scope,
                diagnoses=diagnoses,
                question=clean_question,
                cache_key=cache_key,
                session_id=session,
            )
        )

    @staticmethod
    def _report(
        diagnoses: list[Diagnosis], rules_answer: str, outcome: ExplainOutcome, pods: int
    ) -> Report:
        rules_summary = diagnoses[0].summary if len(diagnoses) == 1 else rules_answer
        if outcome.status == "ok":
            return Report(
                diagnoses=[d.model_copy(update={"source": "flowise"}) for d in diagnoses],
                answer=outcome.answer or outcome.summary or rules_answer,
                summary=outcome.summary or rules_summary,
                recommendations=outcome.recommendations or answers.recommendations(diagnoses),
                source="flowise",
                explanation=outcome,
                pods_seen=pods,
            )
        return Report(
            diagnoses=diagnoses,
            answer=rules_answer,
            summary=rules_summary,
            recommendations=answers.recommendations(diagnoses),
            source="rules",
            explanation=outcome,
            pods_seen=pods,
        )


def _finish(report: Report, snapshot: Snapshot, trigger: Trigger) -> Report:
    """Redact what the explainer wrote (the engine's output is redacted already) and count it."""
    redact = redactor_for(snapshot.all_objects()).text
    metrics.DIAGNOSES.labels(
        trigger, report.source, "failing" if report.failing else "healthy"
    ).inc()
    return Report(
        diagnoses=report.diagnoses,
        answer=redact(report.answer),
        summary=redact(report.summary),
        recommendations=[redact(r) for r in report.recommendations],
        source=report.source,
        explanation=report.explanation,
        pods_seen=report.pods_seen,
    )
