"""``diagnose --explain`` shows a flow answer only as far as CONTRACT §8 lets it."""

from __future__ import annotations

import io
from typing import Any

import pytest

from highpeaks_agent.engine import Snapshot, diagnose
from highpeaks_agent.explain import ExplainOutcome, ExplainRequest
from highpeaks_agent.settings import Settings
from highpeaks_agent.terminal import explaining
from highpeaks_agent.terminal.console import Console
from highpeaks_agent.terminal.gathered import Gathered
from tests.unit.engine.builders import NOW, failing_deployment, terminated, waiting


def gathered() -> Gathered:
    snapshot = Snapshot.from_objects(
        list(failing_deployment([waiting(restarts=4, last=terminated(1))]))
    )
    return Gathered(snapshot=snapshot, now=NOW, scope="namespace shop", subject="dump/x/shop")


def flow_answering(outcome: ExplainOutcome, monkeypatch: pytest.MonkeyPatch) -> None:
    async def ask(request: ExplainRequest, settings: Settings, console: Console) -> Any:
        return outcome

    monkeypatch.setattr(explaining, "_ask", ask)


def explain(monkeypatch: pytest.MonkeyPatch, outcome: ExplainOutcome) -> ExplainOutcome:
    flow_answering(outcome, monkeypatch)
    seen = gathered()
    diagnoses = diagnose(seen.snapshot, now=NOW)
    settings = Settings(flowise_url="http://127.0.0.1:1", flowise_flow_id="flow")
    return explaining.explain(diagnoses, seen, settings, Console(io.StringIO()))


def test_a_destructive_next_step_is_not_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    shown = explain(
        monkeypatch,
        ExplainOutcome(
            status="ok",
            summary="The namespace is broken.",
            root_cause="CrashLoopBackOff",
            recommendations=["Run kubectl delete namespace shop and start again."],
            answer="Delete it.",
        ),
    )
    assert shown.status == "unavailable"
    assert "not used" in shown.reason and "delete" not in shown.answer.lower()


def test_an_answer_calling_it_healthy_is_kept_only_as_unused_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shown = explain(
        monkeypatch,
        ExplainOutcome(
            status="ok",
            summary="Everything is healthy.",
            root_cause="",
            recommendations=[],
            answer="Everything is healthy.",
        ),
    )
    assert shown.status == "ok"
    assert shown.summary == "" and shown.recommendations == []
    assert "not used" in shown.answer
