"""The flow's troubleshooting steps through the bridge: one grant per prediction, handed to the
flow as Flowise variables, revoked however the prediction ends; the steps it recorded go with
the outcome, into ``status.steps[]`` and the metric (CONTRACT §11).

Flowise is a loopback server that plays the flow: while it "runs", it takes steps on the grant
the way ``/mcp`` does (``lookup`` → ``take_step`` → ``record``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from aiohttp import web
from prometheus_client import REGISTRY

from highpeaks_agent.controller.status import completed_status
from highpeaks_agent.explain import ExplainOutcome, ExplainRequest
from highpeaks_agent.flowise.bridge import (
    STOPPED_AT_BUDGET,
    TOKEN_VARIABLE,
    URL_VARIABLE,
    FlowiseExplainer,
    FlowTools,
    build_explainer,
    cache_key,
    session_id,
)
from highpeaks_agent.flowise.client import FlowiseClient
from highpeaks_agent.flowise.grants import FlowGrant, FlowGrants, Step
from highpeaks_agent.http.auth import User
from highpeaks_agent.settings import Settings
from tests.support.loopback import serve

from ..engine.builders import NOW
from ..service.test_diagnosis_service import (
    RecordingExplainer,
    SnapshotSource,
    failing_objects,
    service,
)
from .test_client import GOOD, request

MCP_URL = "http://highpeaks-agent.highpeaks-system.svc:8000/mcp"
ALICE = User(username="alice", uid="u-1", groups=("dev",))


class PlayedFlow:
    """Flowise running the shipped flow: each prediction takes ``steps`` on its grant, then
    answers ``answer`` (or fails with ``status``)."""

    def __init__(self, grants: FlowGrants) -> None:
        self.grants = grants
        self.steps: list[tuple[str, str, str]] = []
        self.answer: object = GOOD
        self.status = 200
        self.hang = False
        self.release = asyncio.Event()
        self.arrived = asyncio.Event()
        self.bodies: list[dict[str, object]] = []
        self.grants_seen: list[FlowGrant] = []
        self.url = ""

    async def predict(self, http: web.Request) -> web.StreamResponse:
        body = json.loads(await http.read())
        self.bodies.append(body)
        self.arrived.set()
        token = body["overrideConfig"].get("vars", {}).get(TOKEN_VARIABLE, "")
        grant = self.grants.lookup(token)
        if grant is not None:
            self.grants_seen.append(grant)
            for tool, arguments, result in self.steps:
                if grant.take_step():
                    grant.record(Step(tool, arguments, result, duration_ms=7))
                else:
                    grant.record(Step(tool, arguments, "step budget spent", 0, outcome="budget"))
        if self.hang:
            await self.release.wait()
        return web.json_response(self.answer, status=self.status)


@pytest.fixture
async def flow() -> AsyncIterator[PlayedFlow]:
    played = PlayedFlow(FlowGrants())
    app = web.Application()
    app.router.add_post("/api/v1/prediction/{flow}", played.predict)
    async with serve(app) as url:
        played.url = url
        yield played
        played.release.set()


def explainer(flow: PlayedFlow, max_steps: int = 5, timeout: float = 5.0) -> FlowiseExplainer:
    client = FlowiseClient(flow.url, "flow-1", timeout=timeout, max_retries=0)
    tools = FlowTools(flow.grants, url=MCP_URL, max_steps=max_steps, grant_seconds=timeout + 5)
    return FlowiseExplainer(client, tools=tools)


def asked(asker: User | None = None, namespace: str = "shop") -> ExplainRequest:
    return dataclasses.replace(request(), namespace=namespace, asker=asker)


def steps_counted(tool: str, result: str) -> float:
    labels = {"tool": tool, "result": result}
    return REGISTRY.get_sample_value("highpeaks_agent_flow_steps_total", labels) or 0.0


async def test_each_prediction_carries_a_grant_of_its_own_for_that_request_only(
    flow: PlayedFlow,
) -> None:
    flow.steps = [("logs", "pod=web-1 container=app", "ERROR no DB_URL")]
    bridge = explainer(flow)
    first = await bridge.explain(asked(ALICE))
    await bridge.explain(dataclasses.replace(asked(), question="and now?"))
    await bridge.aclose()

    overrides = [body["overrideConfig"] for body in flow.bodies]
    tokens = [o["vars"][TOKEN_VARIABLE] for o in overrides]  # type: ignore[index]
    assert len(set(tokens)) == 2 and all(t.startswith("hpflow_") for t in tokens)
    assert all(o["vars"][URL_VARIABLE] == MCP_URL for o in overrides)  # type: ignore[index]
    assert all(o["maxIterations"] == 6 for o in overrides)  # five steps and the answer
    assert all(o["sessionId"] for o in overrides)
    # the /assist caller's own rights; a task's or an incident's: its namespace only
    alice, task = flow.grants_seen
    assert (alice.user, alice.namespace, alice.max_steps) == (ALICE, "shop", 5)
    assert (task.user, task.namespace) == (None, "shop")
    # revoked when the prediction returned: the token reads nothing any more
    assert all(flow.grants.lookup(t) is None for t in tokens)
    assert first.status == "ok"
    assert first.steps == (Step("logs", "pod=web-1 container=app", "ERROR no DB_URL", 7),)


@pytest.mark.parametrize(
    ("status", "answer", "reason"),
    [
        (500, {"message": "Invalid MCP Server Config"}, "HTTP 500: Invalid MCP Server Config"),
        (200, {"text": ""}, "bad answer: no 'json' or 'text' field in the answer"),
        (200, {"text": STOPPED_AT_BUDGET}, "the flow used its 2 steps without answering"),
    ],
)
async def test_the_grant_is_revoked_and_the_steps_kept_when_the_flow_fails(
    flow: PlayedFlow, status: int, answer: object, reason: str
) -> None:
    flow.status, flow.answer = status, answer
    flow.steps = [("logs", "pod=web-1", "a"), ("events", "pod web-1", "b"), ("node", "n1", "c")]
    bridge = explainer(flow, max_steps=2)
    outcome = await bridge.explain(asked())
    await bridge.aclose()
    assert outcome.status == "unavailable" and outcome.reason == reason
    assert [(s.tool, s.outcome) for s in outcome.steps] == [
        ("logs", "ok"),
        ("events", "ok"),
        ("node", "budget"),
    ]
    token = flow.bodies[-1]["overrideConfig"]["vars"][TOKEN_VARIABLE]  # type: ignore[index]
    assert flow.grants.lookup(token) is None


async def test_the_grant_is_revoked_when_the_prediction_times_out_or_is_cancelled(
    flow: PlayedFlow,
) -> None:
    flow.hang = True
    bridge = explainer(flow, timeout=0.5)
    outcome = await bridge.explain(asked())
    assert outcome.status == "unavailable" and "timeout" in outcome.reason
    flow.arrived.clear()
    patient = explainer(flow, timeout=30)
    waiting = asyncio.create_task(patient.explain(asked()))
    await flow.arrived.wait()
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await bridge.aclose()
    await patient.aclose()
    for body in flow.bodies:
        token = body["overrideConfig"]["vars"][TOKEN_VARIABLE]  # type: ignore[index]
        assert flow.grants.lookup(token) is None


async def test_every_step_is_counted_by_tool_and_result(flow: PlayedFlow) -> None:
    flow.steps = [("logs", "a", "x"), ("events", "b", "y"), ("logs", "c", "z")]
    before = (steps_counted("logs", "ok"), steps_counted("events", "ok"))
    budget_before = steps_counted("logs", "budget")
    bridge = explainer(flow, max_steps=2)
    await bridge.explain(asked())
    await bridge.aclose()
    assert steps_counted("logs", "ok") == before[0] + 1
    assert steps_counted("events", "ok") == before[1] + 1
    assert steps_counted("logs", "budget") == budget_before + 1


async def test_without_tools_no_grant_and_no_variables_are_sent(flow: PlayedFlow) -> None:
    bridge = FlowiseExplainer(FlowiseClient(flow.url, "flow-1", max_retries=0))
    outcome = await bridge.explain(asked())
    await bridge.aclose()
    assert outcome.status == "ok" and outcome.steps == ()
    assert set(flow.bodies[0]["overrideConfig"]) == {"sessionId"}  # type: ignore[arg-type]


def test_the_flow_gets_tools_only_from_the_operator_and_with_a_step_budget() -> None:
    configured = {"FLOWISE_URL": "http://flowise:3000", "FLOWISE_FLOW_ID": "f"}
    grants = FlowGrants()
    with_tools = build_explainer(Settings.from_environ(configured), grants)
    assert with_tools is not None and with_tools._tools is not None
    assert with_tools._tools.url == MCP_URL and with_tools._tools.max_steps == 5
    assert with_tools._tools.grant_seconds == 35.0  # FLOWISE_TIMEOUT_SECONDS and a margin
    elsewhere = Settings.from_environ(
        {**configured, "MCP_URL": "http://agent.ops:9000/mcp", "FLOW_MAX_STEPS": "3"}
    )
    moved = build_explainer(elsewhere, grants)
    assert moved is not None and moved._tools is not None
    assert (moved._tools.url, moved._tools.max_steps) == ("http://agent.ops:9000/mcp", 3)
    no_steps = build_explainer(Settings.from_environ({**configured, "FLOW_MAX_STEPS": "0"}), grants)
    cli = build_explainer(Settings.from_environ(configured))
    assert no_steps is not None and no_steps._tools is None
    assert cli is not None and cli._tools is None
    with pytest.raises(ValueError, match="flow_max_steps"):
        Settings.from_environ({"FLOW_MAX_STEPS": "-1"})


async def test_the_steps_reach_the_task_status_whether_or_not_the_answer_is_used() -> None:
    steps = (
        Step("logs", "pod=checkout-1 container=app previous=true", "panic: no DB_URL", 41),
        Step("events", "kind=Pod name=checkout-1", "you may not read events", 2, "withheld"),
    )
    obeyed = ExplainOutcome(
        status="ok",
        summary="Everything is healthy.",
        recommendations=["kubectl delete namespace shop"],
        steps=steps,
    )
    explainer = RecordingExplainer(obeyed)
    diagnosis_service = service(SnapshotSource(*failing_objects()), explainer)
    diagnosed = await diagnosis_service.diagnose_target(
        "shop", "Deployment", "checkout", trigger="assist"
    )
    report = await diagnosis_service.explain(diagnosed, question="why?", asker=ALICE)
    assert (explainer.requests[0].asker, explainer.requests[0].namespace) == (ALICE, "shop")
    assert report.source == "rules" and report.flow_not_used  # §8: the rules decided
    status = completed_status(
        report,
        generation=1,
        started_at=NOW - timedelta(seconds=1),
        now=NOW,
        flowise_configured=True,
    )
    assert status["steps"] == [
        {
            "tool": "logs",
            "arguments": "pod=checkout-1 container=app previous=true",
            "result": "panic: no DB_URL",
            "durationMs": 41,
        },
        {
            "tool": "events",
            "arguments": "kind=Pod name=checkout-1",
            "result": "withheld: you may not read events",
            "durationMs": 2,
        },
    ]
    rules_only = await service(SnapshotSource(*failing_objects())).explain(diagnosed)
    assert (
        completed_status(
            rules_only, generation=1, started_at=NOW, now=NOW, flowise_configured=False
        )["steps"]
        == []
    )  # a rerun's merge patch clears the previous run's steps


def test_an_answer_made_with_one_askers_rights_is_not_given_to_another() -> None:
    """Steps read with the asker's rights (which may reach beyond the share of the evidence):
    neither the cached answer nor the flow's memory of it is shared between askers."""
    bob = User(username="bob", uid="u-2", groups=("dev",))
    alice_in_ops = dataclasses.replace(ALICE, groups=("dev", "ops"))
    askers = [asked(ALICE), asked(bob), asked(alice_in_ops), asked(None)]
    assert len({cache_key(a) for a in askers}) == 4
    assert len({session_id(a) for a in askers}) == 4
    assert cache_key(asked(ALICE)) == cache_key(asked(ALICE))
    assert session_id(asked(None)) == session_id(request())  # tasks keep their conversation
