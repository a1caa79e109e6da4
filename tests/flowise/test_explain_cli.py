"""``highpeaks-agent diagnose --explain`` against the real Flowise with the shipped flow.

The command runs as a user runs it (a subprocess, ``FLOWISE_*`` in its environment) on the
shipped example dump; the flow's model is the deterministic loopback server, so its answer is
known. The rules' report comes first and stays as it is; the flow's words follow, labelled.
"""

from __future__ import annotations

import pytest

from highpeaks_agent.render.explanation import LABEL, NO_STEPS
from tests.flowise.harness import FlowiseServer
from tests.flowise.model_server import ModelServer
from tests.support.diagnose_cli import ROOT, run_diagnose

pytestmark = pytest.mark.flowise
DUMP = str(ROOT / "examples" / "dumps" / "crashloop-bad-config")


def flowise_env(flowise: FlowiseServer, api_key: str) -> dict[str, str]:
    return {
        "FLOWISE_URL": flowise.url,
        "FLOWISE_FLOW_ID": flowise.answer_only_flow_id,
        "FLOWISE_API_KEY": api_key,
        "FLOWISE_TIMEOUT_SECONDS": "60",
        "FLOWISE_MAX_RETRIES": "0",
    }


def test_explain_prints_the_flows_answer_below_the_rules_labelled_as_generated(
    flowise: FlowiseServer, model: ModelServer
) -> None:
    rules = run_diagnose([DUMP])
    asked = len(model.requests)
    ran = run_diagnose([DUMP, "--explain"], flowise_env(flowise, flowise.api_key))
    assert ran.code == rules.code == 1, ran.err
    assert ran.err == ""  # stderr is not a terminal: no progress line
    assert len(model.requests) == asked + 1  # one question for the whole report
    assert ran.out.startswith(rules.out)  # the rules' report, unchanged, first
    explanation = ran.out[len(rules.out) :].splitlines()
    assert explanation[:2] == ["", LABEL]
    assert "  orders-api is failing because of CrashLoopBackOff.ConfigInvalid." in explanation
    assert (
        "    - Fix the cause of CrashLoopBackOff.ConfigInvalid in orders-api, then roll out again."
        in (explanation)
    )
    assert explanation[-1] == NO_STEPS  # no operator here, so no /mcp: the output says so
    document = run_diagnose(
        [DUMP, "-o", "json", "--explain"], flowise_env(flowise, flowise.api_key)
    ).json()
    assert document["explanation"]["generated"] is True
    assert document["explanation"]["rootCause"] == "CrashLoopBackOff.ConfigInvalid"
    assert document["explanation"]["steps"] == []
    assert document["diagnoses"][0]["source"] == "rules"


def test_explain_with_a_refused_key_keeps_the_rules_and_says_why_in_one_line(
    flowise: FlowiseServer,
) -> None:
    rules = run_diagnose([DUMP])
    ran = run_diagnose([DUMP, "--explain"], flowise_env(flowise, "not-the-key"))
    assert (ran.code, ran.out) == (rules.code, rules.out)
    assert ran.err.count("\n") == 1
    assert ran.err.startswith(
        "highpeaks-agent: warning: no explanation: Flowise unavailable: unauthorized"
    )


def test_explain_with_the_tool_using_flow_and_no_operator_keeps_the_rules_and_says_why(
    flowise: FlowiseServer,
) -> None:
    """The tool-using flow's MCP node connects when Flowise builds the flow: without the
    operator's /mcp there is nothing to connect to, so the answer-only flow is the CLI's."""
    rules = run_diagnose([DUMP])
    env = {**flowise_env(flowise, flowise.api_key), "FLOWISE_FLOW_ID": flowise.flow_id}
    ran = run_diagnose([DUMP, "--explain"], env)
    assert (ran.code, ran.out) == (rules.code, rules.out)
    assert ran.err.count("\n") == 1, ran.err
    assert ran.err.startswith(
        "highpeaks-agent: warning: no explanation: Flowise unavailable: HTTP 500:"
    )
    assert "Invalid MCP Server Config" in ran.err
    assert ran.err.rstrip().endswith(
        "(the flow's troubleshooting steps need the operator's /mcp; for diagnose --explain"
        " import flows/troubleshooting-answer-only.chatflow.json and set FLOWISE_FLOW_ID to it)"
    )
