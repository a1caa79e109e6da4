"""``POST /alertmanager``: Alertmanager's webhook receiver, beside /assist.

Authentication: with ``ALERTMANAGER_TOKEN`` set, the bearer token Alertmanager sends
(``http_config.authorization``) must equal it (compared in constant time); otherwise the
caller is reviewed like /assist (TokenReview) and each alert's namespace needs ``create
agenttasks`` (SubjectAccessReview); with ``AUTH_MODE=none`` nobody is checked.

Answers follow Alertmanager's retry rule (2xx done, 5xx retried, 4xx dropped): 202 with one
result per alert (unscoped and unknown alerts included, with their reason), 4xx for a body
that will never be accepted, 503 when the API server did not answer (creating is idempotent,
so a retried group is safe).
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPBearer
from pydantic import BaseModel, ValidationError

from highpeaks_agent.alerts.intake import AlertIntake, AlertResult, Authorizer, TaskBusy
from highpeaks_agent.alerts.mapping import GROUP
from highpeaks_agent.alerts.payload import AlertGroup
from highpeaks_agent.engine.redact import redact_text
from highpeaks_agent.errors import AgentError, Unauthenticated
from highpeaks_agent.http.auth import Access, KubernetesAuth
from highpeaks_agent.http.models import ErrorResponse
from highpeaks_agent.http.openapi import (
    ALERTMANAGER_TOKEN,
    KUBERNETES_TOKEN,
    bearer,
    error_responses,
    json_body,
)
from highpeaks_agent.settings import Settings

log = logging.getLogger(__name__)


class AlertmanagerResponse(BaseModel):
    """One result per alert, in the order Alertmanager sent them."""

    results: list[dict[str, Any]]


def _error(
    status: int, kind: str, reason: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = ErrorResponse(error=kind, reason=redact_text(reason)).model_dump()
    return JSONResponse(body, status_code=status, headers=headers)


def alertmanager_router(
    settings: Settings, intake: AlertIntake, auth: KubernetesAuth | None
) -> APIRouter:
    """The route, built once from the shared intake and authenticator."""
    router = APIRouter()
    token = settings.alertmanager_token.get_secret_value().encode()
    if not token and auth is None:
        log.warning("no ALERTMANAGER_TOKEN and AUTH_MODE=none: /alertmanager accepts anyone")

    @router.post(
        "/alertmanager",
        status_code=202,
        response_model=AlertmanagerResponse,
        responses=error_responses(400, 401, 403, 413, 422, 503),
        openapi_extra=json_body(
            AlertGroup,
            "Alertmanager's webhook payload, version 4; a body over ALERTMANAGER_MAX_BODY_BYTES "
            "bytes or with more than ALERTMANAGER_MAX_ALERTS alerts is answered 413.",
        ),
        dependencies=bearer(_scheme(token, auth)),
    )
    async def alertmanager(request: Request) -> Response:
        """Receive a group of alerts (Alertmanager ``webhook_configs``, payload version 4)."""
        try:
            authorize = await _caller(request, token, auth)
        except Unauthenticated as exc:
            return _error(401, "Unauthorized", str(exc), {"WWW-Authenticate": "Bearer"})
        except Exception as exc:  # the TokenReview itself failed
            log.warning("/alertmanager could not review the caller: %s", redact_text(str(exc)))
            return _error(503, "AuthUnavailable", "the Kubernetes API did not answer the review")
        group = await _read_group(request, settings)
        if isinstance(group, JSONResponse):
            return group
        try:
            results = await intake.receive(group.alerts, authorize)
        except TaskBusy as exc:  # retried by Alertmanager once the diagnosis is written
            return _error(503, "TaskBusy", f"{exc}; retry", {"Retry-After": "10"})
        except AgentError as exc:
            return _error(422, "InvalidRequest", str(exc))
        except Exception as exc:  # the API server is unreachable or failing: retry later
            log.warning("/alertmanager could not write tasks: %s", redact_text(str(exc)))
            return _error(503, "ClusterUnavailable", "the Kubernetes API did not answer; retry")
        return JSONResponse({"results": [_result_json(r) for r in results]}, status_code=202)

    return router


def _scheme(token: bytes, auth: KubernetesAuth | None) -> HTTPBearer | None:
    """The bearer token the route asks for: Alertmanager's own, a Kubernetes one, or none."""
    if token:
        return ALERTMANAGER_TOKEN
    return None if auth is None else KUBERNETES_TOKEN


async def _caller(request: Request, token: bytes, auth: KubernetesAuth | None) -> Authorizer | None:
    """Check the caller; returns the per-namespace check still to make (None: no more checks)."""
    header = request.headers.get("authorization") or ""
    scheme, _, presented = header.partition(" ")
    if token:
        given = presented.strip().encode() if scheme.lower() == "bearer" else b""
        if not hmac.compare_digest(given, token):
            raise Unauthenticated("missing or wrong bearer token")
        return None
    if auth is None:
        return None
    user = await auth.authenticate(header or None)

    async def authorize(namespace: str) -> None:
        await auth.authorize(user, Access("create", "agenttasks", namespace, GROUP))

    return authorize


async def _read_group(request: Request, settings: Settings) -> AlertGroup | JSONResponse:
    """The body as an alert group, within the size and alert-count limits."""
    limit = settings.alertmanager_max_body_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return _error(413, "PayloadTooLarge", f"body over {limit} bytes")
    data = bytearray()
    async for chunk in request.stream():
        data.extend(chunk)
        if len(data) > limit:
            return _error(413, "PayloadTooLarge", f"body over {limit} bytes")
    try:
        body = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        return _error(400, "MalformedJSON", f"the body is not valid JSON: {exc}")
    alerts = body.get("alerts") if isinstance(body, dict) else None
    if isinstance(alerts, list) and len(alerts) > settings.alertmanager_max_alerts:
        return _error(
            413,
            "TooManyAlerts",
            f"{len(alerts)} alerts; at most {settings.alertmanager_max_alerts} per request "
            "(set max_alerts in the webhook config)",
        )
    try:
        return AlertGroup.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        return _error(422, "InvalidRequest", f"{where}: {first['msg']}")


def _result_json(result: AlertResult) -> dict[str, Any]:
    data: dict[str, Any] = {
        "fingerprint": result.fingerprint,
        "alertname": result.alertname,
        "status": result.status,
        "outcome": result.outcome,
    }
    for key in ("reason", "task", "namespace", "target"):
        value = getattr(result, key)
        if value:
            data[key] = value
    return data
