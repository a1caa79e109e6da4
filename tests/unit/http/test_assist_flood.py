"""/assist before and around authentication (CONTRACT §7): a flood of made-up tokens costs a
bounded number of TokenReviews, failed lookups and denials are cached, and a review that
cannot be made is a JSON 503, counted."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from prometheus_client import REGISTRY

from highpeaks_agent.engine.thresholds import DEFAULT_THRESHOLDS
from highpeaks_agent.http.app import create_app
from highpeaks_agent.readiness import Readiness
from highpeaks_agent.service import DiagnosisService
from highpeaks_agent.settings import Settings
from tests.unit.http.reviews import FakeReviews, bearer, http, make_auth

from ..engine.builders import NOW
from ..service.test_diagnosis_service import SnapshotSource, failing_objects

ATTACKER, SRE = "10.0.0.66", "10.0.0.9"


def make_app(url: str, auth_options: dict[str, Any] | None = None, **settings: Any) -> Any:
    service = DiagnosisService(
        SnapshotSource(*failing_objects()), thresholds=DEFAULT_THRESHOLDS, clock=lambda: NOW
    )
    config = Settings(assist_default_namespace="shop", **settings)
    return create_app(config, service, Readiness(), make_auth(url, **(auth_options or {})))


def assist_count(status: int) -> float:
    value = REGISTRY.get_sample_value(
        "highpeaks_agent_assist_requests_total", {"status": str(status)}
    )
    return value or 0.0


async def flood(agent: httpx.AsyncClient, tokens: list[str]) -> list[int]:
    """Each token once, 50 at a time, with a /health probe beside every batch."""
    statuses: list[int] = []
    for start in range(0, len(tokens), 50):
        batch = tokens[start : start + 50]
        answers = await asyncio.gather(
            agent.get("/health"),
            *(agent.post("/assist", json={"query": "x"}, headers=bearer(t)) for t in batch),
        )
        assert answers[0].status_code == 200  # liveness keeps answering during the flood
        statuses.extend(a.status_code for a in answers[1:])
    return statuses


async def test_a_flood_of_made_up_tokens_costs_a_bounded_number_of_reviews(
    reviews: tuple[FakeReviews, str],
) -> None:
    fake, url = reviews
    app = make_app(url)  # ASSIST_UNAUTHENTICATED_RATE_LIMIT_PER_MINUTE: 30 by default
    async with http(app, ATTACKER) as attacker, http(app, SRE) as sre:
        statuses = await flood(attacker, [f"made-up-token-{i}" for i in range(600)])
        legitimate = await sre.post("/assist", json={"query": "x"}, headers=bearer("alice-token"))
    assert fake.calls.count("TokenReview") == 30 + 1  # the flood's 30, then alice's one
    assert statuses.count(401) == 30 and statuses.count(429) == 570
    assert legitimate.status_code == 200  # another address is not held by the flood


async def test_a_missing_token_is_held_to_the_same_rate(reviews: tuple[FakeReviews, str]) -> None:
    fake, url = reviews
    app = make_app(url, assist_unauthenticated_rate_limit_per_minute=3)
    async with http(app, ATTACKER) as agent:
        codes = [(await agent.post("/assist", json={"query": "x"})).status_code for _ in range(5)]
    assert codes == [401, 401, 401, 429, 429] and fake.calls == []


async def test_a_known_user_is_not_held_by_the_unauthenticated_rate(
    reviews: tuple[FakeReviews, str],
) -> None:
    _fake, url = reviews
    app = make_app(url, assist_unauthenticated_rate_limit_per_minute=1)
    async with http(app) as agent:
        codes = [
            (
                await agent.post("/assist", json={"query": "x"}, headers=bearer("alice-token"))
            ).status_code
            for _ in range(4)
        ]
    assert codes == [200, 200, 200, 200]


async def test_a_failed_lookup_is_remembered_briefly(reviews: tuple[FakeReviews, str]) -> None:
    fake, url = reviews
    app = make_app(url, {"denied_cache_seconds": 0.3})
    async with http(app) as agent:
        for _ in range(10):
            response = await agent.post("/assist", json={"query": "x"}, headers=bearer("stolen"))
            assert response.status_code == 401
        assert fake.calls.count("TokenReview") == 1
        await asyncio.sleep(0.4)
        await agent.post("/assist", json={"query": "x"}, headers=bearer("stolen"))
    assert fake.calls.count("TokenReview") == 2


async def test_a_denial_is_remembered(reviews: tuple[FakeReviews, str]) -> None:
    fake, url = reviews
    async with http(make_app(url)) as agent:
        for _ in range(5):
            response = await agent.post("/assist", json={"query": "x"}, headers=bearer("bob-token"))
            assert response.status_code == 403
    assert fake.calls.count("TokenReview") == 1
    assert fake.calls.count("SubjectAccessReview") == len({str(s) for s in fake.sar_specs})


async def test_a_failing_token_review_is_a_json_503_counted_and_not_remembered(
    reviews: tuple[FakeReviews, str],
) -> None:
    fake, url = reviews
    fake.failure = 500
    before = assist_count(503)
    async with http(make_app(url)) as agent:
        failed = await agent.post("/assist", json={"query": "x"}, headers=bearer("alice-token"))
        fake.failure = None
        recovered = await agent.post("/assist", json={"query": "x"}, headers=bearer("alice-token"))
    assert failed.status_code == 503
    assert failed.headers["content-type"] == "application/json"
    assert failed.json() == {
        "error": "ReviewUnavailable",
        "reason": "the TokenReview could not be made (HTTP 500); try again",
    }
    assert assist_count(503) == before + 1
    assert recovered.status_code == 200


async def test_a_failing_access_review_is_a_json_503(reviews: tuple[FakeReviews, str]) -> None:
    fake, url = reviews
    async with http(make_app(url)) as agent:
        first = await agent.post("/assist", json={"query": "x"}, headers=bearer("alice-token"))
        fake.failure = 503
        other = {"query": "x", "namespace": "sandbox"}
        failed = await agent.post("/assist", json=other, headers=bearer("alice-token"))
    assert first.status_code == 200
    assert (failed.status_code, failed.json()["error"]) == (503, "ReviewUnavailable")
    assert "SubjectAccessReview" in failed.json()["reason"]


async def test_a_review_that_takes_too_long_is_a_json_503(reviews: tuple[FakeReviews, str]) -> None:
    fake, url = reviews
    fake.delay = 2.0
    async with http(make_app(url, {"review_timeout": 0.3})) as agent:
        response = await agent.post("/assist", json={"query": "x"}, headers=bearer("alice-token"))
    assert (response.status_code, response.json()["error"]) == (503, "ReviewUnavailable")


async def test_an_unreachable_api_server_is_a_json_503() -> None:
    async with http(make_app("http://127.0.0.1:9")) as agent:
        response = await agent.post("/assist", json={"query": "x"}, headers=bearer("alice-token"))
    assert (response.status_code, response.json()["error"]) == (503, "ReviewUnavailable")


async def test_an_unexpected_failure_is_a_json_500_counted(
    reviews: tuple[FakeReviews, str],
) -> None:
    app = make_app(reviews[1])

    def broken(_authorization: str | None) -> None:
        raise RuntimeError("a bug")

    app.state.services.auth.known_user = broken
    before = assist_count(500)
    async with http(app) as agent:
        response = await agent.post("/assist", json={"query": "x"}, headers=bearer("alice-token"))
    assert (response.status_code, response.json()["error"]) == (500, "InternalError")
    assert "a bug" not in response.text
    assert assist_count(500) == before + 1
