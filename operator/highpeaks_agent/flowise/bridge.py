"""The Flowise explainer: one call per incident or question, answers cached, never raising."""

from __future__ import annotations

import time
from collections import OrderedDict

from highpeaks_agent import metrics
from highpeaks_agent.explain import ExplainOutcome, ExplainRequest
from highpeaks_agent.flowise.answer import BadAnswer, parse_answer
from highpeaks_agent.flowise.client import CircuitBreaker, FlowiseClient, FlowiseError
from highpeaks_agent.flowise.context import render_request
from highpeaks_agent.settings import Settings


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
        self._cache: OrderedDict[str, tuple[float, ExplainOutcome]] = OrderedDict()
        self._cache_size = cache_size
        self._cache_seconds = cache_seconds

    async def explain(self, request: ExplainRequest) -> ExplainOutcome:
        cached = self._cache.get(request.cache_key)
        if cached is not None and time.monotonic() - cached[0] < self._cache_seconds:
            self._cache.move_to_end(request.cache_key)
            return cached[1]
        question = render_request(request, self._max_request_bytes)
        try:
            body = await self._client.predict(question, request.session_id)
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
        self._cache[request.cache_key] = (time.monotonic(), outcome)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
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
