"""The Flowise bridge against a real HTTP server on loopback that plays every fault."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace

import pytest
from aiohttp import web

from highpeaks_agent.engine import Snapshot, diagnose
from highpeaks_agent.engine.model import Diagnosis, Rollout
from highpeaks_agent.engine.snapshot import ContainerLog
from highpeaks_agent.explain import ExplainRequest
from highpeaks_agent.flowise.bridge import (
    FlowiseExplainer,
    build_explainer,
    cache_key,
    session_id,
)
from highpeaks_agent.flowise.client import CircuitBreaker, FlowiseClient
from highpeaks_agent.flowise.context import render_request
from highpeaks_agent.settings import Settings
from tests.support.loopback import serve

from ..engine.builders import NOW, container, failing_deployment, terminated, waiting

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
GOOD = {
    "json": {
        "summary": "The new image cannot parse its config.",
        "rootCause": "CrashLoopBackOff",
        "recommendations": ["Roll back to revision 1"],
        "answer": "Revision 2 broke the config parser.",
    }
}


@dataclass
class FakeFlowise:
    """A loopback server; each request pops the next handler (the last one repeats)."""

    handlers: list[Handler] = field(default_factory=list)
    received: list[bytes] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    url: str = ""
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.received.append(await request.read())
        self.headers.append(dict(request.headers))
        handler = self.handlers.pop(0) if len(self.handlers) > 1 else self.handlers[0]
        return await handler(request)


def reply(payload: object, status: int = 200, headers: dict[str, str] | None = None) -> Handler:
    async def handler(_: web.Request) -> web.StreamResponse:
        return web.json_response(payload, status=status, headers=headers)

    return handler


def raw(body: bytes, status: int = 200) -> Handler:
    async def handler(_: web.Request) -> web.StreamResponse:
        return web.Response(body=body, status=status, content_type="text/html")

    return handler


def hang(fake: FakeFlowise) -> Handler:
    """Never answers until the test is over (then the fixture releases it)."""

    async def handler(_: web.Request) -> web.StreamResponse:
        await fake.release.wait()
        return web.json_response(GOOD)

    return handler


@pytest.fixture
async def flowise() -> AsyncIterator[FakeFlowise]:
    fake = FakeFlowise()
    app = web.Application()
    app.router.add_post("/api/v1/prediction/{flow}", fake.handle)
    async with serve(app) as url:
        fake.url = url
        yield fake
        fake.release.set()


def explainer(fake: FakeFlowise, **kwargs: object) -> FlowiseExplainer:
    options: dict[str, object] = {
        "api_key": "flowise-key-123456",
        "timeout": 2.0,
        "max_retries": 2,
        "max_response_bytes": 100_000,
    }
    options.update(kwargs)
    return FlowiseExplainer(FlowiseClient(fake.url, "flow-1", **options))  # type: ignore[arg-type]


def failing_diagnoses() -> list[Diagnosis]:
    env = [{"name": "DB_PASSWORD", "value": "planted-password-4242"}]
    dep, rs, p = failing_deployment(
        [waiting(restarts=4, last=terminated(1))], containers=[container(env=env)]
    )
    snapshot = Snapshot.from_objects([dep, rs, p])
    snapshot.logs[("shop", p["metadata"]["name"], "app")] = ContainerLog(
        "connect postgres://app:planted-password-4242@db:5432\nERROR: token ghp_1234567890abcdefghijklmnopqrstuvwxyzAB refused\n",
        previous=True,
    )
    return diagnose(snapshot, now=NOW)


def request(
    subject: str = "uid-1", question: str | None = "why is checkout failing?"
) -> ExplainRequest:
    return ExplainRequest(
        scope="Deployment shop/checkout",
        diagnoses=failing_diagnoses(),
        question=question,
        subject=subject,
    )


async def test_structured_answer_and_request_shape(flowise: FakeFlowise) -> None:
    flowise.handlers = [reply(GOOD)]
    outcome = await explainer(flowise).explain(request())
    assert outcome.status == "ok"
    assert outcome.answer == "Revision 2 broke the config parser."
    assert outcome.recommendations == ["Roll back to revision 1"]
    body = json.loads(flowise.received[0])
    assert body["overrideConfig"] == {"sessionId": session_id(request())}
    sent = json.loads(body["question"])
    assert sent["scope"] == "Deployment shop/checkout"
    assert sent["diagnoses"][0]["findings"][0]["code"] == "CrashLoopBackOff"
    assert flowise.headers[0]["Authorization"] == "Bearer flowise-key-123456"


async def test_planted_secrets_never_reach_flowise(flowise: FakeFlowise) -> None:
    flowise.handlers = [reply(GOOD)]
    await explainer(flowise).explain(
        request(question="my token is ghp_abcdefghijklmnopqrstuvwxyz0123456789 help")
    )
    sent = b"".join(flowise.received)
    for secret in (b"planted-password-4242", b"ghp_1234567890abcdefghijklmnopqrstuvwxyzAB"):
        assert secret not in sent


@pytest.mark.parametrize(
    ("text", "summary"),
    [
        ('```json\n{"summary": "fenced", "recommendations": []}\n```', "fenced"),
        ("Plain prose answer.", "Plain prose answer."),
    ],
)
async def test_text_answers(flowise: FakeFlowise, text: str, summary: str) -> None:
    flowise.handlers = [reply({"text": text})]
    outcome = await explainer(flowise).explain(request())
    assert (outcome.status, outcome.summary) == ("ok", summary)


async def test_500_then_200_is_retried(flowise: FakeFlowise) -> None:
    flowise.handlers = [reply({"message": "model overloaded"}, 500), reply(GOOD)]
    outcome = await explainer(flowise).explain(request())
    assert outcome.status == "ok"
    assert len(flowise.received) == 2


async def test_429_honours_retry_after(flowise: FakeFlowise) -> None:
    flowise.handlers = [reply({"message": "slow down"}, 429, {"Retry-After": "0"}), reply(GOOD)]
    assert (await explainer(flowise).explain(request())).status == "ok"
    assert len(flowise.received) == 2


@pytest.mark.parametrize(
    ("handler", "reason", "calls"),
    [
        (reply({"message": "Unauthorized"}, 401), "unauthorized (HTTP 401)", 1),
        (
            reply(
                {"message": "Error: chatflowsService.getChatflowById - Chatflow flow-1 not found"},
                404,
            ),
            "flow not found (HTTP 404)",
            1,
        ),
        (reply({"message": "Unauthorized"}, 500), "unauthorized (HTTP 500)", 1),
        (reply({"message": "Error: model error"}, 500), "HTTP 500: Error: model error", 3),
        (raw(b"<html>gateway</html>"), "bad answer: not JSON", 1),
        (reply({"json": {"rootCause": "x"}}), "bad answer: summary: Field required", 1),
        (reply(["not", "an", "object"]), "bad answer: expected a JSON object, got list", 1),
        (raw(b"x" * 10_000_000), "answer too large (over 100000 bytes)", 1),
    ],
)
async def test_faults_fall_back_visibly(
    flowise: FakeFlowise, handler: Handler, reason: str, calls: int
) -> None:
    flowise.handlers = [handler]
    outcome = await explainer(flowise).explain(request())
    assert outcome.status == "unavailable"
    assert outcome.reason.startswith(reason)
    assert len(flowise.received) == calls


async def test_hanging_server_times_out_without_blocking_other_work(flowise: FakeFlowise) -> None:
    flowise.handlers = [hang(flowise)]
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.05)
            ticks += 1

    task = asyncio.create_task(ticker())
    outcome = await explainer(flowise, timeout=0.5).explain(request())
    task.cancel()
    assert (outcome.status, outcome.reason) == ("unavailable", "timeout after 0.5s")
    assert ticks >= 3  # the loop kept running while the call waited


async def test_connection_refused() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = FlowiseClient(f"http://127.0.0.1:{port}", "flow-1", timeout=2.0, max_retries=1)
    outcome = await FlowiseExplainer(client).explain(request())
    assert outcome.status == "unavailable" and outcome.reason.startswith("cannot connect")


async def test_circuit_breaker_opens_and_recovers(flowise: FakeFlowise) -> None:
    clock = [0.0]
    breaker = CircuitBreaker(failures=2, cooldown=60, clock=lambda: clock[0])
    bridge = FlowiseExplainer(
        FlowiseClient(flowise.url, "flow-1", timeout=2.0, max_retries=0, breaker=breaker)
    )
    flowise.handlers = [reply({"message": "boom"}, 500)]
    for key in ("a", "b"):
        assert (await bridge.explain(request(key))).status == "unavailable"
    outcome = await bridge.explain(request("c"))
    assert outcome.reason.startswith("circuit open")
    assert len(flowise.received) == 2  # skipped while open
    clock[0] = 61
    flowise.handlers = [reply(GOOD)]
    assert (await bridge.explain(request("d"))).status == "ok"
    assert (await bridge.explain(request("e"))).status == "ok"


async def test_answers_are_cached_per_key(flowise: FakeFlowise) -> None:
    flowise.handlers = [reply(GOOD)]
    bridge = explainer(flowise)
    first = await bridge.explain(request("same"))
    second = await bridge.explain(request("same"))
    assert first == second and len(flowise.received) == 1
    await bridge.explain(request("other"))
    assert len(flowise.received) == 2


def test_request_is_capped_in_bytes() -> None:
    big = request(question="q" * 1900)
    for limit in (8192, 2048, 1024):
        assert len(render_request(big, limit).encode()) <= limit


def test_build_explainer_only_when_configured() -> None:
    assert build_explainer(Settings(flowise_url="", flowise_flow_id="")) is None
    assert (
        build_explainer(Settings(flowise_url="http://127.0.0.1:3000", flowise_flow_id="abc"))
        is not None
    )


def test_conversation_and_cache_identities() -> None:
    """One conversation per subject and revision; one cached answer per question and cause."""
    base = request()
    assert session_id(base) == session_id(replace(base, question="another question"))
    assert session_id(base) != session_id(replace(base, subject="uid-2"))
    rolled = [replace(d, rollout=Rollout(revision=9, previous_revision=8)) for d in base.diagnoses]
    assert session_id(base) != session_id(replace(base, diagnoses=rolled))
    assert cache_key(base) != cache_key(replace(base, question="another question"))
    assert cache_key(base) != cache_key(replace(base, diagnoses=rolled))
    assert cache_key(base) == cache_key(request())


def test_an_answer_made_for_one_share_of_the_data_is_not_given_to_another() -> None:
    """An /assist caller who may not read logs never gets an answer made from them."""
    everything = request()
    no_logs = replace(everything, readers="Deployment,Pod,ReplicaSet;-logs;events")
    assert cache_key(no_logs) != cache_key(everything)
    assert session_id(no_logs) != session_id(everything)
    assert cache_key(no_logs) == cache_key(replace(no_logs, diagnoses=list(no_logs.diagnoses)))
