"""The Flowise explainer: one call per incident or question, answers cached, never raising.

When the flow may take troubleshooting steps (CONTRACT §11), each prediction carries a grant
of its own: a token that lasts this one request, with the rights of whoever asked, handed to
the flow with the ``/mcp`` URL as Flowise variables. The grant is revoked when the prediction
returns, whatever happened; the steps it recorded go with the outcome.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from highpeaks_agent import metrics
from highpeaks_agent.explain import ExplainOutcome, ExplainRequest
from highpeaks_agent.flowise.answer import BadAnswer, parse_answer
from highpeaks_agent.flowise.client import CircuitBreaker, FlowiseClient, FlowiseError
from highpeaks_agent.flowise.context import render_request
from highpeaks_agent.settings import Settings
from highpeaks_agent.ttlcache import TTLCache

if TYPE_CHECKING:  # `diagnose --explain` loads this module: no Kubernetes client with it
    from highpeaks_agent.flowise.grants import FlowGrants, Step


def session_id(request: ExplainRequest) -> str:
    """One flow conversation per subject and rollout revision (a flow with memory keeps the
    history of one incident together, and a new revision starts afresh); a caller who may
    read less than everything has conversations of their share only, and an /assist caller,
    whose rights the flow's steps read with, conversations of their own."""
    parts = (request.subject, str(_revision(request)))
    return _digest(*parts, *((request.readers,) if request.readers else ()), *_asker(request))[:32]


def cache_key(request: ExplainRequest) -> str:
    """Same subject, revision, root causes, question, share of the data and asker (the flow's
    steps read with the asker's rights, which may reach beyond the share): the same answer,
    without a call."""
    causes = ",".join(sorted({d.root_cause for d in request.diagnoses if d.findings}))
    return _digest(
        request.subject,
        str(_revision(request)),
        causes,
        request.question or "",
        request.readers,
        *_asker(request),
    )


def _asker(request: ExplainRequest) -> tuple[str, ...]:
    if request.asker is None:
        return ()
    return ("asker", request.asker.username, *sorted(request.asker.groups))


def _revision(request: ExplainRequest) -> int | None:
    return next((d.rollout.revision for d in request.diagnoses if d.rollout), None)


def _digest(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


#: The Flowise variables the shipped flow's Custom MCP node reads (``{{$vars.NAME}}``).
TOKEN_VARIABLE = "highpeaksFlowToken"
URL_VARIABLE = "highpeaksMcpUrl"
#: What Flowise's Tool Agent answers when its iterations run out before a final answer.
STOPPED_AT_BUDGET = "Agent stopped due to max iterations."
#: A grant outlives the prediction's deadline by this much, in case a revocation is missed.
GRANT_MARGIN_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class FlowTools:
    """The operator's ``/mcp`` as the flow reaches it, and how far one question may go."""

    grants: FlowGrants
    url: str
    max_steps: int
    grant_seconds: float

    def overrides(self, token: str) -> dict[str, Any]:
        """``overrideConfig`` entries: the variables, and the Tool Agent's iterations (the
        steps and one more for the answer)."""
        return {
            "vars": {TOKEN_VARIABLE: token, URL_VARIABLE: self.url},
            "maxIterations": self.max_steps + 1,
        }


class FlowiseExplainer:
    """Implements :class:`highpeaks_agent.explain.Explainer` on top of :class:`FlowiseClient`."""

    def __init__(
        self,
        client: FlowiseClient,
        *,
        max_request_bytes: int = 8192,
        cache_size: int = 256,
        cache_seconds: float = 3600.0,
        tools: FlowTools | None = None,
    ) -> None:
        self._client = client
        self._tools = tools
        self._max_request_bytes = max_request_bytes
        self._cache: TTLCache[str, ExplainOutcome] = TTLCache(cache_seconds, cache_size)

    async def explain(self, request: ExplainRequest) -> ExplainOutcome:
        key = cache_key(request)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        question = render_request(request, self._max_request_bytes)
        if self._tools is None:
            outcome = await self._ask(question, request, {})
        else:
            outcome = await self._ask_with_steps(question, request, self._tools)
        if outcome.status == "ok":
            self._cache.put(key, outcome)
        return outcome

    async def _ask_with_steps(
        self, question: str, request: ExplainRequest, tools: FlowTools
    ) -> ExplainOutcome:
        """One prediction under a grant of its own, revoked however the prediction ends."""
        token, grant = tools.grants.issue(
            namespace=request.namespace,
            user=request.asker,
            max_steps=tools.max_steps,
            ttl_seconds=tools.grant_seconds,
        )
        try:
            outcome = await self._ask(question, request, tools.overrides(token))
        finally:
            tools.grants.revoke(token)
        steps = tuple(grant.recorded())
        count_steps(steps)
        if outcome.status == "unavailable" and outcome.reason == STOPPED_AT_BUDGET:
            metrics.FLOWISE_ERRORS.labels("step_budget").inc()
            reason = f"the flow used its {tools.max_steps} steps without answering"
            outcome = dataclasses.replace(outcome, reason=reason)
        return dataclasses.replace(outcome, steps=steps)

    async def _ask(
        self, question: str, request: ExplainRequest, overrides: dict[str, Any]
    ) -> ExplainOutcome:
        try:
            body = await self._client.predict(question, session_id(request), overrides)
            if _stopped_at_budget(body):
                return ExplainOutcome(status="unavailable", reason=STOPPED_AT_BUDGET)
            answer = parse_answer(body)
        except FlowiseError as exc:
            return ExplainOutcome(status="unavailable", reason=str(exc))
        except BadAnswer as exc:
            metrics.FLOWISE_ERRORS.labels("bad_answer").inc()
            return ExplainOutcome(status="unavailable", reason=f"bad answer: {exc}")
        return ExplainOutcome(
            status="ok",
            summary=answer.summary,
            root_cause=answer.root_cause,
            recommendations=answer.recommendations,
            answer=answer.answer,
        )

    async def aclose(self) -> None:
        await self._client.aclose()


def _stopped_at_budget(body: Any) -> bool:
    return isinstance(body, dict) and str(body.get("text", "")).strip() == STOPPED_AT_BUDGET


def count_steps(steps: Iterable[Step]) -> None:
    """``highpeaks_agent_flow_steps_total``, once per step the flow took."""
    for step in steps:
        metrics.FLOW_STEPS.labels(step.tool, step.outcome).inc()


def build_explainer(
    settings: Settings, grants: FlowGrants | None = None
) -> FlowiseExplainer | None:
    """The explainer for these settings, or None when Flowise is not configured. With
    ``grants`` (the operator's, whose ``/mcp`` honours them) and ``FLOW_MAX_STEPS`` above 0,
    the flow may take troubleshooting steps; without (the CLI), it answers from the rules'
    evidence alone."""
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
    tools = None
    if grants is not None and settings.flow_max_steps > 0:
        tools = FlowTools(
            grants,
            url=settings.flow_tools_url,
            max_steps=settings.flow_max_steps,
            grant_seconds=settings.flowise_timeout_seconds + GRANT_MARGIN_SECONDS,
        )
    return FlowiseExplainer(
        client, max_request_bytes=settings.flowise_max_request_bytes, tools=tools
    )
