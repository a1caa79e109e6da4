"""/health, /ready, /assist and /metrics served by the real operator process.

The emulated API server answers the TokenReviews and SubjectAccessReviews, and serves the
objects /assist diagnoses.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.apiserver.serve import RunningApiServer
from tests.support.controllers import SimulatedControllers
from tests.support.operator_process import OperatorProcess

from .conftest import eventually
from .test_agenttasks import CRASH_LOG, failed_job

pytestmark = pytest.mark.integration

GRANTS = {("alice", "it-http-shop"), ("alice", "default")}
#: carol may only ``get pods`` in the shop: no logs, no Deployments, no events
RESOURCE_GRANTS = {("carol", "it-http-shop", "get", "pods", "")}
#: a line only a reader of pods/log sees
LOG_ONLY_LINE = "panic: missing required setting PAYMENTS_API_URL"


def authorizer(spec: dict[str, Any]) -> bool:
    attributes = spec.get("resourceAttributes") or {}
    namespace = attributes.get("namespace")
    asked = (
        spec.get("user"),
        namespace,
        attributes.get("verb"),
        attributes.get("resource"),
        attributes.get("subresource", ""),
    )
    return (spec.get("user"), namespace) in GRANTS or asked in RESOURCE_GRANTS


@pytest.fixture(scope="module")
def shop(apiserver: RunningApiServer, api: Any, operator: OperatorProcess) -> SimulatedControllers:
    apiserver.emulator.tokens["alice-token"] = {"username": "alice", "groups": ["sre"]}
    apiserver.emulator.tokens["bob-token"] = {"username": "bob", "groups": ["dev"]}
    apiserver.emulator.tokens["carol-token"] = {"username": "carol", "groups": ["support"]}
    apiserver.emulator.authorizer = authorizer
    cluster = SimulatedControllers(api, apiserver, "it-http-shop")
    cluster.deployment("checkout", "registry.example.com/shop/checkout:2.14.0")
    rs = cluster.rollout("checkout", 1, "registry.example.com/shop/checkout:2.14.0")
    cluster.pods = [cluster.pod(rs) for _ in range(2)]  # type: ignore[attr-defined]
    for pod in cluster.pods:  # type: ignore[attr-defined]
        cluster.crash_loop(pod, restarts=5, log=CRASH_LOG)
    return cluster


def ask(operator: OperatorProcess, body: Any, token: str | None = "alice-token") -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(f"{operator.url}/assist", json=body, headers=headers, timeout=30)


def test_health_ready_and_metrics(operator: OperatorProcess) -> None:
    assert httpx.get(f"{operator.url}/health").json() == {"status": "ok"}
    assert httpx.get(f"{operator.url}/ready").json() == {"status": "ready"}
    metrics = httpx.get(f"{operator.url}/metrics").text
    assert "highpeaks_agent_diagnoses_total" in metrics
    assert httpx.get(f"{operator.url}/docs").status_code == 200


def test_assist_about_a_target(operator: OperatorProcess, shop: SimulatedControllers) -> None:
    response = ask(
        operator,
        {
            "query": "why is checkout down?",
            "namespace": shop.ns,
            "target": {"kind": "Deployment", "name": "checkout"},
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["source"] == "rules"
    assert body["diagnoses"][0]["findings"][0]["code"] == "CrashLoopBackOff.ConfigMissing"
    assert "checkout" in body["answer"]


def test_assist_about_a_cronjob(operator: OperatorProcess, shop: SimulatedControllers) -> None:
    nightly = shop.cronjob("nightly", "registry.example.com/shop/report:3.1.0")
    failed_job(shop, "nightly-29001", cronjob=nightly)
    response = ask(
        operator,
        {
            "query": "why did last night's export fail?",
            "namespace": shop.ns,
            "target": {"kind": "CronJob", "name": "nightly"},
        },
    )
    assert response.status_code == 200, response.text
    diagnosis = response.json()["diagnoses"][0]
    assert diagnosis["target"] == {"kind": "CronJob", "namespace": shop.ns, "name": "nightly"}
    assert [f["code"] for f in diagnosis["findings"][:2]] == [
        "CrashLoopBackOff.DatabaseSchema",
        "JobFailed.BackoffLimitExceeded",
    ]


def test_assist_about_a_namespace(operator: OperatorProcess, shop: SimulatedControllers) -> None:
    body = ask(operator, {"query": "How is the system status?", "namespace": shop.ns}).json()
    assert "checkout" in body["answer"] and body["diagnoses"]
    quiet = ask(operator, {"query": "How is the system status?"}).json()  # default namespace
    assert "nothing" in quiet["answer"].lower() and quiet["diagnoses"] == []


@pytest.mark.parametrize(
    ("token", "status"),
    [(None, 401), ("forged-token", 401), ("bob-token", 403)],
)
def test_assist_refuses_who_may_not_ask(
    operator: OperatorProcess, shop: SimulatedControllers, token: str | None, status: int
) -> None:
    response = ask(operator, {"query": "why?", "namespace": shop.ns}, token)
    assert response.status_code == status
    assert "checkout" not in response.text and response.json()["reason"]


def test_assist_answers_from_the_callers_own_rights(
    operator: OperatorProcess, shop: SimulatedControllers
) -> None:
    """The issue's second user, allowed only ``get pods``: no Deployment diagnosis, no log."""
    target = {"kind": "Deployment", "name": "checkout"}
    full = ask(operator, {"query": "why?", "namespace": shop.ns, "target": target})
    assert full.status_code == 200 and LOG_ONLY_LINE in full.text
    denied = ask(operator, {"query": "why?", "namespace": shop.ns, "target": target}, "carol-token")
    ghost = ask(
        operator,
        {"query": "why?", "namespace": shop.ns, "target": {**target, "name": "ghost"}},
        "carol-token",
    )
    assert denied.status_code == ghost.status_code == 403 and denied.json() == ghost.json()
    pod = {"kind": "Pod", "name": shop.pods[0]}  # type: ignore[attr-defined]
    limited = ask(operator, {"query": "why?", "namespace": shop.ns, "target": pod}, "carol-token")
    assert limited.status_code == 200, limited.text
    body = limited.json()
    assert body["diagnoses"][0]["findings"][0]["code"] == "CrashLoopBackOff"
    assert LOG_ONLY_LINE not in limited.text and "Back-off" not in limited.text
    assert body["withheld"] == ["container logs (get pods/log)", "events (list events)"]


