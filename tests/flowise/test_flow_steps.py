"""The shipped tool-using flow in the real Flowise 3.1.4: troubleshooting steps over MCP.

Flowise runs ``flows/troubleshooting.chatflow.json`` (Tool Agent, Custom MCP node) with the
loopback model scripted to call tools; the bridge issues a one-request grant per question and
hands Flowise the token and the MCP URL as variables. The MCP server here is the test double
of ``tests/flowise/mcp_double.py`` (the SDK's server, the operator's ``FlowGrants``): it proves
what Flowise's node does — Streamable HTTP, the bearer token from a variable, one call per
step — while ``/mcp`` itself is tested with the operator.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest

from highpeaks_agent.controller.status import completed_status
from highpeaks_agent.engine.thresholds import DEFAULT_THRESHOLDS
from highpeaks_agent.flowise.bridge import FlowiseExplainer, FlowTools
from highpeaks_agent.flowise.client import CircuitBreaker, FlowiseClient
from highpeaks_agent.flowise.grants import FlowGrants
from highpeaks_agent.service import DiagnosisService, Report
from tests.flowise.conftest import RecordingProxy
from tests.flowise.harness import FlowiseServer
from tests.flowise.mcp_double import McpDouble
from tests.flowise.model_server import INJECTION, ModelServer
from tests.flowise.test_real_flowise import Source
from tests.unit.engine.builders import NOW

pytestmark = pytest.mark.flowise

#: What the rules find in the crashing checkout (its log says it cannot reach its database).
RULES_CAUSE = "CrashLoopBackOff.DependencyUnreachable"
CRASH_TAIL = "panic: DB_URL is not set\nexit status 1"


@pytest.fixture(scope="module")
def grants() -> FlowGrants:
    return FlowGrants()


@pytest.fixture(scope="module")
def mcp(grants: FlowGrants) -> Iterator[McpDouble]:
    double = McpDouble(grants)
    double.start()
    try:
        yield double
    finally:
        double.stop()


@pytest.fixture(autouse=True)
def fresh_script(model: ModelServer, mcp: McpDouble) -> Iterator[None]:
    yield
    model.plan, model.endless = [], None
    mcp.answers = {tool: f"{tool}: nothing unusual" for tool in mcp.answers}


async def explained(
    flowise: FlowiseServer,
    grants: FlowGrants,
    mcp: McpDouble,
    *,
    max_steps: int = 5,
    question: str | None = "Why is checkout failing after the release?",
    proxy: RecordingProxy | None = None,
) -> Report:
    url = f"http://127.0.0.1:{proxy.port}" if proxy else flowise.url
    client = FlowiseClient(
        url,
        flowise.flow_id,
        api_key=flowise.api_key,
        timeout=60,
        max_retries=0,
        breaker=CircuitBreaker(failures=100, cooldown=1),
    )
    tools = FlowTools(grants, url=mcp.url, max_steps=max_steps, grant_seconds=65)
    diagnosis_service = DiagnosisService(
        Source(),
        thresholds=DEFAULT_THRESHOLDS,
        explainer=FlowiseExplainer(client, tools=tools),
        clock=lambda: NOW,
    )
    try:
        diagnosed = await diagnosis_service.diagnose_target(
            "shop", "Deployment", "checkout", trigger="task"
        )
        return await diagnosis_service.explain(diagnosed, question=question)
    finally:
        await client.aclose()


def task_status(report: Report) -> dict[str, object]:
    return completed_status(
        report,
        generation=1,
        started_at=NOW - timedelta(seconds=2),
        now=NOW,
        flowise_configured=True,
    )


async def test_the_flow_calls_logs_then_events_and_the_steps_reach_the_status(
    flowise: FlowiseServer, model: ModelServer, grants: FlowGrants, mcp: McpDouble
) -> None:
    mcp.answers["logs"] = CRASH_TAIL
    mcp.answers["events"] = "Warning BackOff: Back-off restarting failed container app"
    model.plan = [
        ("logs", {"pod": "checkout-7d9f-abcde", "container": "app", "previous": True}),
        ("events", {"kind": "Pod", "name": "checkout-7d9f-abcde"}),
    ]
    calls_before = len(mcp.calls)
    report = await explained(flowise, grants, mcp)

    assert report.explanation.status == "ok", report.explanation.reason
    assert [call[0] for call in mcp.calls[calls_before:]] == ["logs", "events"]
    assert [(s.tool, s.outcome) for s in report.steps] == [("logs", "ok"), ("events", "ok")]
    steps = task_status(report)["steps"]
    assert steps == [
        {
            "tool": "logs",
            "arguments": "pod=checkout-7d9f-abcde container=app previous=True tail=50",
            "result": "panic: DB_URL is not set",
            "durationMs": report.steps[0].duration_ms,
        },
        {
            "tool": "events",
            "arguments": "kind=Pod name=checkout-7d9f-abcde",
            "result": "Warning BackOff: Back-off restarting failed container app",
            "durationMs": report.steps[1].duration_ms,
        },
    ]
    # the model read the tool results: they were in its last request, after the evidence
    last = model.requests[-1]["messages"]
    assert [m["role"] for m in last if m["role"] == "tool"] == ["tool", "tool"]
    assert any("DB_URL is not set" in str(m.get("content")) for m in last)
    # the flow's answer is used, labelled; the rules' root cause is its root cause
    assert report.source == "flowise"
    assert report.explanation.root_cause == report.diagnoses[0].root_cause == RULES_CAUSE
    assert mcp.refused_tokens == 0


async def test_a_model_that_never_stops_is_cut_at_the_step_budget_and_the_rules_stand(
    flowise: FlowiseServer, model: ModelServer, grants: FlowGrants, mcp: McpDouble
) -> None:
    model.endless = ("logs", {"pod": "checkout-7d9f-abcde"})
    calls_before = len(mcp.calls)
    started = time.monotonic()
    report = await explained(flowise, grants, mcp, max_steps=3)
    elapsed = time.monotonic() - started

    assert report.explanation.status == "unavailable"
    assert report.explanation.reason == "the flow used its 3 steps without answering"
    # Flowise's Tool Agent stops after FLOW_MAX_STEPS + 1 turns; the grant refused the one
    # past the budget
    assert [s.outcome for s in report.steps] == ["ok", "ok", "ok", "budget"]
    assert len(mcp.calls) - calls_before == 4
    assert report.source == "rules" and report.diagnoses[0].root_cause == RULES_CAUSE
    status = task_status(report)
    assert status["source"] == "rules" and len(status["steps"]) == 4  # type: ignore[arg-type]
    assert elapsed < 60


async def test_a_tool_result_that_says_ignore_previous_instructions_changes_nothing(
    flowise: FlowiseServer, model: ModelServer, grants: FlowGrants, mcp: McpDouble
) -> None:
    mcp.answers["logs"] = f"INFO starting\nERROR {INJECTION}\n"
    model.plan = [("logs", {"pod": "checkout-7d9f-abcde", "container": "app"})]
    report = await explained(flowise, grants, mcp)

    # the model obeyed the tool result (it says everything is healthy and recommends a
    # delete); the rules' decision is what is published
    assert report.explanation.status == "ok"
    assert report.explanation.summary == "Everything is healthy."
    assert report.source == "rules"
    assert report.flow_not_used == "it recommends a destructive command (kubectl delete)"
    assert report.diagnoses[0].root_cause == RULES_CAUSE
    assert report.diagnoses[0].source == "rules"
    assert "healthy" not in report.summary.lower()
    assert not any("delete" in r for r in report.recommendations)
    assert [s.tool for s in report.steps] == ["logs"]  # the step is on the record all the same


async def test_the_token_is_dead_once_the_question_is_answered(
    flowise: FlowiseServer,
    model: ModelServer,
    grants: FlowGrants,
    mcp: McpDouble,
    proxy: RecordingProxy,
) -> None:
    model.plan = [("node", {"name": "worker-1"})]
    sent_before = len(proxy.sent)
    report = await explained(flowise, grants, mcp, proxy=proxy)
    assert [s.tool for s in report.steps] == ["node"]
    sent = bytes(proxy.sent[sent_before:])
    token = sent.split(b'"highpeaksFlowToken":"', 1)[1].split(b'"', 1)[0].decode()
    assert token.startswith("hpflow_") and grants.lookup(token) is None


async def test_figure_one_question_with_three_steps(
    flowise: FlowiseServer,
    model: ModelServer,
    grants: FlowGrants,
    mcp: McpDouble,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The README's figure: what one question with three steps costs, measured."""
    model.plan = [
        ("logs", {"pod": "checkout-7d9f-abcde", "container": "app", "previous": True}),
        ("events", {"kind": "Pod", "name": "checkout-7d9f-abcde"}),
        ("rollout_history", {"kind": "Deployment", "name": "checkout"}),
    ]
    model_before, http_before = len(model.requests), len(mcp.http_requests)
    started = time.monotonic()
    report = await explained(flowise, grants, mcp, question="What changed in the release?")
    elapsed = time.monotonic() - started
    model_calls = len(model.requests) - model_before
    mcp_requests = mcp.http_requests[http_before:]
    assert [s.tool for s in report.steps] == ["logs", "events", "rollout_history"]
    assert model_calls == 4  # three tool turns and the answer
    step_ms = sum(s.duration_ms for s in report.steps)
    with capsys.disabled():
        print(
            f"\n[figure] one question, 3 steps: {elapsed:.2f} s end to end; 1 Flowise"
            f" prediction; {model_calls} model calls; 3 tool calls in"
            f" {len(mcp_requests)} MCP HTTP requests ({dict(Counter(mcp_requests))});"
            f" {step_ms} ms inside the tools"
        )
