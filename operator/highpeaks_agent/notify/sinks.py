"""Where notifications go: one POST of JSON to a URL, and what its answer means.

The URL is a secret (a Slack incoming-webhook URL is its own credential), so it is never
logged or put in an error: failures name the sink and the HTTP status only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from highpeaks_agent.notify.incident import Incident
from highpeaks_agent.notify.messages import slack_message, webhook_body

#: Longest wait a sink's Retry-After may ask for before the next try.
MAX_RETRY_AFTER = 60.0


class Undelivered(Exception):
    """A send that failed; ``retryable`` for 5xx, 429, timeouts and connection errors."""

    def __init__(self, detail: str, *, retryable: bool, retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.retryable = retryable
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Sink:
    """A named destination and the message shape it takes."""

    name: str
    url: str
    build: Callable[[Incident], dict[str, Any]]

    def __repr__(self) -> str:  # never show the URL
        return f"Sink({self.name})"

    async def send(self, http: httpx.AsyncClient, incident: Incident) -> None:
        """POST the message; raises :class:`Undelivered` unless the sink answered 2xx."""
        await self.post(http, self.build(incident))

    async def post(self, http: httpx.AsyncClient, body: dict[str, Any]) -> None:
        """POST any message of this sink's shape (an action's record, too)."""
        try:
            response = await http.post(self.url, json=body)
        except httpx.TimeoutException as exc:
            raise Undelivered(f"{self.name}: timed out", retryable=True) from exc
        except httpx.HTTPError as exc:
            raise Undelivered(f"{self.name}: {type(exc).__name__}", retryable=True) from exc
        if 200 <= response.status_code < 300:
            return
        code = response.status_code
        retryable = code == 429 or code >= 500
        raise Undelivered(
            f"{self.name}: HTTP {code}",
            retryable=retryable,
            retry_after=_retry_after(response) if retryable else None,
        )


def webhook_sink(url: str) -> Sink:
    return Sink("webhook", url, webhook_body)


def slack_sink(url: str) -> Sink:
    return Sink("slack", url, slack_message)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    try:
        return min(max(float(value), 0.0), MAX_RETRY_AFTER)
    except ValueError:
        return None
