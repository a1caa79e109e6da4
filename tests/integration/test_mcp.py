"""/mcp through the official MCP SDK's own client (CONTRACT §11).

The real operator process serves /mcp against the emulated API server, which answers the
TokenReviews and SubjectAccessReviews: the tools are listed with their schemas, each answers
about a crash-looping Deployment, a token with only ``get pods`` is told the logs are withheld,
planted secrets never come out, a review that cannot be made is a 503 and a flood of made-up
tokens costs a bounded number of reviews.

Flow grants are issued inside the operator's process (the flow's bridge issues them there),
so their tests build the operator's services and HTTP app in this process, from the same
``build_services`` as ``run``, and serve them with uvicorn on loopback: the SDK client then
calls over real HTTP with a grant's token.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from kubernetes import config

from highpeaks_agent.controller.services import Services
from highpeaks_agent.http.auth import User
from highpeaks_agent.main import build_services
from highpeaks_agent.settings import Settings
from tests.support.apiserver.serve import RunningApiServer
from tests.support.controllers import SimulatedControllers
from tests.support.mcp_client import call, mcp_session
from tests.support.operator_process import OperatorProcess, free_port

pytestmark = pytest.mark.integration

SHOP, OTHER = "it-mcp-shop", "it-mcp-other"
NODE = "worker-mcp-1"
DB_PASSWORD = "pl4nted-db-pass-7f3k"
API_TOKEN = "tok-PLANTED-93jd8s"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJwbGFudGVkIn0.c2lnbmF0dXJlLXBsYW50ZWQx"
PLANTED = (DB_PASSWORD, API_TOKEN, JWT)
CRASH_LOG = (
    "2026-12-07T10:00:00Z INFO starting checkout 2.14.0\n"
    f"2026-12-07T10:00:00Z DEBUG connecting to postgres with password {DB_PASSWORD}\n"
    f"2026-12-07T10:00:01Z DEBUG upstream call Authorization: Bearer {JWT}\n"
    "panic: missing required setting PAYMENTS_API_URL\n"
)
TOOLS = {"diagnose", "logs", "events", "get", "rollout_history", "node"}


def authorizer(spec: dict[str, Any]) -> bool:
    """alice reads everything in the shop and nodes; carol may only ``get pods`` there."""
    attributes = spec.get("resourceAttributes") or {}
    namespace = attributes.get("namespace")
    if spec.get("user") == "alice":
        return namespace in (SHOP, "")
    asked = (namespace, attributes.get("verb"), attributes.get("resource"))
    return (
        spec.get("user") == "carol"
        and asked == (SHOP, "get", "pods")
        and not (attributes.get("subresource"))
    )


@pytest.fixture(scope="module")
def shop(apiserver: RunningApiServer, api: Any, operator: OperatorProcess) -> Iterator[list[str]]:
    """A Deployment rolled from 2.13.4 to 2.14.0 whose new pods crash, on a known node."""
    emulator = apiserver.emulator
    emulator.tokens["alice-token"] = {"username": "alice", "groups": ["sre"]}
    emulator.tokens["carol-token"] = {"username": "carol", "groups": ["support"]}
    emulator.tokens["erin-token"] = {"username": "erin", "groups": ["dev"]}
    previous, emulator.authorizer = emulator.authorizer, authorizer
    cluster = SimulatedControllers(api, apiserver, SHOP)
    SimulatedControllers(api, apiserver, OTHER)
    cluster.node(NODE)
    env = [
        {"name": "DB_PASSWORD", "value": DB_PASSWORD},
        {"name": "API_TOKEN", "value": API_TOKEN},
        {"name": "LOG_LEVEL", "value": "debug"},
    ]
    cluster.deployment("checkout", "registry.example.com/shop/checkout:2.13.4", env=env)
    cluster.rollout("checkout", 1, "registry.example.com/shop/checkout:2.13.4", env)
    rs = cluster.rollout("checkout", 2, "registry.example.com/shop/checkout:2.14.0", env)
    pods = [cluster.pod(rs, node=NODE) for _ in range(2)]
    for pod in pods:
        cluster.crash_loop(pod, restarts=5, log=CRASH_LOG)
    cluster.deployment_status("checkout", updated=3, available=0)
    yield pods
    emulator.authorizer = previous


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        for secret in PLANTED:
            assert secret not in text


async def test_the_tools_are_listed_with_their_schemas(
    operator: OperatorProcess, shop: list[str]
) -> None:
    async with mcp_session(operator.url, "alice-token") as session:
        listed = {tool.name: tool for tool in (await session.list_tools()).tools}
    assert set(listed) == TOOLS
    logs = listed["logs"].input_schema
    assert logs["required"] == ["pod"]
    assert logs["properties"]["tail"]["maximum"] == 500
    assert "previous" in logs["properties"]["previous"]["description"]
    assert set(listed["rollout_history"].input_schema["required"]) == {"kind", "name"}
    kinds = listed["get"].input_schema["properties"]["kind"]["enum"]
    assert "Secret" not in kinds and "Deployment" in kinds
    for tool in listed.values():
        assert tool.description
        assert tool.annotations is not None and tool.annotations.read_only_hint


async def test_each_tool_answers_about_the_failing_workload(
    operator: OperatorProcess, shop: list[str]
) -> None:
    pod = shop[0]
    async with mcp_session(operator.url, "alice-token") as session:
        diagnosis, _ = await call(
            session, "diagnose", namespace=SHOP, kind="Deployment", name="checkout"
        )
        whole, _ = await call(session, "diagnose", namespace=SHOP)
        log, log_error = await call(session, "logs", namespace=SHOP, pod=pod, previous=True)
        events, _ = await call(session, "events", namespace=SHOP, kind="Pod", name=pod)
        got, _ = await call(session, "get", namespace=SHOP, kind="Deployment", name="checkout")
        history, _ = await call(
            session, "rollout_history", namespace=SHOP, kind="Deployment", name="checkout"
        )
        node, _ = await call(session, "node", name=NODE)
        missing, missing_error = await call(session, "get", namespace=SHOP, kind="Pod", name="nope")
    assert "CrashLoopBackOff" in diagnosis and "checkout:2.14.0" in diagnosis
    assert '"withheld":[]' in diagnosis
    assert "checkout" in whole
    assert not log_error and "panic: missing required setting PAYMENTS_API_URL" in log
    assert "previous instance" in log
    assert "BackOff" in events
    assert '"name":"checkout"' in got and "managedFields" not in got
    assert "last-applied-configuration" not in got
    assert "image: registry.example.com/shop/checkout:2.13.4 -> " in history
    assert '"revision":1' in history and '"revision":2' in history
    assert '"type":"Ready"' in node and '"taints"' in node
    assert missing_error and "not found" in missing
    assert_no_secret(diagnosis, whole, log, events, got, history, node)
    assert "[REDACTED" in log and "[REDACTED" in got


async def test_a_token_with_only_get_pods_is_told_the_logs_are_withheld(
    operator: OperatorProcess, shop: list[str]
) -> None:
    async with mcp_session(operator.url, "carol-token") as session:
        log, log_error = await call(session, "logs", namespace=SHOP, pod=shop[0], previous=True)
        pod, _ = await call(session, "get", namespace=SHOP, kind="Pod", name=shop[0])
        deployment, _ = await call(
            session, "get", namespace=SHOP, kind="Deployment", name="checkout"
        )
        diagnosis, _ = await call(session, "diagnose", namespace=SHOP, kind="Pod", name=shop[0])
    assert not log_error and log.startswith("withheld:") and "pods/log" in log
    assert "PAYMENTS_API_URL" not in log
    assert f'"name":"{shop[0]}"' in pod
    assert deployment.startswith("withheld:")
    assert "container logs (get pods/log)" in diagnosis and "PAYMENTS_API_URL" not in diagnosis
    assert_no_secret(log, pod, deployment, diagnosis)


def test_without_a_valid_token_the_answer_is_401_json_and_only_post_is_served(
    operator: OperatorProcess, shop: list[str]
) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    for headers in ({}, {"Authorization": "Bearer forged"}, {"Authorization": "Bearer hpflow_x"}):
        response = httpx.post(f"{operator.url}/mcp", json=body, headers=headers, timeout=30)
        assert response.status_code == 401
        assert response.json()["error"] == "Unauthorized"
        assert response.headers["www-authenticate"] == "Bearer"
    # stateless: no stream to open, no session to end
    for method in ("GET", "DELETE"):
        refused = httpx.request(method, f"{operator.url}/mcp", timeout=30)
        assert refused.status_code == 405 and refused.json()["error"] == "MethodNotAllowed"


async def test_an_access_review_that_cannot_be_made_is_an_error_result_that_says_so(
    apiserver: RunningApiServer, operator: OperatorProcess, shop: list[str]
) -> None:
    async with mcp_session(operator.url, "alice-token") as session:  # reviewed before the failure
        apiserver.emulator.review_failure = 500
        try:
            answer, is_error = await call(session, "node", name="worker-not-reviewed-yet")
        finally:
            apiserver.emulator.review_failure = None
        again, again_error = await call(session, "node", name=NODE)
    assert is_error and "SubjectAccessReview could not be made" in answer
    assert not again_error and '"type":"Ready"' in again


@pytest.fixture(scope="module")
def guarded(
    apiserver: RunningApiServer, kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OperatorProcess]:
    """An operator of its own (its own caches and rates), watching a namespace nobody uses."""
    process = OperatorProcess(
        kubeconfig,
        tmp_path_factory.mktemp("guarded") / "operator.log",
        {
            "WATCH_NAMESPACES": "it-mcp-unused",
            "ASSIST_UNAUTHENTICATED_RATE_LIMIT_PER_MINUTE": "20",
        },
    )
    process.start()
    yield process
    process.stop()


def test_a_review_that_cannot_be_made_is_a_json_503(
    apiserver: RunningApiServer, guarded: OperatorProcess, shop: list[str]
) -> None:
    initialize = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "test", "version": "1"},
        },
    }
    headers = {
        "Authorization": "Bearer erin-token",
        "Accept": "application/json, text/event-stream",
    }
    apiserver.emulator.review_failure = 500
    try:
        response = httpx.post(f"{guarded.url}/mcp", json=initialize, headers=headers, timeout=30)
    finally:
        apiserver.emulator.review_failure = None
    assert response.status_code == 503
    assert response.json()["error"] == "ReviewUnavailable"
    again = httpx.post(f"{guarded.url}/mcp", json=initialize, headers=headers, timeout=30)
    assert again.status_code == 200 and again.json()["result"]["serverInfo"]["name"]


async def test_a_flood_of_made_up_tokens_costs_a_bounded_number_of_reviews(
    apiserver: RunningApiServer, guarded: OperatorProcess
) -> None:
    reviews_before = len(apiserver.emulator.reviews)
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    async with httpx.AsyncClient(base_url=guarded.url, timeout=30) as agent:

        async def made_up(i: int) -> int:
            headers = {"Authorization": f"Bearer made-up-{i}"}
            return (await agent.post("/mcp", json=body, headers=headers)).status_code

        statuses: list[int] = []
        health: list[int] = []
        for start in range(0, 300, 50):
            health.append((await agent.get("/health")).status_code)
            statuses.extend(await asyncio.gather(*map(made_up, range(start, start + 50))))
    token_reviews = apiserver.emulator.reviews[reviews_before:].count("TokenReview")
    assert token_reviews <= 20  # ASSIST_UNAUTHENTICATED_RATE_LIMIT_PER_MINUTE, over 300 tries
    assert set(statuses) == {401, 429} and statuses.count(429) >= 280
    assert health == [200] * 6


@pytest.fixture(scope="module")
def open_door(
    kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OperatorProcess]:
    """An operator with ``AUTH_MODE=none`` (a laptop cluster behind a port-forward)."""
    process = OperatorProcess(
        kubeconfig,
        tmp_path_factory.mktemp("open") / "operator.log",
        {"WATCH_NAMESPACES": "it-mcp-unused", "AUTH_MODE": "none"},
    )
    process.start()
    yield process
    process.stop()


async def test_with_auth_mode_none_anyone_reads_as_the_operator(
    apiserver: RunningApiServer, open_door: OperatorProcess, shop: list[str]
) -> None:
    reviews_before = len(apiserver.emulator.reviews)
    async with mcp_session(open_door.url, None) as session:
        log, _ = await call(session, "logs", namespace=SHOP, pod=shop[0], previous=True)
        node, _ = await call(session, "node", name=NODE)
    assert "panic: missing required setting PAYMENTS_API_URL" in log
    assert '"type":"Ready"' in node
    assert_no_secret(log, node)
    assert len(apiserver.emulator.reviews) == reviews_before  # nobody is reviewed


def test_an_operator_that_served_mcp_stops_at_once_and_cleanly(
    kubeconfig: Path, shop: list[str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """/mcp's session manager starts with the first request, while Kopf runs; stopping must
    not leave it to Kopf, which waits 5 s for such tasks and then cancels them."""
    process = OperatorProcess(
        kubeconfig,
        tmp_path_factory.mktemp("stopping") / "operator.log",
        {"WATCH_NAMESPACES": "it-mcp-unused", "AUTH_MODE": "none"},
    )
    process.start()
    try:

        async def one_call() -> str:
            async with mcp_session(process.url, None) as session:
                return (await call(session, "node", name=NODE))[0]

        assert '"type":"Ready"' in asyncio.run(one_call())
    finally:
        status = process.stop()
    logs = process.logs()
    assert status == 0, logs
    # Kopf's cancelling of a task it found still running shows as uvicorn's traceback
    assert "Traceback" not in logs and "Hung" not in logs, logs


# --- flow grants: the operator's services and HTTP app, served in this process -----------


@pytest.fixture(scope="module")
def in_process(kubeconfig: Path, shop: list[str]) -> Iterator[tuple[str, Services]]:
    settings = Settings(watch_namespaces=["it-mcp-unused"], assist_default_namespace="default")
    services, app = build_services(settings, config.new_client_from_config(str(kubeconfig)))
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="on", log_config=None)
    )
    thread = threading.Thread(target=server.run, name="in-process-operator-http", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the in-process HTTP server did not start"
    yield url, services
    server.should_exit = True
    thread.join(timeout=30)


async def test_a_task_grant_reads_its_namespace_only(
    in_process: tuple[str, Services], shop: list[str]
) -> None:
    url, services = in_process
    token, grant = services.grants.issue(namespace=SHOP, user=None, max_steps=6, ttl_seconds=60)
    async with mcp_session(url, token) as session:
        log, _ = await call(session, "logs", pod=shop[0], previous=True)  # its namespace
        other, other_error = await call(session, "diagnose", namespace=OTHER)
        elsewhere, _ = await call(session, "get", namespace=OTHER, kind="Pod", name=shop[0])
        node, _ = await call(session, "node", name=NODE)  # runs the shop's pods
        foreign, _ = await call(session, "node", name="worker-of-someone-else")
    assert "panic: missing required setting PAYMENTS_API_URL" in log
    assert not other_error and "refused" in other and f"namespace {SHOP} only" in other
    assert "refused" in elsewhere
    assert '"type":"Ready"' in node
    assert "refused" in foreign or "only nodes that run pods" in foreign
    outcomes = [step.outcome for step in grant.recorded()]
    assert outcomes == ["ok", "refused", "refused", "ok", "refused"]
    assert_no_secret(log, *(f"{s.arguments} {s.result}" for s in grant.recorded()))


async def test_the_step_budget_is_enforced_and_every_step_recorded(
    in_process: tuple[str, Services], shop: list[str]
) -> None:
    url, services = in_process
    token, grant = services.grants.issue(namespace=SHOP, user=None, max_steps=2, ttl_seconds=60)
    async with mcp_session(url, token) as session:
        await call(session, "logs", pod=shop[0], previous=True)
        await call(session, "events", kind="Pod", name=shop[0])
        third, _ = await call(session, "get", kind="Deployment", name="checkout")
        fourth, _ = await call(session, "node", name=NODE)
    assert "step budget spent" in third and "step budget spent" in fourth
    steps = grant.recorded()
    assert [(s.tool, s.outcome) for s in steps] == [
        ("logs", "ok"),
        ("events", "ok"),
        ("get", "budget"),
    ]
    for step in steps:
        assert "\n" not in step.arguments + step.result
        assert len(step.arguments) <= 200 and len(step.result) <= 200
        assert step.duration_ms >= 0
    assert f'"pod":"{shop[0]}"' in steps[0].arguments and "log of" in steps[0].result
    assert_no_secret(*(f"{s.arguments} {s.result}" for s in steps))
    services.grants.revoke(token)
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    async with httpx.AsyncClient(timeout=30) as plain:
        revoked = await plain.post(
            f"{url}/mcp", json=body, headers={"Authorization": f"Bearer {token}"}
        )
    assert revoked.status_code == 401


async def test_an_assist_callers_grant_carries_their_own_rights(
    in_process: tuple[str, Services], shop: list[str]
) -> None:
    url, services = in_process
    carol = User("carol", groups=("support",))
    token, grant = services.grants.issue(namespace=SHOP, user=carol, max_steps=5, ttl_seconds=60)
    async with mcp_session(url, token) as session:
        log, _ = await call(session, "logs", pod=shop[0], previous=True)
        pod, _ = await call(session, "get", kind="Pod", name=shop[0])
    assert log.startswith("withheld:") and "PAYMENTS_API_URL" not in log
    assert f'"name":"{shop[0]}"' in pod
    assert [s.outcome for s in grant.recorded()] == ["withheld", "ok"]
