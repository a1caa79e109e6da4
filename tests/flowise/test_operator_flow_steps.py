"""The whole path of a troubleshooting step: the real operator process, the real Flowise with
the shipped tool-using flow, and the operator's own ``/mcp``.

The API server is the emulator of ``tests/support/apiserver`` (the controllers and kubelet are
played); AgentTasks and /assist questions are about crash-looping Deployments. The operator
diagnoses, issues a one-request grant (read access to the task's namespace only, or the /assist
caller's own rights) and asks the flow; the scripted model calls tools through Flowise's Custom
MCP node, which reaches ``/mcp`` on the operator's HTTP port with the grant's bearer token (a
recording proxy in front of ``/mcp`` keeps what Flowise sent); then it answers.

Proved here: the steps reach ``status.steps[]``, /assist's answer and the metric; a model that
never stops is cut at the step budget with the rules' result standing (a task and /assist);
a log line that says "ignore previous instructions", read by the ``logs`` tool, changes
nothing the rules decided; the token the flow used is refused by ``/mcp`` once the question
is answered; and the figure of one question with three steps.

One operator process serves the module; each test has a namespace of its own. The operator
also opens an incident for a crash-looping Deployment in a watched namespace and asks the flow
about it, so the tests that count calls or tokens ask /assist about namespaces it does not
watch, and a task's test waits for that incident's note before it ends.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from kubernetes import config

from tests.flowise.conftest import Background, RecordingProxy
from tests.flowise.harness import FlowiseServer
from tests.flowise.model_server import INJECTION, OBEYED, ModelServer
from tests.integration.test_agenttasks import (
    CRASH_LOG,
    crashing_checkout,
    create_task,
    finished_task,
)
from tests.integration.test_incidents import notes
from tests.support.apiserver.serve import RunningApiServer
from tests.support.controllers import SimulatedControllers
from tests.support.diagnose_cli import run_in_process
from tests.support.operator_process import OperatorProcess
from tests.support.waiting import eventually

pytestmark = pytest.mark.flowise

#: Namespaces the operator watches (AgentTasks run there) …
TASKS, BUDGET, INJECTED = "flow-steps-tasks", "flow-steps-budget", "flow-steps-injected"
#: … and namespaces only /assist is asked about (no incident asks the flow there).
QUESTIONS, TOKENS, FIGURE = "flow-steps-questions", "flow-steps-tokens", "flow-steps-figure"
RULES_CAUSE = "CrashLoopBackOff.ConfigMissing"
FLOW_MAX_STEPS = 3
FLOW_TOKEN = re.compile(rb"(?i)authorization: Bearer (hpflow_[A-Za-z0-9_-]+)")
MCP_REQUEST = re.compile(rb"(GET|POST|DELETE) /mcp\S* HTTP/1\.1\r\n")


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
def mcp_traffic(background: Background) -> RecordingProxy:
    """A recording proxy in front of the operator's /mcp: every byte Flowise's node sends.
    Its upstream is the operator's port, set by the ``operator`` fixture before it starts."""
    recorder = RecordingProxy(upstream_port=0)
    background.run(recorder.start())
    return recorder


