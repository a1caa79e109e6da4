"""/health, /ready, /metrics and /assist: authentication through TokenReview and
SubjectAccessReview answered by an API server on loopback, limits, and answers."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from highpeaks_agent.engine.thresholds import DEFAULT_THRESHOLDS
from highpeaks_agent.errors import (
    AgentError,
    Forbidden,
    TargetNotFound,
    Unauthenticated,
    UnsupportedTarget,
)
from highpeaks_agent.explain import ExplainOutcome
from highpeaks_agent.flowise.grants import Step
from highpeaks_agent.http.app import create_app
from highpeaks_agent.http.errors import agent_error
from highpeaks_agent.readiness import Readiness
from highpeaks_agent.service import DiagnosisService
from highpeaks_agent.settings import Settings
from tests.support.strategies import json_values
from tests.unit.http.reviews import FakeReviews, bearer, http, make_auth

from ..engine.builders import NOW
from ..engine.test_actions import rolled_out_deployment
from ..service.test_diagnosis_service import (
    SECRET,
    RecordingExplainer,
    SnapshotSource,
    failing_objects,
)


def make_app(
    api_url: str | None,
    readiness: Readiness | None = None,
    objects: list[dict[str, Any]] | None = None,
    **settings: Any,
) -> Any:
    config = Settings(assist_default_namespace="shop", **settings)
    service = DiagnosisService(
        SnapshotSource(*(objects or failing_objects())),
        thresholds=DEFAULT_THRESHOLDS,
        clock=lambda: NOW,
    )
    auth = make_auth(api_url) if api_url is not None else None
    return create_app(config, service, readiness or Readiness(), auth)


async def test_health_ready_metrics() -> None:
    readiness = Readiness()
    async with http(make_app(None, readiness, auth_mode="none")) as agent:
        assert (await agent.get("/health")).json() == {"status": "ok"}
        not_ready = await agent.get("/ready")
        assert not_ready.status_code == 503 and not_ready.json()["reason"].startswith("starting")
        readiness.mark_ready()
        assert (await agent.get("/ready")).status_code == 200
        readiness.mark_unready("Kubernetes API unreachable")
        assert (await agent.get("/ready")).json() == {
            "error": "NotReady",
            "reason": "Kubernetes API unreachable",
        }
        text = (await agent.get("/metrics")).text
        assert "highpeaks_agent_assist_requests_total" in text


async def test_seed_question_answers_about_the_default_namespace(
    reviews: tuple[FakeReviews, str],
) -> None:
    async with http(make_app(reviews[1])) as agent:
        response = await agent.post(
            "/assist", json={"query": "How is the system status?"}, headers=bearer("alice-token")
        )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["namespace"] == "shop" and body["source"] == "rules"
    assert body["answer"].startswith("1 workload is failing in namespace shop:")
    assert body["diagnoses"][0]["findings"][0]["code"] == "CrashLoopBackOff"
    assert SECRET not in response.text


async def test_target_question_checks_the_target_resource(reviews: tuple[FakeReviews, str]) -> None:
    fake, url = reviews
    async with http(make_app(url)) as agent:
        response = await agent.post(
            "/assist",
            json={"query": "why?", "target": {"kind": "Deployment", "name": "checkout"}},
            headers=bearer("alice-token"),
        )
        assert response.status_code == 200
        assert "Most likely cause (CrashLoopBackOff)" in response.json()["answer"]
        missing = await agent.post(
            "/assist",
            json={"query": "why?", "target": {"kind": "Deployment", "name": "nope"}},
            headers=bearer("alice-token"),
        )
        assert (missing.status_code, missing.json()["error"]) == (404, "NotFound")
    attributes = [spec["resourceAttributes"] for spec in fake.sar_specs]
    assert {
        "verb": "get",
        "resource": "deployments",
        "group": "apps",
        "namespace": "shop",
        "name": "checkout",
    } in attributes
    assert fake.sar_specs[0]["user"] == "alice" and fake.sar_specs[0]["groups"] == ["sre"]


async def test_the_answer_lists_the_actions_the_rules_propose() -> None:
    app = make_app(None, objects=rolled_out_deployment(), auth_mode="none")
    async with http(app) as agent:
        response = await agent.post(
            "/assist",
            json={"query": "why?", "target": {"kind": "Deployment", "name": "checkout"}},
        )
    assert response.status_code == 200, response.text
    [action] = response.json()["diagnoses"][0]["proposedActions"]
    assert (action["id"], action["action"], action["refused"]) == ("rollback-to-1", "rollback", "")
    assert action["change"].startswith("container app image: registry.example.com/shop/app:1.1.0")


@pytest.mark.parametrize(
    "headers", [{}, bearer("stolen-token"), {"Authorization": "Basic YWxpY2U6cHc="}]
)
async def test_unauthenticated_is_401(
    reviews: tuple[FakeReviews, str], headers: dict[str, str]
) -> None:
    async with http(make_app(reviews[1])) as agent:
        response = await agent.post("/assist", json={"query": "status?"}, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_denied_is_403_and_looks_the_same_for_missing_namespaces(
    reviews: tuple[FakeReviews, str],
) -> None:
    async with http(make_app(reviews[1])) as agent:
        other = await agent.post(
            "/assist", json={"query": "status?", "namespace": "shop"}, headers=bearer("bob-token")
        )
        ghost = await agent.post(
            "/assist",
            json={"query": "status?", "namespace": "no-such-ns"},
            headers=bearer("bob-token"),
        )
    assert other.status_code == ghost.status_code == 403
    assert other.json()["reason"].replace("shop", "X") == ghost.json()["reason"].replace(
        "no-such-ns", "X"
    )


async def test_positive_reviews_are_cached(reviews: tuple[FakeReviews, str]) -> None:
    fake, url = reviews
    async with http(make_app(url)) as agent:
        statuses = []
        for _ in range(3):
            response = await agent.post(
                "/assist", json={"query": "status?"}, headers=bearer("alice-token")
            )
            statuses.append(response.status_code)
            if len(statuses) == 1:
                first_calls = list(fake.calls)
    assert statuses == [200, 200, 200]
    # one TokenReview and one review per kind of data for the first question, none after
    assert first_calls[0] == "TokenReview" and first_calls.count("TokenReview") == 1
    assert set(first_calls[1:]) == {"SubjectAccessReview"}
    assert fake.calls == first_calls


@pytest.mark.parametrize(
    ("content", "status", "error"),
    [
        (b'{"query": ', 400, "MalformedJSON"),
        (b'{"query": "x", "colour": "blue"}', 422, "InvalidRequest"),
        (b'{"query": ""}', 422, "InvalidRequest"),
        (b'{"query": "' + b"x" * 2001 + b'"}', 422, "InvalidRequest"),
        (b'{"query": "x", "target": {"kind": "CronTab", "name": "a"}}', 422, "InvalidRequest"),
        (b'{"query": "' + b"x" * 20000 + b'"}', 413, "PayloadTooLarge"),
    ],
)
async def test_bad_bodies(content: bytes, status: int, error: str) -> None:
    async with http(make_app(None, auth_mode="none")) as agent:
        response = await agent.post(
            "/assist", content=content, headers={"Content-Type": "application/json"}
        )
    assert (response.status_code, response.json()["error"]) == (status, error)


async def test_rate_limit(reviews: tuple[FakeReviews, str]) -> None:
    async with http(make_app(reviews[1], assist_rate_limit_per_minute=2)) as agent:
        codes = [
            (
                await agent.post("/assist", json={"query": "s"}, headers=bearer("alice-token"))
            ).status_code
            for _ in range(3)
        ]
        limited = await agent.post("/assist", json={"query": "s"}, headers=bearer("alice-token"))
    assert codes == [200, 200, 429]
    assert int(limited.headers["Retry-After"]) >= 1


def test_auth_is_required_unless_none() -> None:
    with pytest.raises(ValueError, match="AUTH_MODE=none"):
        make_app(None)


bodies = st.fixed_dictionaries(
    {},
    optional={
        "query": json_values | st.text(max_size=50),
        "namespace": json_values | st.sampled_from(["shop", "Shop", "", "a" * 70]),
        "target": json_values
        | st.fixed_dictionaries(
            {"kind": st.sampled_from(["Deployment", "Pod", "x"]), "name": st.text(max_size=20)}
        ),
        "extra": json_values,
    },
)


@settings(max_examples=80, deadline=None)
@given(body=bodies | json_values)
async def test_fuzzed_bodies_never_get_a_5xx(body: Any) -> None:
    async with http(make_app(None, auth_mode="none", assist_rate_limit_per_minute=10_000)) as agent:
        response = await agent.post("/assist", json=body)
    assert response.status_code < 500, response.text
    assert response.status_code in (200, 400, 404, 413, 422)


@pytest.mark.parametrize(
    ("exc", "status", "kind"),
    [
        (Unauthenticated("missing bearer token"), 401, "Unauthorized"),
        (Forbidden("bob may not get pods in namespace shop"), 403, "Forbidden"),
        (TargetNotFound("Deployment", "shop", "nope"), 404, "NotFound"),
        (UnsupportedTarget("CronJob", ("Deployment", "Pod")), 422, "InvalidRequest"),
    ],
)
def test_expected_errors_map_by_type(exc: AgentError, status: int, kind: str) -> None:
    response = agent_error(exc)
    assert response.status_code == status
    body = json.loads(bytes(response.body))
    assert body == {"error": kind, "reason": str(exc)}
    assert ("WWW-Authenticate" in response.headers) == (status == 401)


async def test_the_query_limit_is_the_setting() -> None:
    long_query = {"query": "x" * 3000}
    async with http(make_app(None, auth_mode="none", assist_max_query_chars=4000)) as agent:
        assert (await agent.post("/assist", json=long_query)).status_code == 200
    async with http(make_app(None, auth_mode="none")) as agent:
        assert (await agent.post("/assist", json={"query": "x" * 2000})).status_code == 200
        refused = await agent.post("/assist", json={"query": "x" * 2001})
    assert (refused.status_code, refused.json()) == (
        422,
        {"error": "InvalidRequest", "reason": "query: at most 2000 characters"},
    )


async def test_the_flow_steps_with_the_callers_rights_and_the_answer_shows_them(
    reviews: tuple[FakeReviews, str],
) -> None:
    steps = (Step("logs", "pod=checkout-1 container=app", "panic: no DB_URL", 30),)
    explainer = RecordingExplainer(
        ExplainOutcome(status="ok", summary="The config lost DB_URL.", steps=steps)
    )
    service = DiagnosisService(
        SnapshotSource(*failing_objects()),
        thresholds=DEFAULT_THRESHOLDS,
        explainer=explainer,
        clock=lambda: NOW,
    )
    app = create_app(
        Settings(assist_default_namespace="shop"), service, Readiness(), make_auth(reviews[1])
    )
    async with http(app) as agent:
        response = await agent.post(
            "/assist", json={"query": "why?"}, headers=bearer("alice-token")
        )
    assert response.status_code == 200, response.text
    asked = explainer.requests[0]
    assert asked.asker is not None and asked.asker.username == "alice"
    assert asked.namespace == "shop"
    assert response.json()["steps"] == [
        {
            "tool": "logs",
            "arguments": "pod=checkout-1 container=app",
            "result": "panic: no DB_URL",
            "durationMs": 30,
        }
    ]
