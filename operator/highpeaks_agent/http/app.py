"""The HTTP surface: /health, /ready, /assist and /metrics (FastAPI, same loop as the operator).

Routes are thin: check the caller, check the body, call the diagnosis service, shape the
answer. Every failure is a JSON body with ``error`` and ``reason``.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import ValidationError

from highpeaks_agent import metrics
from highpeaks_agent.engine.kinds import BY_KIND, TARGET_KINDS
from highpeaks_agent.engine.redact import redact_text
from highpeaks_agent.errors import (
    AgentError,
    Forbidden,
    TargetNotFound,
    Unauthenticated,
    UnsupportedTarget,
)
from highpeaks_agent.http.auth import Access, KubernetesAuth, User
from highpeaks_agent.http.models import AssistRequest, AssistResponse, ErrorResponse
from highpeaks_agent.http.ratelimit import RateLimiter
from highpeaks_agent.readiness import Readiness
from highpeaks_agent.service import DiagnosisService
from highpeaks_agent.settings import Settings

log = logging.getLogger(__name__)

#: The resource and API group to check `get` on for each target kind.
TARGET_RESOURCES: dict[str, tuple[str, str]] = {
    kind: (BY_KIND[kind].plural, BY_KIND[kind].group) for kind in TARGET_KINDS
}


#: How each expected error is answered: (status, the body's ``error``, extra headers).
AGENT_ERRORS: dict[type[AgentError], tuple[int, str, dict[str, str]]] = {
    Unauthenticated: (401, "Unauthorized", {"WWW-Authenticate": "Bearer"}),
    Forbidden: (403, "Forbidden", {}),
    TargetNotFound: (404, "NotFound", {}),
    UnsupportedTarget: (422, "InvalidRequest", {}),
}


def error(
    status: int, kind: str, reason: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """A JSON error response, counted in the /assist metrics."""
    metrics.ASSIST_REQUESTS.labels(str(status)).inc()
    body = ErrorResponse(error=kind, reason=redact_text(reason)).model_dump()
    return JSONResponse(body, status_code=status, headers=headers)


def agent_error(exc: AgentError) -> JSONResponse:
    """The response for an expected error, by its type (the most specific entry wins)."""
    for kind in type(exc).__mro__:
        if kind in AGENT_ERRORS:
            status, name, headers = AGENT_ERRORS[kind]
            return error(status, name, str(exc), headers or None)
    return error(500, "InternalError", str(exc))


def create_app(
    settings: Settings,
    service: DiagnosisService,
    readiness: Readiness,
    auth: KubernetesAuth | None,
) -> FastAPI:
    """The application. ``auth`` is None only with ``AUTH_MODE=none`` (then nobody is checked).

    Built once at start-up from the shared services; nothing here holds per-request state
    except the bounded rate limiter.
    """
    if auth is None and settings.auth_mode != "none":
        raise ValueError("an authenticator is required unless AUTH_MODE=none")
    if auth is None:
        log.warning("AUTH_MODE=none: /assist answers anyone who can reach it")
    limiter = RateLimiter(settings.assist_rate_limit_per_minute, 60.0)
    app = FastAPI(title="highpeaks-devops-agent", version="0.1.0")

    @app.get("/health")
    async def health() -> dict[str, str]:
        """Liveness: answering at all means the process and its event loop are responsive."""
        return {"status": "ok"}

    @app.get("/ready", responses={503: {"model": ErrorResponse}})
    async def ready() -> Response:
        """Readiness: the operator is connected to the API server and watching."""
        ready, reason = await readiness.check()
        if ready:
            return JSONResponse({"status": "ready"})
        return JSONResponse({"error": "NotReady", "reason": reason}, status_code=503)

    @app.get("/metrics")
    async def prometheus_metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @app.post(
        "/assist",
        response_model=AssistResponse,
        responses={
            code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 413, 422, 429, 503)
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": AssistRequest.model_json_schema(
                            ref_template="#/components/schemas/{model}"
                        )
                    }
                },
            }
        },
    )
    async def assist(request: Request) -> Response:
        """Answer a question about a workload, or about a whole namespace."""
        user: User | None = None
        if auth is not None:
            try:
                user = await auth.authenticate(request.headers.get("authorization"))
            except AgentError as exc:
                return agent_error(exc)
        caller = user.username if user else (request.client.host if request.client else "anonymous")
        wait = limiter.check(caller)
        if wait is not None:
            return error(
                429,
                "TooManyRequests",
                f"at most {settings.assist_rate_limit_per_minute} requests a minute",
                {"Retry-After": str(int(wait) + 1)},
            )
        body = await _read_body(request, settings.assist_max_body_bytes)
        if isinstance(body, JSONResponse):
            return body
        try:
            payload = AssistRequest.model_validate(body)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "body"
            return error(422, "InvalidRequest", f"{where}: {first['msg']}")
        if len(payload.query) > settings.assist_max_query_chars:
            return error(
                422,
                "InvalidRequest",
                f"query: at most {settings.assist_max_query_chars} characters",
            )
        namespace = payload.namespace or settings.assist_default_namespace
        if auth is not None and user is not None:
            checks = [Access("get", "pods", namespace)]
            if payload.target is not None:
                resource, group = TARGET_RESOURCES[payload.target.kind]
                checks.append(Access("get", resource, namespace, group, payload.target.name))
            try:
                for check in checks:
                    await auth.authorize(user, check)
            except AgentError as exc:
                return agent_error(exc)
        return await _answer(service, payload, namespace)

    return app


async def _read_body(request: Request, limit: int) -> Any:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return error(413, "PayloadTooLarge", f"body over {limit} bytes")
    data = bytearray()
    async for chunk in request.stream():
        data.extend(chunk)
        if len(data) > limit:
            return error(413, "PayloadTooLarge", f"body over {limit} bytes")
    try:
        return json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return error(400, "MalformedJSON", f"the body is not valid JSON: {exc}")
    except RecursionError:
        return error(400, "MalformedJSON", "the body is nested too deeply")


async def _answer(service: DiagnosisService, payload: AssistRequest, namespace: str) -> Response:
    try:
        if payload.target is not None:
            diagnosed = await service.diagnose_target(
                namespace, payload.target.kind, payload.target.name, trigger="assist"
            )
        else:
            diagnosed = await service.diagnose_namespace(namespace, trigger="assist")
        report = await service.explain(diagnosed, question=payload.query)
    except AgentError as exc:
        return agent_error(exc)
    except Exception as exc:  # the API server is unreachable or failing: say so, stay up
        log.warning("/assist could not read the cluster: %s", redact_text(str(exc)))
        return error(503, "ClusterUnavailable", "the Kubernetes API did not answer; try again")
    metrics.ASSIST_REQUESTS.labels("200").inc()
    response = AssistResponse(
        answer=report.answer,
        diagnoses=[d.to_json_dict() for d in report.diagnoses if d.findings or payload.target],
        source=report.source,
        namespace=namespace,
        recommendations=report.recommendations,
    )
    return JSONResponse(response.model_dump())
