"""Polling until a condition holds, for tests that watch an operator act asynchronously."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def eventually(
    check: Callable[[], T],
    *,
    timeout: float = 30,
    interval: float = 0.2,
    what: str = "",
    expected: tuple[type[BaseException], ...] = (AssertionError, KeyError, StopIteration),
) -> T:
    """Call ``check`` until it returns something truthy; ``expected`` errors mean "not yet"."""
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except expected as exc:
            last = exc
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:g}s waiting for {what or check}: {last!r}")
