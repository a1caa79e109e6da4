"""The HTTP surface: /health, /ready, /metrics, /assist and /mcp (FastAPI, same loop as the operator).

The OpenAPI 3.1 document at ``/openapi.json`` (``http/openapi.py``) names each route's body,
auth scheme and error bodies.

Routes live in their own modules and are thin: check the caller, check the body, call the
diagnosis service, shape the answer. Every failure is a JSON body with ``error`` and
``reason`` (``http/errors.py``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from fastapi import FastAPI
from starlette.routing import Route

from highpeaks_agent.flowise.grants import FlowGrants
from highpeaks_agent.http import assist, probes
from highpeaks_agent.http.auth import KubernetesAuth
from highpeaks_agent.http.errors import install_error_handlers
from highpeaks_agent.http.openapi import KUBERNETES_TOKEN, bearer, publish_request_models
from highpeaks_agent.http.ratelimit import RateLimiter
from highpeaks_agent.http.state import HttpServices
from highpeaks_agent.mcp.gate import McpGate
from highpeaks_agent.mcp.lazy import PATH as MCP_PATH
from highpeaks_agent.mcp.lazy import LazyMcp
from highpeaks_agent.readiness import Readiness
from highpeaks_agent.service import DiagnosisService
from highpeaks_agent.settings import Settings
from highpeaks_agent.sources.live import LiveSource

if TYPE_CHECKING:
    from highpeaks_agent.mcp.server import McpTransport

log = logging.getLogger(__name__)


def create_app(
    settings: Settings,
    service: DiagnosisService,
    readiness: Readiness,
    auth: KubernetesAuth | None,
    *,
    live: LiveSource | None = None,
    grants: FlowGrants | None = None,
) -> FastAPI:
    """The application. ``auth`` is None only with ``AUTH_MODE=none`` (then nobody is checked).

    Built once at start-up from the shared services; nothing here holds per-request state
    except the bounded rate limiters. With the live source, ``/mcp`` serves the tools
    (``mcp/``); ``grants`` are the flow's one-request credentials it accepts.
    """
    if auth is None and settings.auth_mode != "none":
        raise ValueError("an authenticator is required unless AUTH_MODE=none")
    if auth is None:
        log.warning("AUTH_MODE=none: /assist and /mcp answer anyone who can reach them")
    grants = grants if grants is not None else FlowGrants()
    unauthenticated = RateLimiter(settings.assist_unauthenticated_rate_limit_per_minute, 60.0)
    mcp = _mcp(settings, service, live, auth) if live is not None else None
    app = FastAPI(
        title="highpeaks-devops-agent",
        version="0.1.0",
        lifespan=mcp.lifespan if mcp is not None else None,
    )
    app.state.services = HttpServices(
        settings=settings,
        service=service,
        readiness=readiness,
        auth=auth,
        limiter=RateLimiter(settings.assist_rate_limit_per_minute, 60.0),
        unauthenticated_limiter=unauthenticated,
        grants=grants,
    )
    install_error_handlers(app)
    publish_request_models(app, {("AssistRequest", "query"): settings.assist_max_query_chars})
    app.include_router(probes.router)
    app.include_router(assist.router, dependencies=bearer(KUBERNETES_TOKEN if auth else None))
    if mcp is not None:
        # an ASGI app of its own (the SDK's transport), so not in the OpenAPI document; POST
        # only: stateless, it never sends a message unasked (no GET stream, no session to DELETE)
        gate = McpGate(
            mcp,
            auth=auth,
            grants=grants,
            per_user=RateLimiter(settings.assist_rate_limit_per_minute, 60.0),
            unauthenticated=unauthenticated,
            max_body_bytes=settings.assist_max_body_bytes,
        )
        app.router.routes.append(Route(MCP_PATH, gate, methods=["POST"], include_in_schema=False))
    return app


def _mcp(
    settings: Settings, service: DiagnosisService, live: LiveSource, auth: KubernetesAuth | None
) -> LazyMcp:
    """/mcp's transport, built (and the SDK imported) on the first request the gate passes."""

    def build() -> McpTransport:
        from highpeaks_agent.mcp.server import McpTransport

        return McpTransport(settings, service, live, auth, MCP_PATH)

    return LazyMcp(build)
