"""Credentials that last one flow request (CONTRACT §11).

When the flow may take troubleshooting steps, the operator issues a grant for that one
prediction: a random bearer token the flow sends to ``/mcp``, carrying the rights of whoever
asked — the /assist caller's own (``user``), or, for an AgentTask or an incident, read access
to the task's namespace only (``user`` is None, ``namespace`` bounds it). The grant counts the
steps the flow takes, refuses the one past ``max_steps``, and keeps their record for
``status.steps[]``. It expires with the request: revoked when the prediction returns, and in
any case after ``ttl_seconds``. Only a hash of the token is kept as the key.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from highpeaks_agent.http.auth import User

#: Grants alive at once, at most: a flood of predictions cannot grow memory without bound.
MAX_LIVE_GRANTS = 1000


@dataclass(frozen=True, slots=True)
class Step:
    """One tool call the flow made, as ``status.steps[]`` shows it."""

    tool: str
    arguments: str  # one line, redacted
    result: str  # one line, redacted and cut
    duration_ms: int
    outcome: str = "ok"  # ok, withheld, refused, error, budget


@dataclass(slots=True)
class FlowGrant:
    """What one flow request may read, and the steps it took."""

    namespace: str
    user: User | None
    max_steps: int
    expires_at: float
    steps: list[Step] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def on_behalf_of_caller(self) -> bool:
        """True for an /assist caller's own rights; False for namespace-only task reads."""
        return self.user is not None

    def take_step(self) -> bool:
        """Count one more step; False when the budget is spent (the call must be refused)."""
        with self._lock:
            return len(self.steps) < self.max_steps

    def record(self, step: Step) -> None:
        with self._lock:
            self.steps.append(step)

    def recorded(self) -> list[Step]:
        with self._lock:
            return list(self.steps)


def _key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class FlowGrants:
    """The live grants, keyed by a hash of their token."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._grants: dict[str, FlowGrant] = {}
        self._lock = threading.Lock()

    def issue(
        self, *, namespace: str, user: User | None, max_steps: int, ttl_seconds: float
    ) -> tuple[str, FlowGrant]:
        """A new token and its grant; the caller revokes it when the request is over."""
        token = "hpflow_" + secrets.token_urlsafe(32)
        grant = FlowGrant(namespace, user, max_steps, self._clock() + ttl_seconds)
        with self._lock:
            self._drop_expired()
            if len(self._grants) >= MAX_LIVE_GRANTS:
                oldest = min(self._grants, key=lambda k: self._grants[k].expires_at)
                del self._grants[oldest]
            self._grants[_key(token)] = grant
        return token, grant

    def lookup(self, token: str) -> FlowGrant | None:
        """The live grant for ``token``, or None (unknown, revoked or expired)."""
        with self._lock:
            grant = self._grants.get(_key(token))
            if grant is None or grant.expires_at <= self._clock():
                return None
            return grant

    def revoke(self, token: str) -> None:
        with self._lock:
            self._grants.pop(_key(token), None)

    def _drop_expired(self) -> None:
        now = self._clock()
        for key in [k for k, g in self._grants.items() if g.expires_at <= now]:
            del self._grants[key]
