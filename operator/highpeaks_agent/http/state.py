"""What the routes share, built once at start-up and kept on the application."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from highpeaks_agent.flowise.grants import FlowGrants
from highpeaks_agent.http.auth import KubernetesAuth
from highpeaks_agent.http.ratelimit import RateLimiter
from highpeaks_agent.readiness import Readiness
from highpeaks_agent.service import DiagnosisService
from highpeaks_agent.settings import Settings


@dataclass(frozen=True, slots=True)
class HttpServices:
    """The services behind the routes; ``auth`` is None only with ``AUTH_MODE=none``."""

    settings: Settings
    service: DiagnosisService
    readiness: Readiness
    auth: KubernetesAuth | None
    limiter: RateLimiter
    """Per authenticated user."""
    unauthenticated_limiter: RateLimiter
    """Per client address, for requests whose token is not known yet: before any TokenReview
    (/assist and /mcp count together)."""
    grants: FlowGrants
    """The flow's one-request credentials, accepted by /mcp (the same object as the
    operator's ``Services.grants``)."""


def services(request: Request) -> HttpServices:
    """FastAPI dependency: the application's services."""
    state: HttpServices = request.app.state.services
    return state
