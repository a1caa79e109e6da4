"""The whole path of a troubleshooting step: the real operator process, the real Flowise with
the shipped tool-using flow, and the operator's own ``/mcp``.

An AgentTask asks about a crash-looping Deployment (the API server is the emulator of
``tests/support/apiserver``, the controllers and kubelet are played). The operator diagnoses,
issues a one-request grant (read access to the task's namespace only) and asks the flow;
the scripted model calls ``logs`` and then ``events`` through Flowise's Custom MCP node,
which reaches ``/mcp`` on the operator's HTTP port with the grant's bearer token; then it
answers. The steps reach ``status.steps[]`` and /assist's answer, and the metric counts them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from kubernetes import config

from tests.flowise.harness import FlowiseServer
from tests.flowise.model_server import ModelServer
from tests.integration.test_agenttasks import crashing_checkout, create_task, finished_task
from tests.support.apiserver.serve import RunningApiServer
from tests.support.controllers import SimulatedControllers
from tests.support.operator_process import OperatorProcess

pytestmark = pytest.mark.flowise

TASKS, QUESTIONS = "flow-steps-tasks", "flow-steps-questions"


@pytest.fixture(scope="module")
def apiserver() -> Iterator[RunningApiServer]:
    server = RunningApiServer()
    server.start()
    emulator = server.emulator
    emulator.tokens["dana-token"] = {"username": "dana", "groups": ["sre"]}
    previous = emulator.authorizer
    emulator.authorizer = lambda spec: spec.get("user") == "dana" or previous(spec)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def operator(
    apiserver: RunningApiServer, flowise: FlowiseServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OperatorProcess]:
    workdir = tmp_path_factory.mktemp("flow-steps")
    kubeconfig = apiserver.write_kubeconfig(workdir / "config")
    process = OperatorProcess(
        kubeconfig,
        workdir / "operator.log",
        {
            "WATCH_NAMESPACES": f"{TASKS},{QUESTIONS}",
            "FLOWISE_URL": flowise.url,
            "FLOWISE_FLOW_ID": flowise.flow_id,
            "FLOWISE_API_KEY": flowise.api_key,
            "FLOWISE_TIMEOUT_SECONDS": "60",
            "FLOWISE_MAX_RETRIES": "0",
            "FLOW_MAX_STEPS": "3",
        },
    )
    process.env["MCP_URL"] = f"{process.url}/mcp"
    process.start()
    yield process
    process.stop()


def cluster(
    apiserver: RunningApiServer, operator: OperatorProcess, ns: str
) -> SimulatedControllers:
    api = config.new_client_from_config(str(operator.kubeconfig))
    return SimulatedControllers(api, apiserver, ns)


def steps_counted(operator: OperatorProcess) -> dict[tuple[str, str], float]:
    text = httpx.get(f"{operator.url}/metrics", timeout=10).text
    counted: dict[tuple[str, str], float] = {}
    for line in text.splitlines():
        if line.startswith("highpeaks_agent_flow_steps_total{"):
            labels, value = line.rsplit(" ", 1)
            pairs = dict(p.split("=", 1) for p in labels[labels.index("{") + 1 : -1].split(","))
            key = (pairs["tool"].strip('"'), pairs["result"].strip('"'))
            counted[key] = float(value)
    return counted


def test_an_agenttasks_steps_go_through_mcp_into_its_status_and_the_metric(
    apiserver: RunningApiServer, operator: OperatorProcess, model: ModelServer
) -> None:
    tasks = cluster(apiserver, operator, TASKS)
    pods = crashing_checkout(tasks)
    model.plan = [
        ("logs", {"pod": pods[0], "container": "app", "previous": True}),
        ("events", {"kind": "Pod", "name": pods[0]}),
    ]
    try:
        create_task(tasks, "why-checkout", {"target": {"kind": "Deployment", "name": "checkout"}})
        task = finished_task(tasks, "why-checkout")
    finally:
        model.plan = []
    status: dict[str, Any] = task["status"]
    assert status["phase"] == "Succeeded", operator.logs()
    assert [s["tool"] for s in status["steps"]] == ["logs", "events"], status["conditions"]
    logs_step = status["steps"][0]
    assert pods[0] in logs_step["arguments"]
    # one line, cut where status.steps[] cuts it: the log's error is in what is kept
    assert "ERROR config: PAYMENTS_API" in logs_step["result"] and "\n" not in logs_step["result"]
    assert all(isinstance(s["durationMs"], int) for s in status["steps"])
    assert status["rootCause"] == "CrashLoopBackOff.ConfigMissing"
    counted = steps_counted(operator)
    assert counted.get(("logs", "ok"), 0) >= 1 and counted.get(("events", "ok"), 0) >= 1


def test_a_model_that_never_stops_is_cut_at_the_budget_and_assist_shows_the_steps(
    apiserver: RunningApiServer, operator: OperatorProcess, model: ModelServer
) -> None:
    pods = crashing_checkout(cluster(apiserver, operator, QUESTIONS))
    model.endless = ("logs", {"pod": pods[0], "container": "app"})
    try:
        answer = httpx.post(
            f"{operator.url}/assist",
            json={
                "query": "Why does checkout crash?",
                "namespace": QUESTIONS,
                "target": {"kind": "Deployment", "name": "checkout"},
            },
            headers={"Authorization": "Bearer dana-token"},
            timeout=90,
        )
    finally:
        model.endless = None
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [s["tool"] for s in body["steps"]] == ["logs"] * 4, body
    assert body["source"] == "rules"  # cut at the budget: the rules' answer stands
    assert body["diagnoses"][0]["findings"][0]["code"] == "CrashLoopBackOff.ConfigMissing"
    assert body["steps"][-1]["result"].startswith("budget")  # the one past FLOW_MAX_STEPS
