"""One tool call from start to answer: the step budget, the outcome, the record.

Every call ends in a :class:`~highpeaks_agent.mcp.toolbox.ToolAnswer` with an outcome — ``ok``,
``withheld`` (the caller may not read it: said, not an error), ``refused`` (outside what the
credential reaches), ``error`` (not found, a bad argument, the cluster not answering) or
``budget`` (a flow request's steps are spent). Under a flow grant the call first takes a step
of its budget, and is then recorded as the step ``status.steps[]`` shows: arguments and result
redacted, on one line, cut. The calls of one grant run one after another, so the budget
cannot be overrun by calls made at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import urllib3
from kubernetes.client.exceptions import ApiException

from highpeaks_agent import metrics
from highpeaks_agent.engine.redact import redact_text
from highpeaks_agent.errors import (
    AgentError,
    ClusterUnavailable,
    InvalidRequest,
    NotReadable,
    ReviewUnavailable,
    TargetNotFound,
    UnsupportedTarget,
)
from highpeaks_agent.flowise.grants import FlowGrant, Step
from highpeaks_agent.mcp.access import Caller, Refused, Withheld
from highpeaks_agent.mcp.shaping import as_json, one_line
from highpeaks_agent.mcp.toolbox import Outcome, ToolAnswer

log = logging.getLogger(__name__)
_API_FAILURES = (ApiException, urllib3.exceptions.HTTPError, OSError)

#: Expected failures and the outcome each is recorded as; the message is safe to show.
_OUTCOMES: tuple[tuple[type[AgentError], Outcome], ...] = (
    (Withheld, "withheld"),
    (Refused, "refused"),
    (TargetNotFound, "error"),
    (UnsupportedTarget, "error"),
    (InvalidRequest, "error"),
    (NotReadable, "error"),
    (ReviewUnavailable, "error"),
    (ClusterUnavailable, "error"),
)


class StepRunner:
    """Runs tool calls with their budget, outcome, record and metric."""

    def __init__(self) -> None:
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}

    async def run(
        self,
        caller: Caller,
        tool: str,
        arguments: dict[str, Any],
        call: Callable[[], Awaitable[ToolAnswer]],
    ) -> ToolAnswer:
        grant = caller.grant
        if grant is None:
            answer, _ = await _timed(call)
            metrics.MCP_TOOL_CALLS.labels(tool, answer.outcome).inc()
            return answer
        with self._one_at_a_time(grant) as lock:
            async with lock:
                if not grant.take_step():
                    answer = ToolAnswer(
                        f"step budget spent: this request may take at most {grant.max_steps} "
                        "steps; answer with what you have",
                        "budget",
                    )
                    _record_refusal_once(grant, tool, arguments, answer)
                else:
                    answer, took_ms = await _timed(call)
                    grant.record(_step(tool, arguments, answer, took_ms))
        metrics.MCP_TOOL_CALLS.labels(tool, answer.outcome).inc()
        return answer

    @contextmanager
    def _one_at_a_time(self, grant: FlowGrant) -> Iterator[asyncio.Lock]:
        """The grant's lock, dropped again when no call of the grant holds or awaits it."""
        key = id(grant)
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            yield lock
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


async def _timed(call: Callable[[], Awaitable[ToolAnswer]]) -> tuple[ToolAnswer, int]:
    started = time.monotonic()
    answer = await _answered(call)
    return answer, int((time.monotonic() - started) * 1000)


async def _answered(call: Callable[[], Awaitable[ToolAnswer]]) -> ToolAnswer:
    """The tool's answer, or what an expected failure says; a bug is logged and said briefly."""
    try:
        return await call()
    except AgentError as exc:
        for kind, outcome in _OUTCOMES:
            if isinstance(exc, kind):
                return ToolAnswer(redact_text(str(exc)), outcome)
        log.warning("a tool call failed: %s", redact_text(str(exc)))
        return ToolAnswer(redact_text(str(exc)), "error")
    except _API_FAILURES as exc:  # the API server failing: say so, stay up
        log.warning("a tool call could not read the cluster: %s", redact_text(str(exc)))
        return ToolAnswer("the Kubernetes API did not answer; try again", "error")
    except Exception:  # a bug: logged here, never a stack trace to the caller
        log.exception("a tool call failed")
        return ToolAnswer("the tool failed; see the operator's log", "error")


def _step(tool: str, arguments: dict[str, Any], answer: ToolAnswer, took_ms: int) -> Step:
    return Step(
        tool=tool,
        arguments=one_line(redact_text(as_json(arguments))),
        result=one_line(redact_text(answer.text)),
        duration_ms=took_ms,
        outcome=answer.outcome,
    )


def _record_refusal_once(
    grant: FlowGrant, tool: str, arguments: dict[str, Any], answer: ToolAnswer
) -> None:
    """The first call past the budget is recorded; a flow that keeps calling adds nothing."""
    steps = grant.recorded()
    if not steps or steps[-1].outcome != "budget":
        grant.record(_step(tool, arguments, answer, 0))
