"""POST /alertmanager: who may call it, the limits, and one result per alert."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from aiohttp import web
from kubernetes import client

from highpeaks_agent.alerts.intake import AlertIntake
from highpeaks_agent.engine.thresholds import DEFAULT_THRESHOLDS
from highpeaks_agent.http.alertmanager import alertmanager_router
from highpeaks_agent.http.app import create_app
from highpeaks_agent.http.auth import KubernetesAuth
from highpeaks_agent.readiness import Readiness
from highpeaks_agent.service import DiagnosisService
from highpeaks_agent.settings import Settings
from tests.support.alertmanager import alert, group, sample
from tests.support.loopback import serve

from ..alerts.fakes import FakeTasks, FakeWorkloads, obj
from ..service.test_diagnosis_service import SnapshotSource, failing_objects
from .test_assist_app import FakeReviews

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
TOKEN = "am-0123456789abcdef"
CHECKOUT = {"namespace": "shop", "deployment": "checkout"}


@pytest.fixture
async def reviews() -> AsyncIterator[tuple[FakeReviews, str]]:
    fake = FakeReviews()
    app = web.Application()
    app.router.add_post("/apis/authentication.k8s.io/v1/tokenreviews", fake.token_review)
    app.router.add_post("/apis/authorization.k8s.io/v1/subjectaccessreviews", fake.access_review)
    async with serve(app) as url:
        yield fake, url


def make_app(tasks: FakeTasks, api_url: str | None = None, **settings: Any) -> Any:
    if api_url is None:
        settings.setdefault("auth_mode", "none")  # the static token is checked all the same
    config = Settings(**settings)
    service = DiagnosisService(SnapshotSource(*failing_objects()), thresholds=DEFAULT_THRESHOLDS)
    workloads = FakeWorkloads()
    workloads.add(obj("Deployment", "checkout", "d-1"))
    intake = AlertIntake(workloads, tasks, clock=lambda: NOW)
    auth = None
    if api_url is not None:
        configuration = client.Configuration()
        configuration.host = api_url
        auth = KubernetesAuth(client.ApiClient(configuration), cache_seconds=60)
    app = create_app(config, service, Readiness(), auth)
    app.include_router(alertmanager_router(config, intake, auth))  # as main.py does
    return app


async def post(app: Any, body: Any, token: str | None = TOKEN, **kwargs: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://agent") as http:
        if isinstance(body, bytes):
            return await http.post("/alertmanager", content=body, headers=headers, **kwargs)
        return await http.post("/alertmanager", json=body, headers=headers, **kwargs)


async def test_the_sample_payload_is_accepted_with_a_reason_and_creates_nothing() -> None:
    tasks = FakeTasks()
    app = make_app(tasks, alertmanager_token=TOKEN)
    response = await post(app, sample())
    assert response.status_code == 202, response.text
    assert response.json() == {
        "results": [
            {
                "fingerprint": "5c2e9a41d07b8f36",
                "alertname": "EndpointDown",
                "status": "firing",
                "outcome": "ignored",
                "reason": "no namespace label",
            }
        ]
    }
    assert tasks.items == {}


async def test_a_workload_alert_creates_a_task_once() -> None:
    tasks = FakeTasks()
    app = make_app(tasks, alertmanager_token=TOKEN)
    body = group(alert("c0ffee", CHECKOUT, summary="checkout is down"))
    first, again = (await post(app, body)).json(), (await post(app, body)).json()
    assert first["results"][0] == {
        "fingerprint": "c0ffee",
        "alertname": "KubePodCrashLooping",
        "status": "firing",
        "outcome": "created",
        "task": "alert-c0ffee",
        "namespace": "shop",
        "target": {"kind": "Deployment", "name": "checkout"},
    }
    assert again["results"][0]["outcome"] == "exists"
    assert list(tasks.items) == [("shop", "alert-c0ffee")]


@pytest.mark.parametrize(
    ("header", "status"),
    [
        (None, 401),
        ("Bearer wrong", 401),
        (f"Basic {TOKEN}", 401),
        (f"Bearer {TOKEN}x", 401),
        (f"Bearer {TOKEN}", 202),
        (f"bearer {TOKEN}", 202),
    ],
)
async def test_the_static_token(header: str | None, status: int) -> None:
    tasks = FakeTasks()
    app = make_app(tasks, alertmanager_token=TOKEN)
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": header} if header else {}
    async with httpx.AsyncClient(transport=transport, base_url="http://agent") as http:
        response = await http.post(
            "/alertmanager", json=group(alert("c0ffee", CHECKOUT)), headers=headers
        )
    assert response.status_code == status, response.text
    if status == 401:
        assert response.json()["error"] == "Unauthorized" and tasks.items == {}
        assert TOKEN not in response.text


async def test_kubernetes_auth_checks_create_agenttasks_per_namespace(
    reviews: tuple[FakeReviews, str],
) -> None:
    fake, url = reviews
    tasks = FakeTasks()
    app = make_app(tasks, url)
    body = group(alert("a1", CHECKOUT), alert("a2", {"namespace": "sandbox", "deployment": "x"}))
    assert (await post(app, body, token=None)).status_code == 401
    assert (await post(app, body, token="nobody")).status_code == 401
    results = (await post(app, body, token="alice-token")).json()["results"]
    assert [r["outcome"] for r in results] == ["created", "forbidden"]
    assert "create agenttasks in namespace sandbox" in results[1]["reason"]
    attributes = [s["resourceAttributes"] for s in fake.sar_specs]
    assert {
        "verb": "create",
        "resource": "agenttasks",
        "group": "devops.highpeaks.io",
        "namespace": "shop",
    } in attributes
    assert list(tasks.items) == [("shop", "alert-a1")]


async def test_without_any_authentication_configured_anyone_may_post() -> None:
    tasks = FakeTasks()
    app = make_app(tasks, auth_mode="none")
    response = await post(app, group(alert("a1", CHECKOUT)), token=None)
    assert response.status_code == 202 and tasks.items


async def test_limits_on_body_size_and_alert_count() -> None:
    tasks = FakeTasks()
    app = make_app(
        tasks, alertmanager_token=TOKEN, alertmanager_max_body_bytes=4096, alertmanager_max_alerts=3
    )
    big = group(alert("a1", CHECKOUT, summary="x" * 5000))
    too_big = await post(app, big)
    assert too_big.status_code == 413 and too_big.json()["error"] == "PayloadTooLarge"
    many = group(*(alert(f"a{i}", CHECKOUT) for i in range(4)))
    too_many = await post(app, many)
    assert too_many.status_code == 413 and too_many.json()["error"] == "TooManyAlerts"
    assert "max_alerts" in too_many.json()["reason"]
    assert tasks.items == {}


@pytest.mark.parametrize(
    ("body", "status", "where"),
    [
        (b"{not json", 400, "not valid JSON"),
        ({**sample(), "version": "3"}, 422, "version"),
        ({**sample(), "alerts": "x"}, 422, "alerts"),
        ({k: v for k, v in sample().items() if k != "alerts"}, 422, "alerts"),
        (group({**alert("a1", CHECKOUT), "status": "pending"}), 422, "alerts.0.status"),
        ([1, 2], 422, "body"),
    ],
)
async def test_bodies_that_will_never_be_accepted(body: Any, status: int, where: str) -> None:
    tasks = FakeTasks()
    response = await post(make_app(tasks, alertmanager_token=TOKEN), body)
    assert response.status_code == status, response.text
    assert where in response.json()["reason"]
    assert tasks.items == {}


async def test_an_api_server_failure_asks_alertmanager_to_retry() -> None:
    tasks = FakeTasks(fail=OSError("connection refused"))
    response = await post(make_app(tasks, alertmanager_token=TOKEN), group(alert("a1", CHECKOUT)))
    assert response.status_code == 503
    assert response.json()["error"] == "ClusterUnavailable"


async def test_resolving_a_task_still_being_diagnosed_is_retried_later() -> None:
    tasks = FakeTasks()
    app = make_app(tasks, alertmanager_token=TOKEN)
    assert (await post(app, group(alert("a1", CHECKOUT)))).status_code == 202
    response = await post(app, group(alert("a1", CHECKOUT, status="resolved")))
    assert response.status_code == 503
    assert response.json()["error"] == "TaskBusy" and response.headers["Retry-After"] == "10"
    tasks.items[("shop", "alert-a1")]["status"] = {"phase": "Succeeded", "conditions": []}
    response = await post(app, group(alert("a1", CHECKOUT, status="resolved")))
    assert response.json()["results"][0]["outcome"] == "resolved"


async def test_the_route_is_documented() -> None:
    app = make_app(FakeTasks(), alertmanager_token=TOKEN)
    schema = app.openapi()
    operation = schema["paths"]["/alertmanager"]["post"]
    assert "202" in operation["responses"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/AlertGroup"}
    assert "alerts" in schema["components"]["schemas"]["AlertGroup"]["properties"]
