"""The Flowise explainer: one call per incident or question, answers cached, never raising."""

from __future__ import annotations

import hashlib

from highpeaks_agent import metrics
from highpeaks_agent.explain import ExplainOutcome, ExplainRequest
from highpeaks_agent.flowise.answer import BadAnswer, parse_answer
from highpeaks_agent.flowise.client import CircuitBreaker, FlowiseClient, FlowiseError
from highpeaks_agent.flowise.context import render_request
from highpeaks_agent.settings import Settings
from highpeaks_agent.ttlcache import TTLCache


def session_id(request: ExplainRequest) -> str:
    """One flow conversation per subject and rollout revision (a flow with memory keeps the
    history of one incident together, and a new revision starts afresh); a caller who may
    read less than everything has conversations of their share only."""
    parts = (request.subject, str(_revision(request)))
    return _digest(*parts, *((request.readers,) if request.readers else ()))[:32]


def cache_key(request: ExplainRequest) -> str:
    """Same subject, revision, root causes, question and share of the data: the same answer,
    without a call."""
    causes = ",".join(sorted({d.root_cause for d in request.diagnoses if d.findings}))
    return _digest(
        request.subject, str(_revision(request)), causes, request.question or "", request.readers
    )


def _revision(request: ExplainRequest) -> int | None:
    return next((d.rollout.revision for d in request.diagnoses if d.rollout), None)


def _digest(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


class FlowiseExplainer:
    """Implements :class:`highpeaks_agent.explain.Explainer` on top of :class:`FlowiseClient`."""

    def __init__(
        self,
        client: FlowiseClient,
        *,
        max_request_bytes: int = 8192,
        cache_size: int = 256,
        cache_seconds: float = 3600.0,
    ) -> None:
        self._client = client
        self._max_request_bytes = max_request_bytes
        self._cache: TTLCache[str, ExplainOutcome] = TTLCache(cache_seconds, cache_size)

    async def explain(self, request: ExplainRequest) -> ExplainOutcome:
        key = cache_key(request)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        question = render_request(request, self._max_request_bytes)
        try:
            body = await self._client.predict(question, session_id(request))
            answer = parse_answer(body)
        except FlowiseError as exc:
            return ExplainOutcome(status="unavailable", reason=str(exc))
        except BadAnswer as exc:
            metrics.FLOWISE_ERRORS.labels("bad_answer").inc()
            return ExplainOutcome(status="unavailable", reason=f"bad answer: {exc}")
        outcome = ExplainOutcome(
            status="ok",
            summary=answer.summary,
            root_cause=answer.root_cause,
            recommendations=answer.recommendations,
            answer=answer.answer,
        )
        self._cache.put(key, outcome)
        return outcome

    async def aclose(self) -> None:
        await self._client.aclose()


def build_explainer(settings: Settings) -> FlowiseExplainer | None:
    """The explainer for these settings, or None when Flowise is not configured."""
    if not settings.flowise_enabled:
        return None
    client = FlowiseClient(
        settings.flowise_url,
        settings.flowise_flow_id,
        api_key=settings.flowise_api_key.get_secret_value(),
        timeout=settings.flowise_timeout_seconds,
        connect_timeout=settings.flowise_connect_timeout_seconds,
        max_retries=settings.flowise_max_retries,
        breaker=CircuitBreaker(
            failures=settings.flowise_breaker_failures,
            cooldown=settings.flowise_breaker_cooldown_seconds,
        ),
        max_concurrency=settings.flowise_max_concurrency,
        max_response_bytes=settings.flowise_max_response_bytes,
    )
    return FlowiseExplainer(client, max_request_bytes=settings.flowise_max_request_bytes)
