"""The diagnosis service: engine + explainer + redaction, with the live source replaced by
in-memory snapshots (the API-reading part is exercised against an API server elsewhere)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from highpeaks_agent.engine import Snapshot
from highpeaks_agent.engine.snapshot import ContainerLog
from highpeaks_agent.engine.thresholds import DEFAULT_THRESHOLDS
from highpeaks_agent.errors import TargetNotFound
from highpeaks_agent.explain import ExplainOutcome, ExplainRequest
from highpeaks_agent.service import DiagnosisService, Report
from highpeaks_agent.sources.live import _containers_worth_logs, _selector_string
from highpeaks_agent.visibility import EVERYTHING, Visibility

from ..engine.builders import (
    NOW,
    container,
    deployment,
    failing_deployment,
    pod,
    replicaset,
    terminated,
    waiting,
)

SECRET = "planted-db-password-991"


class SnapshotSource:
    """Serves fixed objects the way LiveSource would (same method names, errors, and only
    what ``visible`` allows)."""

    def __init__(self, *objects: dict[str, Any], logs: dict[Any, ContainerLog] | None = None):
        self.objects = list(objects)
        self.logs = logs or {}
        self.visibilities: list[Visibility] = []

    def _snapshot(self, objects: list[dict[str, Any]], visible: Visibility) -> Snapshot:
        self.visibilities.append(visible)
        readable = [
            o
            for o in objects
            if (visible.events if o["kind"] == "Event" else visible.may_read(o["kind"]))
        ]
        snapshot = Snapshot.from_objects(readable)
        if visible.logs:
            snapshot.logs.update(self.logs)
        return snapshot

    async def target_snapshot(
        self, namespace: str, kind: str, name: str, *, visible: Visibility = EVERYTHING
    ) -> Snapshot:
        snapshot = self._snapshot(self.objects, visible)
        if snapshot.get(kind, namespace, name) is None:
            raise TargetNotFound(kind, namespace, name)
        return snapshot

    async def namespace_snapshot(
        self, namespace: str, *, visible: Visibility = EVERYTHING
    ) -> Snapshot:
        return self._snapshot(
            [o for o in self.objects if o["metadata"].get("namespace") == namespace], visible
        )


class RecordingExplainer:
    def __init__(self, outcome: ExplainOutcome) -> None:
        self.outcome = outcome
        self.requests: list[ExplainRequest] = []

    async def explain(self, request: ExplainRequest) -> ExplainOutcome:
        self.requests.append(request)
        return self.outcome


def failing_objects() -> list[dict[str, Any]]:
    env = [{"name": "DB_PASSWORD", "value": SECRET}]
    dep, rs, p = failing_deployment(
        [waiting(restarts=4, last=terminated(1, message=f"login failed for {SECRET}"))],
        containers=[container(env=env)],
    )
    return [dep, rs, p]


def service(source: Any, explainer: Any = None) -> DiagnosisService:
    return DiagnosisService(
        source, thresholds=DEFAULT_THRESHOLDS, explainer=explainer, clock=lambda: NOW
    )


async def ask(svc: DiagnosisService, name: str = "checkout", question: str | None = None) -> Report:
    """Diagnose the Deployment, then explain that diagnosis (what a task does)."""
    diagnosed = await svc.diagnose_target("shop", "Deployment", name, trigger="task")
    return await svc.explain(diagnosed, question=question)


async def test_failing_target_rules_only() -> None:
    report = await ask(service(SnapshotSource(*failing_objects())))
    assert report.source == "rules"
    assert report.explanation.status == "disabled"
    assert report.failing
    assert report.diagnoses[0].root_cause == "CrashLoopBackOff"
    assert "Most likely cause (CrashLoopBackOff)" in report.answer
    assert report.recommendations and "--previous" in report.recommendations[0]
    assert SECRET not in repr(report)


async def test_explainer_answer_is_used_and_redacted() -> None:
    explainer = RecordingExplainer(
        ExplainOutcome(
            status="ok",
            summary=f"The DB password {SECRET} is rejected.",
            answer="Roll back.",
            recommendations=["kubectl rollout undo deployment/checkout -n shop"],
        )
    )
    report = await ask(service(SnapshotSource(*failing_objects()), explainer), question="why?")
    assert report.source == "flowise"
    assert report.diagnoses[0].source == "flowise"
    assert report.answer == "[generated] Roll back."
    assert report.generated and not report.flow_not_used
    assert SECRET not in report.summary and "[REDACTED]" in report.summary
    request = explainer.requests[0]
    assert request.question == "why?"
    assert SECRET not in repr(request.diagnoses)


async def test_unavailable_explainer_falls_back_visibly() -> None:
    explainer = RecordingExplainer(ExplainOutcome(status="unavailable", reason="timeout after 30s"))
    report = await ask(service(SnapshotSource(*failing_objects()), explainer))
    assert report.source == "rules"
    assert report.explanation.reason == "timeout after 30s"


async def test_healthy_target_is_not_sent_to_the_explainer() -> None:
    dep = deployment(available=1)
    rs = replicaset(dep, "7c9f8d6b5", revision=1, ready=1)
    explainer = RecordingExplainer(ExplainOutcome(status="ok", summary="x"))
    report = await ask(
        service(SnapshotSource(dep, rs, pod("checkout-7c9f8d6b5-a", owner=rs)), explainer)
    )
    assert not report.failing
    assert report.answer == "Deployment shop/checkout is healthy: 1/1 replicas ready."
    assert explainer.requests == []


async def test_missing_target_raises() -> None:
    with pytest.raises(TargetNotFound):
        await ask(service(SnapshotSource(*failing_objects())), "nope")


async def test_namespace_answers() -> None:
    svc = service(SnapshotSource(*failing_objects()))
    report = await svc.explain(await svc.diagnose_namespace("shop", trigger="assist"))
    assert report.answer.startswith("1 workload is failing in namespace shop:")
    assert "CrashLoopBackOff" in report.answer
    quiet = await svc.explain(await svc.diagnose_namespace("empty", trigger="assist"))
    assert (
        quiet.answer
        == "Nothing is failing in namespace empty: 0 pods checked, no failing workloads."
    )


def test_selector_string_and_log_choice() -> None:
    workload = {
        "spec": {
            "selector": {
                "matchLabels": {"app": "checkout", "tier": "web"},
                "matchExpressions": [
                    {"key": "track", "operator": "In", "values": ["stable", "canary"]},
                    {"key": "legacy", "operator": "DoesNotExist"},
                ],
            }
        }
    }
    assert _selector_string(workload) == "app=checkout,tier=web,track in (stable,canary),!legacy"
    crashed = pod("a", statuses=[waiting(restarts=3, last=terminated(1))])
    assert _containers_worth_logs(crashed) == [("app", True)]
    healthy = pod("b")
    assert _containers_worth_logs(healthy) == []


def test_a_crash_looping_init_containers_previous_log_is_read() -> None:
    starting = pod(
        "c",
        phase="Pending",
        init_statuses=[waiting("migrate", restarts=4, last=terminated(1))],
        statuses=[waiting(reason="PodInitializing")],
    )
    assert _containers_worth_logs(starting) == [("migrate", True)]


class CountingSource(SnapshotSource):
    def __init__(self, *objects: dict[str, Any]) -> None:
        super().__init__(*objects)
        self.reads = 0

    async def target_snapshot(
        self, namespace: str, kind: str, name: str, *, visible: Visibility = EVERYTHING
    ) -> Snapshot:
        self.reads += 1
        return await super().target_snapshot(namespace, kind, name, visible=visible)


async def test_explaining_uses_the_diagnosis_it_is_given() -> None:
    source = CountingSource(*failing_objects())
    explainer = RecordingExplainer(ExplainOutcome(status="ok", summary="explained"))
    svc = service(source, explainer)
    diagnosed = await svc.diagnose_target("shop", "Deployment", "checkout", trigger="incident")
    assert diagnosed.failing and diagnosed.target is not None
    assert explainer.requests == []  # the rules' verdict costs no explanation
    report = await svc.explain(diagnosed)
    assert report.summary == "[generated] explained"
    assert source.reads == 1
    assert explainer.requests[0].diagnoses == diagnosed.diagnoses
    assert explainer.requests[0].subject == diagnosed.target["metadata"]["uid"]


async def test_the_question_is_redacted_with_the_snapshots_known_values() -> None:
    explainer = RecordingExplainer(ExplainOutcome(status="unavailable", reason="timeout"))
    await ask(
        service(SnapshotSource(*failing_objects()), explainer),
        question=f"is {SECRET} the right password? token ghp_1234567890abcdefghijklmnopqrstuvwxyzAB",
    )
    question = explainer.requests[0].question or ""
    assert SECRET not in question and "ghp_1234567890" not in question
    assert "[REDACTED" in question


async def test_the_explainer_is_told_whose_share_of_the_data_it_explains() -> None:
    explainer = RecordingExplainer(ExplainOutcome(status="unavailable", reason="timeout"))
    svc = service(SnapshotSource(*failing_objects()), explainer)
    everything = await svc.diagnose_target("shop", "Deployment", "checkout", trigger="assist")
    await svc.explain(everything, question="why?")
    share = Visibility(
        kinds=frozenset({"Deployment", "Pod"}),
        logs=False,
        events=True,
        wanted=frozenset({"Deployment", "Pod", "ReplicaSet"}),
    )
    limited = await svc.diagnose_target(
        "shop", "Deployment", "checkout", trigger="assist", visible=share
    )
    report = await svc.explain(limited, question="why?")
    assert [r.readers for r in explainer.requests] == ["", "Deployment,Pod;-logs;events"]
    assert report.withheld == ("container logs (get pods/log)", "ReplicaSet objects")


class GatedSource(SnapshotSource):
    """Reads wait until the test opens the gate, and are logged with what was asked before."""

    def __init__(self, *objects: dict[str, Any]) -> None:
        super().__init__(*objects)
        self.gate = asyncio.Event()
        self.reads: list[str] = []
        self.asked: list[str] = []

    async def target_snapshot(
        self, namespace: str, kind: str, name: str, *, visible: Visibility = EVERYTHING
    ) -> Snapshot:
        self.reads.append(f"read after {len(self.asked)} asked")
        await self.gate.wait()
        return await super().target_snapshot(namespace, kind, name, visible=visible)


async def test_callers_asking_together_share_one_reading_begun_after_they_asked() -> None:
    source = GatedSource(*failing_objects())
    svc = DiagnosisService(source, thresholds=DEFAULT_THRESHOLDS, max_concurrency=1)

    async def diagnose(who: str, name: str = "checkout") -> str:
        source.asked.append(who)
        diagnosed = await svc.diagnose_target("shop", "Deployment", name, trigger="task")
        return diagnosed.scope

    first = asyncio.create_task(diagnose("first"))
    await asyncio.sleep(0)  # the first reading has begun (and waits at the gate)
    later = [asyncio.create_task(diagnose(f"later-{i}")) for i in range(50)]
    other = asyncio.create_task(diagnose("other", name="absent"))
    await asyncio.sleep(0)
    source.gate.set()
    assert await first == "Deployment shop/checkout"
    assert {await t for t in later} == {"Deployment shop/checkout"}
    with pytest.raises(TargetNotFound):
        await other
    # the first caller's reading, then one for all 50 who asked while it ran (none of them
    # gets the reading begun before they asked), then the other target's
    assert source.reads == ["read after 1 asked", "read after 52 asked", "read after 52 asked"]


async def test_a_cancelled_caller_does_not_cancel_the_reading_others_share() -> None:
    source = GatedSource(*failing_objects())
    svc = DiagnosisService(source, thresholds=DEFAULT_THRESHOLDS, max_concurrency=1)
    blocker = asyncio.create_task(svc.diagnose_target("shop", "Deployment", "x", trigger="task"))
    await asyncio.sleep(0)  # holds the only slot, so the next flight waits, joinable
    leaving = asyncio.create_task(
        svc.diagnose_target("shop", "Deployment", "checkout", trigger="task")
    )
    staying = asyncio.create_task(
        svc.diagnose_target("shop", "Deployment", "checkout", trigger="task")
    )
    await asyncio.sleep(0)
    leaving.cancel()
    source.gate.set()
    assert (await staying).scope == "Deployment shop/checkout"
    with pytest.raises(TargetNotFound):
        await blocker
    assert leaving.cancelled()