def test_assist_rejects_bad_bodies(operator: OperatorProcess, shop: SimulatedControllers) -> None:
    assert ask(operator, {"query": "x" * 2001, "namespace": shop.ns}).status_code in (413, 422)
    assert ask(operator, {"query": "hi", "namespace": shop.ns, "extra": 1}).status_code == 422
    oversize = httpx.post(
        f"{operator.url}/assist",
        content=b'{"query": "' + b"x" * 20000 + b'"}',
        headers={"Authorization": "Bearer alice-token", "Content-Type": "application/json"},
    )
    assert oversize.status_code == 413


@pytest.fixture
def outage_pair(tmp_path: Path) -> Iterator[tuple[RunningApiServer, OperatorProcess]]:
    server = RunningApiServer()
    server.start()
    kubeconfig = server.write_kubeconfig(tmp_path / "config")
    process = OperatorProcess(kubeconfig, tmp_path / "operator.log")
    process.start()
    yield server, process
    process.stop()
    server.stop()


def test_ready_follows_the_api_server(
    outage_pair: tuple[RunningApiServer, OperatorProcess],
) -> None:
    server, process = outage_pair
    server.stop()

    def unready() -> Any:
        response = httpx.get(f"{process.url}/ready")
        return response if response.status_code == 503 else None

    response = eventually(unready, what="/ready to turn 503")
    assert "Kubernetes API unreachable" in response.json()["reason"]
    assert httpx.get(f"{process.url}/health").status_code == 200
    revived = RunningApiServer(port=server.port)
    revived.start()
    try:
        eventually(
            lambda: httpx.get(f"{process.url}/ready").status_code == 200, what="/ready again"
        )
    finally:
        revived.stop()


@pytest.fixture(scope="module")
def guarded(
    apiserver: RunningApiServer, kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OperatorProcess]:
    """An operator of its own (its own caches and rates), watching a namespace nobody uses."""
    process = OperatorProcess(
        kubeconfig,
        tmp_path_factory.mktemp("guarded") / "operator.log",
        {
            "WATCH_NAMESPACES": "it-http-unused",
            "ASSIST_UNAUTHENTICATED_RATE_LIMIT_PER_MINUTE": "20",
        },
    )
    process.start()
    yield process
    process.stop()


def test_a_failing_review_is_a_json_503_counted_in_metrics(
    apiserver: RunningApiServer, guarded: OperatorProcess, shop: SimulatedControllers
) -> None:
    apiserver.emulator.review_failure = 500
    try:
        response = ask(guarded, {"query": "status?", "namespace": shop.ns})
    finally:
        apiserver.emulator.review_failure = None
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"] == "ReviewUnavailable"
    metrics = httpx.get(f"{guarded.url}/metrics").text
    assert 'highpeaks_agent_assist_requests_total{status="503"} 1.0' in metrics
    assert ask(guarded, {"query": "status?", "namespace": shop.ns}).status_code == 200


async def test_a_flood_of_made_up_tokens_costs_a_bounded_number_of_reviews(
    apiserver: RunningApiServer, guarded: OperatorProcess
) -> None:
    reviews_before = len(apiserver.emulator.reviews)
    health: list[int] = []
    async with httpx.AsyncClient(base_url=guarded.url, timeout=30) as agent:

        async def made_up(i: int) -> int:
            headers = {"Authorization": f"Bearer made-up-{i}"}
            response = await agent.post("/assist", json={"query": "x"}, headers=headers)
            return response.status_code

        statuses: list[int] = []
        for start in range(0, 300, 50):
            batch = await asyncio.gather(
                agent.get("/health"), *map(made_up, range(start, start + 50))
            )
            health.append(batch[0].status_code)  # type: ignore[union-attr]
            statuses.extend(batch[1:])  # type: ignore[arg-type]
    token_reviews = apiserver.emulator.reviews[reviews_before:].count("TokenReview")
    assert token_reviews <= 20  # ASSIST_UNAUTHENTICATED_RATE_LIMIT_PER_MINUTE, over 300 tries
    assert set(statuses) == {401, 429} and statuses.count(429) >= 280
    assert health == [200] * 6
