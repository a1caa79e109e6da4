"""Readiness: marked by the operator once it watches, answered by the HTTP surface (/ready)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

#: How long one API reachability check answers /ready (kubelet probes every few seconds).
PROBE_CACHE_SECONDS = 5.0


@dataclass
class Readiness:
    """Whether the operator is connected to the API server and its watches are running.

    The operator marks it ready once Kopf has started; ``/ready`` then also checks, at most
    every few seconds, that the API server still answers (``api_probe`` raises when not), so
    a pod cut off from the API server stops receiving traffic and comes back by itself.
    """

    ready: bool = False
    reason: str = "starting: not yet connected to the Kubernetes API"
    api_probe: Callable[[], Awaitable[None]] | None = None
    _checked_at: float = field(default=-1e9, repr=False)
    _probe_error: str | None = field(default=None, repr=False)

    def mark_ready(self) -> None:
        self.ready = True
        self.reason = "connected and watching"

    def mark_unready(self, reason: str) -> None:
        self.ready = False
        self.reason = reason

    async def check(self) -> tuple[bool, str]:
        """(ready, reason) for /ready."""
        if not self.ready:
            return False, self.reason
        if self.api_probe is None:
            return True, self.reason
        now = time.monotonic()
        if now - self._checked_at >= PROBE_CACHE_SECONDS:
            self._checked_at = now
            try:
                await self.api_probe()
                self._probe_error = None
            except Exception as exc:
                first_line = (str(exc).strip().splitlines() or [""])[0]
                self._probe_error = (
                    f"Kubernetes API unreachable: {type(exc).__name__} {first_line}"[:300]
                )
        if self._probe_error:
            return False, self._probe_error
        return True, self.reason