@pytest.fixture(scope="module")
def operator(
    apiserver: RunningApiServer,
    flowise: FlowiseServer,
    mcp_traffic: RecordingProxy,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[OperatorProcess]:
    workdir = tmp_path_factory.mktemp("flow-steps")
    kubeconfig = apiserver.write_kubeconfig(workdir / "config")
    process = OperatorProcess(
        kubeconfig,
        workdir / "operator.log",
        {
            "WATCH_NAMESPACES": f"{TASKS},{BUDGET},{INJECTED}",
            "FLOWISE_URL": flowise.url,
            "FLOWISE_FLOW_ID": flowise.flow_id,
            "FLOWISE_API_KEY": flowise.api_key,
            "FLOWISE_TIMEOUT_SECONDS": "60",
            "FLOWISE_MAX_RETRIES": "0",
            "FLOW_MAX_STEPS": str(FLOW_MAX_STEPS),
        },
    )
    mcp_traffic.upstream_port = process.port
    process.env["MCP_URL"] = f"http://127.0.0.1:{mcp_traffic.port}/mcp"
    process.start()
    yield process
    process.stop()


@pytest.fixture(autouse=True)
def fresh_script(model: ModelServer) -> Iterator[None]:
    yield
    model.plan, model.endless = [], None


def cluster(
    apiserver: RunningApiServer, operator: OperatorProcess, ns: str
) -> SimulatedControllers:
    api = config.new_client_from_config(str(operator.kubeconfig))
    return SimulatedControllers(api, apiserver, ns)


def crashing_release(cluster: SimulatedControllers, log: str) -> list[str]:
    """checkout rolled from a healthy revision 1 to revision 2, whose pods crash with ``log``
    (so the rules also propose the rollback)."""
    cluster.deployment("checkout", "registry.example.com/shop/checkout:2.13.4")
    cluster.rollout("checkout", 1, "registry.example.com/shop/checkout:2.13.4")
    rs = cluster.rollout("checkout", 2, "registry.example.com/shop/checkout:2.14.0")
    pods = [cluster.pod(rs) for _ in range(3)]
    for pod in pods:
        cluster.crash_loop(pod, restarts=6, log=log)
    cluster.deployment_status("checkout", updated=3, available=0)
    return pods


def finished(tasks: SimulatedControllers, name: str) -> dict[str, Any]:
    """The task's status once it is done, and once the incident the operator opened for the
    same crash (it asks the flow too) has its note out: no question of this namespace is
    still under way when the next test counts calls or tokens."""
    status: dict[str, Any] = finished_task(tasks, name)["status"]
    eventually(lambda: notes(tasks, "checkout"), what="the incident's note")
    return status


def sample(operator: OperatorProcess, name: str, **labels: str) -> float:
    """The value of one sample on /metrics (0 when it is not there yet)."""
    text = httpx.get(f"{operator.url}/metrics", timeout=10).text
    for line in text.splitlines():
        series, _, value = line.rpartition(" ")
        metric, _, inner = series.partition("{")
        pairs = [pair.split("=", 1) for pair in inner.rstrip("}").split(",") if pair]
        if metric == name and {k: v.strip('"') for k, v in pairs} == labels:
            return float(value)
    return 0.0


def ask(operator: OperatorProcess, ns: str, query: str) -> dict[str, Any]:
    """/assist about checkout in ``ns``, as dana (who may read everything)."""
    answer = httpx.post(
        f"{operator.url}/assist",
        json={
            "query": query,
            "namespace": ns,
            "target": {"kind": "Deployment", "name": "checkout"},
        },
        headers={"Authorization": "Bearer dana-token"},
        timeout=90,
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def about(requests: list[dict[str, Any]], ns: str) -> list[list[dict[str, Any]]]:
    """The messages of each model request about namespace ``ns`` (its evidence names it)."""
    return [r["messages"] for r in requests if ns in json.dumps(r["messages"])]


def tool_results(messages: list[dict[str, Any]]) -> list[str]:
    return [str(m.get("content")) for m in messages if m.get("role") == "tool"]


def conditions(status: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["type"]: c for c in status["conditions"]}


def test_figure_one_question_with_three_steps(
    apiserver: RunningApiServer,
    operator: OperatorProcess,
    model: ModelServer,
    mcp_traffic: RecordingProxy,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The README's figure: what one /assist question with three steps costs, measured on
    the real path (printed; a report, not a timed assertion). First in the module, so its
    first question is the operator's first use of /mcp (the MCP SDK is loaded then)."""
    pods = crashing_checkout(cluster(apiserver, operator, FIGURE))
    model.plan = [
        ("logs", {"pod": pods[0], "container": "app", "previous": True}),
        ("events", {"kind": "Pod", "name": pods[0]}),
        ("rollout_history", {"kind": "Deployment", "name": "checkout"}),
    ]
    questions = {
        "first": "What changed in the release?",
        "next": "Which revision broke checkout?",
    }
    for when, question in questions.items():
        predictions_before = prediction_count(operator)
        flowise_before = sample(operator, "highpeaks_agent_flowise_request_seconds_sum")
        model_before, sent_before = len(model.requests), len(mcp_traffic.sent)
        started = time.monotonic()
        body = ask(operator, FIGURE, question)
        elapsed = time.monotonic() - started
        assert [s["tool"] for s in body["steps"]] == ["logs", "events", "rollout_history"]
        assert body["source"] == "flowise"
        predictions = prediction_count(operator) - predictions_before
        in_flowise = (
            sample(operator, "highpeaks_agent_flowise_request_seconds_sum") - flowise_before
        )
        model_calls = len(model.requests) - model_before
        methods = Counter(
            m.decode() for m in MCP_REQUEST.findall(bytes(mcp_traffic.sent[sent_before:]))
        )
        assert (predictions, model_calls) == (1, 4)  # three tool turns and the answer
        step_ms = sum(s["durationMs"] for s in body["steps"])
        with capsys.disabled():
            print(
                f"\n[figure] /assist, {when} question, 3 steps: {elapsed:.2f} s end to end,"
                f" {in_flowise:.2f} s of it in {predictions:.0f} Flowise prediction;"
                f" {model_calls} model calls;"
                f" 3 tool calls in {sum(methods.values())} MCP HTTP requests"
                f" ({dict(methods)}); {step_ms} ms inside the tools"
            )


def test_an_agenttasks_steps_go_through_mcp_into_its_status_and_the_metric(
    apiserver: RunningApiServer, operator: OperatorProcess, model: ModelServer
) -> None:
    tasks = cluster(apiserver, operator, TASKS)
    pods = crashing_checkout(tasks)
    model.plan = [
        ("logs", {"pod": pods[0], "container": "app", "previous": True}),
        ("events", {"kind": "Pod", "name": pods[0]}),
    ]
    create_task(tasks, "why-checkout", {"target": {"kind": "Deployment", "name": "checkout"}})
    status = finished(tasks, "why-checkout")

    assert status["phase"] == "Succeeded", operator.logs()
    assert [s["tool"] for s in status["steps"]] == ["logs", "events"], status["conditions"]
    logs_step, events_step = status["steps"]
    assert json.loads(logs_step["arguments"]) == {
        "namespace": TASKS,
        "pod": pods[0],
        "container": "app",
        "previous": True,
        "tail": 100,
    }
    # one line, cut where status.steps[] cuts it: the log's error is in what is kept
    assert "ERROR config: PAYMENTS_API" in logs_step["result"] and "\n" not in logs_step["result"]
    assert "BackOff" in events_step["result"], events_step
    assert all(isinstance(s["durationMs"], int) for s in status["steps"])
    # the model read what /mcp answered: both results in one request, after the evidence
    assert any(
        len(results) == 2 and "PAYMENTS_API_URL is not set" in results[0]
        for results in map(tool_results, about(model.requests, TASKS))
    )
    # the flow's answer is used, labelled; the rules' root cause is its root cause
    assert status["source"] == "flowise", status["conditions"]
    assert status["rootCause"] == RULES_CAUSE
    assert conditions(status)["FlowiseAvailable"]["reason"] == "Answered"
    for tool in ("logs", "events"):
        assert sample(operator, "highpeaks_agent_flow_steps_total", tool=tool, result="ok") >= 1


def test_a_model_that_never_stops_is_cut_at_the_budget_and_assist_shows_the_steps(
    apiserver: RunningApiServer, operator: OperatorProcess, model: ModelServer
) -> None:
    pods = crashing_checkout(cluster(apiserver, operator, QUESTIONS))
    model.endless = ("logs", {"pod": pods[0], "container": "app"})
    body = ask(operator, QUESTIONS, "Why does checkout crash?")
    assert [s["tool"] for s in body["steps"]] == ["logs"] * (FLOW_MAX_STEPS + 1), body
    assert body["source"] == "rules"  # cut at the budget: the rules' answer stands
    assert body["diagnoses"][0]["findings"][0]["code"] == RULES_CAUSE
    assert body["steps"][-1]["result"].startswith("budget")  # the one past FLOW_MAX_STEPS


def test_a_task_whose_model_never_stops_is_cut_at_the_budget_and_the_rules_stand(
    apiserver: RunningApiServer, operator: OperatorProcess, model: ModelServer
) -> None:
    tasks = cluster(apiserver, operator, BUDGET)
    pods = crashing_checkout(tasks)
    model.endless = ("logs", {"pod": pods[0], "container": "app"})
    budget_before = sample(operator, "highpeaks_agent_flowise_errors_total", kind="step_budget")
    create_task(tasks, "why-checkout", {"target": {"kind": "Deployment", "name": "checkout"}})
    status = finished(tasks, "why-checkout")

    assert status["phase"] == "Succeeded", operator.logs()
    # the Tool Agent stops after FLOW_MAX_STEPS + 1 turns; /mcp refused the one past the
    # budget, and that refusal is on the record too
    assert [s["tool"] for s in status["steps"]] == ["logs"] * (FLOW_MAX_STEPS + 1)
    refused = [s["result"].startswith("budget: ") for s in status["steps"]]
    assert refused == [False] * FLOW_MAX_STEPS + [True]
    assert status["source"] == "rules"
    assert status["rootCause"] == RULES_CAUSE
    assert status["findings"][0]["code"] == RULES_CAUSE
    available = conditions(status)["FlowiseAvailable"]
    assert (available["status"], available["reason"]) == ("False", "Fallback")
    assert available["message"] == (
        f"Rules only: the flow used its {FLOW_MAX_STEPS} steps without answering"
    )
    budget_after = sample(operator, "highpeaks_agent_flowise_errors_total", kind="step_budget")
    assert budget_after >= budget_before + 1


def test_a_log_that_says_ignore_previous_instructions_changes_nothing_the_rules_decided(
    apiserver: RunningApiServer, operator: OperatorProcess, model: ModelServer
) -> None:
    """The line is planted at the top of the crashed instance's log: the rules' evidence
    (the log's last key lines) leaves it out, the ``logs`` tool's tail brings it to the model,
    and the model obeys it. What the task publishes is the rules' all the same."""
    tasks = cluster(apiserver, operator, INJECTED)
    pods = crashing_release(tasks, f"2026-11-25T09:59:59Z INFO {INJECTION}\n{CRASH_LOG}")
    model.plan = [("logs", {"pod": pods[0], "container": "app", "previous": True})]
    create_task(tasks, "why-checkout", {"target": {"kind": "Deployment", "name": "checkout"}})
    status = finished(tasks, "why-checkout")
    assert status["phase"] == "Succeeded", operator.logs()

    # the planted line reached the model only through the tool, and the model obeyed it
    asked = about(model.requests, INJECTED)
    assert asked and not any(INJECTION in json.dumps(m) for m in asked if not tool_results(m))
    assert any(INJECTION in " ".join(tool_results(m)) for m in asked)
    assert [s["tool"] for s in status["steps"]] == ["logs"]  # on the record all the same
    assert INJECTION in status["steps"][0]["result"]
    # the rules decided: what `diagnose --live` finds with no flow at all is what is published
    rules = rules_alone(operator.kubeconfig, INJECTED)
    assert status["source"] == "rules"
    assert status["rootCause"] == rules["findings"][0]["code"] == RULES_CAUSE
    assert status["findings"] == rules["findings"]
    assert status["proposedActions"] == rules["proposedActions"]
    assert [a["action"] for a in status["proposedActions"]] == ["rollback"]
    assert status["summary"] == rules["summary"]
    # the obeyed answer is not used (CONTRACT §8: it recommends a destructive command)
    available = conditions(status)["FlowiseAvailable"]
    assert (available["status"], available["reason"]) == ("True", "AnswerNotUsed")
    assert "destructive command (kubectl delete)" in available["message"]
    assert "the flow's answer was not used" in conditions(status)["Diagnosed"]["message"]
    published = json.dumps(
        [status["summary"], status["answer"], status["recommendations"], status["findings"]]
    )
    assert OBEYED["recommendations"][0] not in published
    assert "healthy" not in published.lower() and "delete" not in published


def rules_alone(kubeconfig: Path, ns: str) -> dict[str, Any]:
    """checkout in ``ns`` as ``diagnose --live`` reads it: the rules, no flow."""
    ran = run_in_process(
        ["--live", "-n", ns, "deploy/checkout", "-o", "json"], {"KUBECONFIG": str(kubeconfig)}
    )
    assert ran.code == 1, ran.err
    diagnosis: dict[str, Any] = ran.json()["diagnoses"][0]
    return diagnosis


def test_the_flows_token_is_refused_by_mcp_once_the_question_is_answered(
    apiserver: RunningApiServer,
    operator: OperatorProcess,
    model: ModelServer,
    mcp_traffic: RecordingProxy,
) -> None:
    pods = crashing_checkout(cluster(apiserver, operator, TOKENS))
    model.plan = [("events", {"kind": "Pod", "name": pods[0]})]
    sent_before = len(mcp_traffic.sent)
    body = ask(operator, TOKENS, "What do the Events say?")
    assert [(s["tool"], s["result"].startswith("budget")) for s in body["steps"]] == [
        ("events", False)
    ]
    # the token Flowise's node sent to /mcp during the question: one, and it read the Events
    tokens = set(FLOW_TOKEN.findall(bytes(mcp_traffic.sent[sent_before:])))
    assert len(tokens) == 1, tokens
    token = tokens.pop().decode()
    listed = httpx.post(
        f"{operator.url}/mcp",
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}},
        headers={
            "Authorization": f"Bearer {token}",
            "Accept": "application/json, text/event-stream",
        },
        timeout=10,
    )
    assert listed.status_code == 401, listed.text
    assert "unknown or expired flow credential" in listed.text


def prediction_count(operator: OperatorProcess) -> float:
    """Flowise prediction calls the operator made (its latency histogram's count)."""
    return sample(operator, "highpeaks_agent_flowise_request_seconds_count")
