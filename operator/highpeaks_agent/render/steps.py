"""The flow's troubleshooting steps as ``status.steps[]`` entries and as text (CONTRACT §11).

Each step is already one line, redacted and cut where it was recorded; these only lay it out.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol


class StepLike(Protocol):
    """One recorded tool call (``highpeaks_agent.flowise.grants.Step``)."""

    @property
    def tool(self) -> str: ...
    @property
    def arguments(self) -> str: ...
    @property
    def result(self) -> str: ...
    @property
    def duration_ms(self) -> int: ...
    @property
    def outcome(self) -> str: ...


def status_steps(steps: Iterable[StepLike]) -> list[dict[str, Any]]:
    """``status.steps[]``: tool, arguments, result in one line, durationMs."""
    return [
        {
            "tool": step.tool,
            "arguments": step.arguments,
            "result": _result(step),
            "durationMs": step.duration_ms,
        }
        for step in steps
    ]


def step_lines(steps: Iterable[StepLike]) -> list[str]:
    """One line per step: ``1. logs(pod=…) → result (120 ms)``."""
    return [
        f"{number}. {step.tool}({step.arguments}) → {_result(step)} ({step.duration_ms} ms)"
        for number, step in enumerate(steps, 1)
    ]


def _result(step: StepLike) -> str:
    """The result, saying so when the call did not read anything (refused, withheld …)."""
    if step.outcome == "ok" or step.result.startswith(f"{step.outcome}:"):
        return step.result
    return f"{step.outcome}: {step.result}" if step.result else step.outcome
