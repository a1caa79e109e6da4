"""How expected errors are answered over HTTP: one table, by type; every body is JSON."""

from __future__ import annotations

import logging
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

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

log = logging.getLogger(__name__)

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


def install_error_handlers(app: FastAPI) -> None:
    """What the framework answers itself (unknown path, wrong method, a bug) as ``ErrorResponse``."""
    app.add_exception_handler(HTTPException, _http_exception)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)


async def _http_exception(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    kind = HTTPStatus(exc.status_code).phrase.replace(" ", "").replace("-", "")
    headers = dict(exc.headers) if exc.headers else None
    return error_response(exc.status_code, kind, str(exc.detail), headers)


async def _validation_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
    where = ".".join(str(p) for p in first["loc"]) or "request"
    return error_response(422, "InvalidRequest", f"{where}: {first['msg']}")


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    return error_response(500, "InternalError", "the request could not be answered")
