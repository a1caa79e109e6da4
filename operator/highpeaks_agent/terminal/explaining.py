"""``diagnose --explain``: the Flowise flow explains the rules' diagnoses, as the operator's do.

The same bridge and ``FLOWISE_*`` settings as the operator (one request, at most
``FLOWISE_MAX_REQUEST_BYTES``, already redacted), asked once after the rules; what the flow
wrote is redacted again before it is shown. While it waits, a progress line counts the
seconds (on a terminal). There is no operator here, hence no ``/mcp`` for the flow's
troubleshooting steps: the flow answers from the rules' evidence alone, and the output says
so. When the flow cannot answer, the reason is one line on stderr and
the rules' report stands alone: the exit status never depends on the flow.
"""

from __future__ import annotations

import asyncio
import time

from highpeaks_agent.answer_guard import screen
from highpeaks_agent.engine.model import Diagnosis
from highpeaks_agent.explain import ExplainOutcome, ExplainRequest
from highpeaks_agent.settings import Settings
from highpeaks_agent.terminal.console import Console
from highpeaks_agent.terminal.gathered import Gathered

NOT_CONFIGURED = ExplainOutcome(
    status="disabled", reason="Flowise is not configured (set FLOWISE_URL and FLOWISE_FLOW_ID)"
)


def explain(
    diagnoses: list[Diagnosis], gathered: Gathered, settings: Settings, console: Console
) -> ExplainOutcome:
    """The flow's explanation of the failing ``diagnoses`` (redacted), or why there is none."""
    failing = [d for d in diagnoses if d.findings]
    if not failing:
        return ExplainOutcome(status="disabled", reason="nothing is failing: nothing to explain")
    if not settings.flowise_enabled:
        return NOT_CONFIGURED
    request = ExplainRequest(
        scope=gathered.scope, diagnoses=failing, question=None, subject=gathered.subject
    )
    outcome = asyncio.run(_ask(request, settings, console))
    if outcome.status != "ok":
        return outcome
    redact = gathered.snapshot.redactor.text
    redacted = ExplainOutcome(
        status="ok",
        summary=redact(outcome.summary),
        root_cause=outcome.root_cause,
        recommendations=[redact(step) for step in outcome.recommendations],
        answer=redact(outcome.answer),
        steps=outcome.steps,
    )
    # the flow explains, the rules decide: a contradicting or destructive answer is not shown
    # as if it were advice (CONTRACT §8)
    return screen(redacted, failing)


async def _ask(request: ExplainRequest, settings: Settings, console: Console) -> ExplainOutcome:
    from highpeaks_agent.flowise.bridge import build_explainer

    explainer = build_explainer(settings)
    assert explainer is not None  # flowise_enabled was checked
    ticker = asyncio.create_task(_tick(console, settings.flowise_url))
    try:
        return await explainer.explain(request)
    finally:
        ticker.cancel()
        console.clear()
        await explainer.aclose()


async def _tick(console: Console, url: str) -> None:
    started = time.monotonic()
    while True:
        elapsed = time.monotonic() - started
        console.progress(f"asking the Flowise flow at {url} to explain … {elapsed:.0f}s")
        await asyncio.sleep(1)
