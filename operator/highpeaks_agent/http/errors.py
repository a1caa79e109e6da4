"""How expected errors are answered over HTTP: one table, by type; every body is JSON."""

from __future__ import annotations

from fastapi.responses import JSONResponse

from highpeaks_agent.engine.redact import redact_text
from highpeaks_agent.errors import (
    AgentError,
    ClusterUnavailable,
    Forbidden,
    InvalidRequest,
    MalformedBody,
    PayloadTooLarge,
    ReviewUnavailable,
    TargetNotFound,
    TooManyRequests,
    Unauthenticated,
    UnsupportedTarget,
)
from highpeaks_agent.http.models import ErrorResponse

#: (status, the body's ``error``) for each expected error; the most specific type wins.
AGENT_ERRORS: dict[type[AgentError], tuple[int, str]] = {
    MalformedBody: (400, "MalformedJSON"),
    Unauthenticated: (401, "Unauthorized"),
    Forbidden: (403, "Forbidden"),
    TargetNotFound: (404, "NotFound"),
    PayloadTooLarge: (413, "PayloadTooLarge"),
    InvalidRequest: (422, "InvalidRequest"),
    UnsupportedTarget: (422, "InvalidRequest"),
    TooManyRequests: (429, "TooManyRequests"),
    ClusterUnavailable: (503, "ClusterUnavailable"),
    ReviewUnavailable: (503, "ReviewUnavailable"),
}


def error_response(
    status: int, kind: str, reason: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """A JSON error body (``error``, ``reason``); the reason is redacted."""
    body = ErrorResponse(error=kind, reason=redact_text(reason)).model_dump()
    return JSONResponse(body, status_code=status, headers=headers or None)


def agent_error(exc: AgentError) -> JSONResponse:
    """The response for an expected error, by its type."""
    for kind in type(exc).__mro__:
        if kind in AGENT_ERRORS:
            status, name = AGENT_ERRORS[kind]
            return error_response(status, name, str(exc), exc.headers)
    return error_response(500, "InternalError", str(exc))
