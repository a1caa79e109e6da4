"""A flow grant's steps: the budget, the outcomes, the one-line redacted record."""

from __future__ import annotations

import asyncio

from highpeaks_agent.errors import ClusterUnavailable, TargetNotFound
from highpeaks_agent.flowise.grants import FlowGrants
from highpeaks_agent.mcp.access import Caller, Refused, Withheld
from highpeaks_agent.mcp.gate import FLOW_TOKEN_PREFIX
from highpeaks_agent.mcp.steps import StepRunner
from highpeaks_agent.mcp.toolbox import ToolAnswer


async def answering(text: str) -> ToolAnswer:
    return ToolAnswer(text)


async def test_a_grants_budget_refuses_the_call_past_it_and_records_that_once() -> None:
    _, grant = FlowGrants().issue(namespace="shop", user=None, max_steps=2, ttl_seconds=30)
    caller, runner = Caller(None, grant), StepRunner()
    first = await runner.run(caller, "logs", {"pod": "a"}, lambda: answering("line 1\nline 2"))
    await runner.run(caller, "events", {"kind": "Pod"}, lambda: answering("BackOff"))
    third = await runner.run(caller, "get", {"kind": "Pod"}, lambda: answering("never"))
    fourth = await runner.run(caller, "node", {"name": "n"}, lambda: answering("never"))
    assert first.outcome == "ok"
    assert third.outcome == fourth.outcome == "budget" and "step budget spent" in third.text
    steps = grant.recorded()
    assert [(s.tool, s.outcome) for s in steps] == [
        ("logs", "ok"),
        ("events", "ok"),
        ("get", "budget"),
    ]
    assert steps[0].arguments == '{"pod":"a"}' and steps[0].result == "line 1 line 2"


async def test_calls_of_one_grant_made_at_once_cannot_overrun_its_budget() -> None:
    _, grant = FlowGrants().issue(namespace="shop", user=None, max_steps=3, ttl_seconds=30)
    caller, runner = Caller(None, grant), StepRunner()

    async def slow() -> ToolAnswer:
        await asyncio.sleep(0.01)
        return ToolAnswer("ok")

    answers = await asyncio.gather(*(runner.run(caller, "logs", {}, slow) for _ in range(10)))
    assert [a.outcome for a in answers].count("ok") == 3
    assert len([s for s in grant.recorded() if s.outcome == "ok"]) == 3


async def test_failures_become_outcomes_and_secrets_stay_out_of_the_record() -> None:
    _, grant = FlowGrants().issue(namespace="shop", user=None, max_steps=9, ttl_seconds=30)
    caller, runner = Caller(None, grant), StepRunner()

    def failing(exc: Exception):  # type: ignore[no-untyped-def]
        async def call() -> ToolAnswer:
            raise exc

        return call

    cases = [
        (Withheld("withheld: may not get pods/log"), "withheld"),
        (Refused("namespace other refused"), "refused"),
        (TargetNotFound("Pod", "shop", "x"), "error"),
        (ClusterUnavailable("down"), "error"),
        (OSError("connection reset"), "error"),
        (KeyError("a bug"), "error"),
    ]
    for exc, outcome in cases:
        assert (await runner.run(caller, "logs", {}, failing(exc))).outcome == outcome
    secret = "password=hunter2hunter2"
    await runner.run(caller, "logs", {"pod": secret}, lambda: answering(f"saw {secret}"))
    last = grant.recorded()[-1]
    assert "hunter2hunter2" not in last.arguments + last.result


async def test_a_caller_without_a_grant_is_not_counted() -> None:
    answer = await StepRunner().run(Caller(None), "node", {}, lambda: answering("Ready"))
    assert answer.outcome == "ok"


def test_flow_tokens_carry_the_prefix_the_gate_knows_them_by() -> None:
    token, _ = FlowGrants().issue(namespace="shop", user=None, max_steps=1, ttl_seconds=30)
    assert token.startswith(FLOW_TOKEN_PREFIX)
