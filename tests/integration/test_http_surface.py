"""/health, /ready, /assist and /metrics served by the real operator process.

The emulated API server answers the TokenReviews and SubjectAccessReviews, and serves the
objects /assist diagnoses.
"""

from __future__ import annotations

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


def authorizer(spec: dict[str, Any]) -> bool:
    attributes = spec.get("resourceAttributes") or {}
    return (spec.get("user"), attributes.get("namespace")) in GRANTS


@pytest.fixture(scope="module")
def shop(apiserver: RunningApiServer, api: Any, operator: OperatorProcess) -> SimulatedControllers:
    apiserver.emulator.tokens["alice-token"] = {"username": "alice", "groups": ["sre"]}
    apiserver.emulator.tokens["bob-token"] = {"username": "bob", "groups": ["dev"]}
    apiserver.emulator.authorizer = authorizer
    cluster = SimulatedControllers(api, apiserver, "it-http-shop")
    cluster.deployment("checkout", "registry.example.com/shop/checkout:2.14.0")
    rs = cluster.rollout("checkout", 1, "registry.example.com/shop/checkout:2.14.0")
    for _ in range(2):
        cluster.crash_loop(cluster.pod(rs), restarts=5, log=CRASH_LOG)
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
    assert body["diagnoses"][0]["findings"][0]["code"] == "CrashLoopBackOff"
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
    assert diagnosis["findings"][0]["code"] == "JobFailed.BackoffLimitExceeded"


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
