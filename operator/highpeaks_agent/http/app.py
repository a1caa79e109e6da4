"""The HTTP surface: /health, /ready, /metrics and /assist (FastAPI, same loop as the operator).

The OpenAPI 3.1 document at ``/openapi.json`` (``http/openapi.py``) names each route's body,
auth scheme and error bodies.

Routes live in their own modules and are thin: check the caller, check the body, call the
diagnosis service, shape the answer. Every failure is a JSON body with ``error`` and
``reason`` (``http/errors.py``).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI

from highpeaks_agent.http import assist, probes
from highpeaks_agent.http.auth import KubernetesAuth
from highpeaks_agent.http.errors import install_error_handlers
from highpeaks_agent.http.openapi import KUBERNETES_TOKEN, bearer, publish_request_models
from highpeaks_agent.http.ratelimit import RateLimiter
from highpeaks_agent.http.state import HttpServices
from highpeaks_agent.readiness import Readiness
from highpeaks_agent.service import DiagnosisService
from highpeaks_agent.settings import Settings

log = logging.getLogger(__name__)


def create_app(
    settings: Settings,
    service: DiagnosisService,
    readiness: Readiness,
    auth: KubernetesAuth | None,
) -> FastAPI:
    """The application. ``auth`` is None only with ``AUTH_MODE=none`` (then nobody is checked).

    Built once at start-up from the shared services; nothing here holds per-request state
    except the bounded rate limiters.
    """
    if auth is None and settings.auth_mode != "none":
        raise ValueError("an authenticator is required unless AUTH_MODE=none")
    if auth is None:
        log.warning("AUTH_MODE=none: /assist answers anyone who can reach it")
    app = FastAPI(title="highpeaks-devops-agent", version="0.1.0")
    app.state.services = HttpServices(
        settings=settings,
        service=service,
        readiness=readiness,
        auth=auth,
        limiter=RateLimiter(settings.assist_rate_limit_per_minute, 60.0),
        unauthenticated_limiter=RateLimiter(
            settings.assist_unauthenticated_rate_limit_per_minute, 60.0
        ),
    )
    install_error_handlers(app)
    publish_request_models(app, {("AssistRequest", "query"): settings.assist_max_query_chars})
    app.include_router(probes.router)
    app.include_router(assist.router, dependencies=bearer(KUBERNETES_TOKEN if auth else None))
    return app
