"""A hardened client for Flowise's prediction API.

Flowise has no prediction timeout of its own and answers every failure with HTTP 500, so
this client bounds everything itself: a total deadline over all attempts, retries with
jittered backoff only where a retry can help (connection errors, 5xx, 429 with Retry-After),
a circuit breaker that stops calling a dead server, a concurrency limit and a cap on the
answer's size. It never raises to its caller: it returns a result or a short reason.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from highpeaks_agent import metrics, tracing


class FlowiseError(Exception):
    """One failed prediction call; ``kind`` is a metrics label, ``str()`` the reason shown."""

    def __init__(
        self, kind: str, reason: str, *, retry: bool = False, after: float | None = None
    ) -> None:
        super().__init__(reason)
        self.kind = kind
        self.retry = retry
        self.after = after


@dataclass
class CircuitBreaker:
    """Open after ``failures`` consecutive failures; one trial call after ``cooldown`` s."""

    failures: int
    cooldown: float
    clock: Callable[[], float] = time.monotonic
    _consecutive: int = 0
    _opened_at: float | None = None
    _trial_running: bool = False

    def allow(self) -> bool:
        if self._opened_at is None:
            return True
        if self._trial_running or self.clock() - self._opened_at < self.cooldown:
            return False
        self._trial_running = True  # half-open: let exactly one call through
        return True

    def success(self) -> None:
        self._consecutive = 0
        self._opened_at = None
        self._trial_running = False

    def failure(self) -> None:
        self._consecutive += 1
        self._trial_running = False
        if self._opened_at is not None or self._consecutive >= self.failures:
            self._opened_at = self.clock()


class FlowiseClient:
    """POSTs to ``{url}/api/v1/prediction/{flow_id}``; one instance per process."""

    def __init__(
        self,
        url: str,
        flow_id: str,
        *,
        api_key: str = "",
        timeout: float = 30.0,
        connect_timeout: float = 5.0,
        max_retries: int = 2,
        breaker: CircuitBreaker | None = None,
        max_concurrency: int = 4,
        max_response_bytes: int = 1_000_000,
    ) -> None:
        self._endpoint = f"{url.rstrip('/')}/api/v1/prediction/{flow_id}"
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.AsyncClient(
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            follow_redirects=False,
        )
        self._timeout = timeout
        self._max_retries = max_retries
        self._breaker = breaker or CircuitBreaker(failures=5, cooldown=60.0)
        self._limit = asyncio.Semaphore(max_concurrency)
        self._max_bytes = max_response_bytes

    async def aclose(self) -> None:
        await self._http.aclose()

    async def predict(
        self, question: str, session_id: str, overrides: Mapping[str, Any] | None = None
    ) -> Any:
        """The decoded JSON answer; raises :class:`FlowiseError` with a short reason.

        ``overrides`` join the session id in ``overrideConfig`` (the flow's ``vars`` and node
        settings its API configuration lets a caller override)."""
        if not self._breaker.allow():
            metrics.FLOWISE_ERRORS.labels("circuit_open").inc()
            raise FlowiseError(
                "circuit_open", "circuit open: Flowise failed repeatedly, skipped for now"
            )
        body = {
            "question": question,
            "overrideConfig": {**(overrides or {}), "sessionId": session_id},
        }
        started = time.monotonic()
        try:
            with tracing.span("flowise.predict"):
                async with self._limit, asyncio.timeout(self._timeout):
                    result = await self._with_retries(body)
        except TimeoutError:
            error = FlowiseError("timeout", f"timeout after {self._timeout:g}s")
        except FlowiseError as exc:
            error = exc
        else:
            self._breaker.success()
            metrics.FLOWISE_LATENCY.observe(time.monotonic() - started)
            return result
        self._breaker.failure()
        metrics.FLOWISE_LATENCY.observe(time.monotonic() - started)
        metrics.FLOWISE_ERRORS.labels(error.kind).inc()
        raise error

    async def _with_retries(self, body: dict[str, Any]) -> Any:
        attempt = 0
        while True:
            try:
                return await self._attempt(body)
            except FlowiseError as exc:
                if not exc.retry or attempt >= self._max_retries:
                    raise
                delay = exc.after if exc.after is not None else 0.2 * 2**attempt
                await asyncio.sleep(delay * (0.5 + random.random() / 2))
                attempt += 1

    async def _attempt(self, body: dict[str, Any]) -> Any:
        try:
            async with self._http.stream("POST", self._endpoint, json=body) as response:
                raw = bytearray()
                async for chunk in response.aiter_bytes():
                    raw.extend(chunk)
                    if len(raw) > self._max_bytes:
                        raise FlowiseError(
                            "too_large", f"answer too large (over {self._max_bytes} bytes)"
                        )
                status = response.status_code
                retry_after = response.headers.get("retry-after")
        except httpx.ConnectError as exc:
            raise FlowiseError("connect", f"cannot connect: {exc}", retry=True) from exc
        except httpx.TimeoutException as exc:
            raise FlowiseError("timeout", f"timeout ({type(exc).__name__})", retry=True) from exc
        except httpx.HTTPError as exc:
            raise FlowiseError("connect", f"HTTP error: {exc}", retry=True) from exc
        if status >= 400:
            raise _http_error(status, bytes(raw), retry_after)
        try:
            return json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise FlowiseError("bad_answer", "bad answer: not JSON") from exc


def _http_error(status: int, raw: bytes, retry_after: str | None) -> FlowiseError:
    message = ""
    try:
        decoded = json.loads(raw)
        if isinstance(decoded, dict):
            message = str(decoded.get("message") or decoded.get("error") or "")[:200]
    except (json.JSONDecodeError, UnicodeDecodeError):
        message = ""
    detail = f": {message}" if message else ""
    if status == 401 or (status == 500 and "unauthorized" in message.lower()):
        return FlowiseError("unauthorized", f"unauthorized (HTTP {status}){detail}")
    if status == 404:
        return FlowiseError("http_4xx", f"flow not found (HTTP 404){detail}")
    if status == 429:
        after = _seconds(retry_after)
        return FlowiseError("http_4xx", "rate limited (HTTP 429)", retry=True, after=after)
    if status >= 500:
        return FlowiseError("http_5xx", f"HTTP {status}{detail}", retry=True)
    return FlowiseError("http_4xx", f"HTTP {status}{detail}")


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
