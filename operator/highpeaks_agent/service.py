"""The diagnosis service: diagnose once from the live cluster, then explain and publish.

Two steps, so a caller that only needs the rules' verdict (the incident monitor's many looks)
never pays for an explanation, and a caller that publishes (an AgentTask, a new incident,
/assist) explains the very diagnosis it already has instead of reading the cluster again:

* :meth:`DiagnosisService.diagnose_target` / :meth:`~DiagnosisService.diagnose_namespace`
  read a snapshot and run the engine → :class:`Diagnosed` (the rules' report, with the
  snapshot the redactor needs);
* :meth:`DiagnosisService.explain` asks the explainer (Flowise) when one is configured,
  judges its answer (``answer_guard``: the flow explains, the rules decide), labels what the
  flow wrote, redacts it and counts → :class:`Report`, ready to publish.

/assist passes a :class:`~highpeaks_agent.visibility.Visibility` built from the asking user's
rights, so the snapshot holds only what that user may read and the answer says what was left
out; the operator's own tasks and incidents read everything.

The AgentTask handlers, the incident monitor and /assist call this and nothing below it, so
a task and a chat question about the same workload get the same diagnosis.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Callable, Coroutine, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

from highpeaks_agent import answer_guard, metrics, tracing
from highpeaks_agent.engine import diagnose, diagnose_target
from highpeaks_agent.engine.model import Diagnosis, ObjectRef
from highpeaks_agent.engine.snapshot import Snapshot, meta
from highpeaks_agent.engine.thresholds import Thresholds
from highpeaks_agent.errors import TargetNotFound
from highpeaks_agent.explain import DISABLED, Explainer, ExplainOutcome, ExplainRequest
from highpeaks_agent.logging_setup import log_context
from highpeaks_agent.render import answer as answers
from highpeaks_agent.visibility import EVERYTHING, Visibility

if TYPE_CHECKING:
    from highpeaks_agent.flowise.grants import Step
    from highpeaks_agent.http.auth import User

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
    visible: Visibility = EVERYTHING
    """What the diagnosis was allowed to read (the asking user's share for /assist)."""
    namespace: str = ""
    """The namespace diagnosed (the target's, or the namespace itself)."""

    @property
    def withheld(self) -> tuple[str, ...]:
        """Kinds of evidence left unread because the asking user may not read them."""
        return tuple(self.visible.withheld())

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
    flow_not_used: str = ""
    """Why the flow's answer was not used although it answered (CONTRACT §8), else empty."""
    generated: bool = False
    """Whether ``answer`` holds text the flow wrote (always labelled as generated)."""
    withheld: tuple[str, ...] = ()
    """Kinds of evidence the asking user may not read, left out of the diagnosis."""

    @property
    def failing(self) -> bool:
        return any(d.findings for d in self.diagnoses)

    @property
    def steps(self) -> tuple[Step, ...]:
        """The troubleshooting steps the flow took, whether or not its answer was used."""
        return self.explanation.steps


class ContextSource(Protocol):
    """Where snapshots come from: ``sources.live.LiveSource`` in the operator and /assist."""

    async def target_snapshot(
        self, namespace: str, kind: str, name: str, *, visible: Visibility = EVERYTHING
    ) -> Snapshot:
        """The target and what the engine needs about it, as far as ``visible`` allows;
        raises ``TargetNotFound``."""
        ...

    async def namespace_snapshot(
        self, namespace: str, *, visible: Visibility = EVERYTHING
    ) -> Snapshot:
        """Every workload, pod and event of one namespace, as far as ``visible`` allows."""
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
        self._flights = _Flights()

    async def diagnose_target(
        self,
        namespace: str,
        kind: str,
        name: str,
        *,
        trigger: Trigger,
        visible: Visibility = EVERYTHING,
    ) -> Diagnosed:
        """The rules' verdict on one workload from what ``visible`` allows reading;
        raises ``TargetNotFound`` / ``UnsupportedTarget``.

        Callers asking about the same target, for the same trigger and with the same share,
        at the same time share one diagnosis, but only one that has not started reading yet: every caller's answer is
        read from the cluster after it asked (1,000 AgentTasks on one Deployment are a few
        reads, not 1,000).
        """
        key = (trigger, namespace, kind, name, visible.key)
        return await self._flights.join(
            key, lambda: self._diagnose_target(namespace, kind, name, trigger, visible)
        )

    async def _diagnose_target(
        self, namespace: str, kind: str, name: str, trigger: Trigger, visible: Visibility
    ) -> Diagnosed:
        where = {"k8s.namespace.name": namespace, "highpeaks.target.kind": kind}
        async with self._limit:
            self._flights.started((trigger, namespace, kind, name, visible.key))
            with (
                _instrumented(trigger, where),
                log_context(kind=kind, namespace=namespace, name=name),
            ):
                with tracing.span("highpeaks.read"):
                    snapshot = await self._live.target_snapshot(
                        namespace, kind, name, visible=visible
                    )
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
            visible=visible,
            namespace=namespace,
        )

    async def diagnose_namespace(
        self, namespace: str, *, trigger: Trigger, visible: Visibility = EVERYTHING
    ) -> Diagnosed:
        """The rules' verdict on every workload of a namespace that ``visible`` allows
        reading, worst first."""
        async with self._limit:
            with _instrumented(trigger, {"k8s.namespace.name": namespace}):
                with tracing.span("highpeaks.read"):
                    snapshot = await self._live.namespace_snapshot(namespace, visible=visible)
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
            visible=visible,
            namespace=namespace,
        )

    async def explain(
        self, diagnosed: Diagnosed, *, question: str | None = None, asker: User | None = None
    ) -> Report:
        """The report to publish: the flow's explanation when it answers, else the rules'.

        ``asker`` is the /assist caller: the flow's troubleshooting steps read with their own
        rights; without one (an AgentTask, an incident) they read the namespace only.

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
                readers="" if diagnosed.visible.complete else diagnosed.visible.key,
                namespace=diagnosed.namespace,
                asker=asker,
            )
            async with self._limit:
                with tracing.span("highpeaks.explain", {"highpeaks.trigger": diagnosed.trigger}):
                    outcome = await self._explainer.explain(request)
        report = _report(diagnosed, outcome)
        if report.flow_not_used:
            metrics.FLOWISE_ERRORS.labels("answer_not_used").inc()
        metrics.DIAGNOSES.labels(
            diagnosed.trigger, report.source, "failing" if report.failing else "healthy"
        ).inc()
        return dataclasses.replace(
            report,
            answer=redact(_with_withheld(report.answer, diagnosed.withheld)),
            summary=redact(report.summary),
            recommendations=[redact(r) for r in report.recommendations],
        )


#: (trigger, namespace, kind, name, the share of the data read)
FlightKey = tuple[str, str, str, str, str]


class _Flights:
    """One diagnosis per target at a time that callers may still join.

    A flight is joinable from the moment it is asked for until it starts reading (it holds a
    slot of the concurrency limit): so whoever joins it gets a reading that began after they
    asked. It runs as its own task, so a caller that is cancelled (a handler timing out, the
    operator stopping) does not cancel it for the others.
    """

    def __init__(self) -> None:
        self._joinable: dict[FlightKey, asyncio.Task[Diagnosed]] = {}

    async def join(
        self, key: FlightKey, diagnose: Callable[[], Coroutine[Any, Any, Diagnosed]]
    ) -> Diagnosed:
        flight = self._joinable.get(key)
        if flight is None:
            flight = asyncio.create_task(diagnose(), name=f"diagnosis of {'/'.join(key[1:4])}")
            self._joinable[key] = flight
            flight.add_done_callback(lambda done: self._drop(key, done))
        return await asyncio.shield(flight)

    def started(self, key: FlightKey) -> None:
        """The flight of ``key`` has begun reading: later callers start a new one."""
        self._joinable.pop(key, None)

    def _drop(self, key: FlightKey, done: asyncio.Task[Diagnosed]) -> None:
        if self._joinable.get(key) is done:
            del self._joinable[key]
        if not done.cancelled():
            done.exception()  # retrieved: every caller that awaited it has seen it


def _with_withheld(answer: str, withheld: tuple[str, ...]) -> str:
    """The answer, saying what was left out because the user may not read it."""
    if not withheld:
        return answer
    return f"{answer}\n(Some evidence was withheld because you may not read it: {'; '.join(withheld)}.)"


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
    """The flow's words where it answered and may be believed, the rules' everywhere else
    (not yet redacted)."""
    diagnoses = diagnosed.diagnoses
    rules = Report(
        diagnoses=diagnoses,
        answer=diagnosed.rules_answer,
        summary=diagnoses[0].summary if len(diagnoses) == 1 else diagnosed.rules_answer,
        recommendations=answers.recommendations(diagnoses),
        source="rules",
        explanation=outcome,
        pods_seen=diagnosed.pods_seen,
        withheld=diagnosed.withheld,
    )
    if outcome.status != "ok":
        return rules
    judgement = answer_guard.judge(outcome, diagnoses)
    if judgement.verdict == "dropped":
        return dataclasses.replace(rules, flow_not_used=judgement.reason)
    flow_text = outcome.answer or outcome.summary
    if judgement.verdict == "kept":
        kept = answer_guard.labelled_unused(flow_text, judgement.reason)
        return dataclasses.replace(
            rules,
            answer=f"{rules.answer}\n{kept}",
            flow_not_used=judgement.reason,
            generated=True,
        )
    label = answer_guard.labelled
    return dataclasses.replace(
        rules,
        diagnoses=[dataclasses.replace(d, source="flowise") for d in diagnoses],
        answer=label(flow_text) if flow_text else rules.answer,
        summary=label(outcome.summary) if outcome.summary else rules.summary,
        recommendations=[label(r) for r in outcome.recommendations] or rules.recommendations,
        source="flowise",
        generated=bool(flow_text),
    )
