"""POST /assist: a question about a workload or a namespace, answered by the diagnosis service.

The route is a straight line — who asks, within their rate, with a valid body, allowed to
read it — and every way it can stop is an :class:`AgentError` answered from one table.
A caller is answered from what they may read themselves (``http/rights.py``), never from what
the operator may read. A caller whose token is not known yet is first held to a per-address
rate, so a flood of made-up tokens costs the API server a bounded number of TokenReviews.
"""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError

from highpeaks_agent import metrics
from highpeaks_agent.engine.kinds import BY_KIND, TARGET_KINDS
from highpeaks_agent.engine.redact import redact_text
from highpeaks_agent.errors import (
    AgentError,
    ClusterUnavailable,
    InvalidRequest,
    MalformedBody,
    PayloadTooLarge,
    TooManyRequests,
)
from highpeaks_agent.http.auth import KubernetesAuth, User
from highpeaks_agent.http.errors import agent_error, error_response
from highpeaks_agent.http.models import AssistRequest, AssistResponse
from highpeaks_agent.http.openapi import error_responses, json_body
from highpeaks_agent.http.rights import namespace_visibility, target_visibility
from highpeaks_agent.http.state import HttpServices, services
from highpeaks_agent.render.steps import status_steps
from highpeaks_agent.service import Report
from highpeaks_agent.visibility import EVERYTHING, Visibility

log = logging.getLogger(__name__)
router = APIRouter()

#: The resource and API group to check `get` on for each target kind.
TARGET_RESOURCES: dict[str, tuple[str, str]] = {
    kind: (BY_KIND[kind].plural, BY_KIND[kind].group) for kind in TARGET_KINDS
}


@router.post(
    "/assist",
    response_model=AssistResponse,
    responses=error_responses(400, 401, 403, 404, 413, 422, 429, 500, 503),
    openapi_extra=json_body(
        AssistRequest, "A question; a body over ASSIST_MAX_BODY_BYTES bytes is answered 413."
    ),
)
async def assist(request: Request, state: Annotated[HttpServices, Depends(services)]) -> Response:
    """Answer a question about a workload, or about a whole namespace."""
    try:
        response = await _assist(request, state)
    except AgentError as exc:
        response = agent_error(exc)
    except Exception:  # a bug must still answer JSON and be counted, never a bare 500
        log.exception("/assist failed")
        response = error_response(500, "InternalError", "the request could not be answered")
    metrics.ASSIST_REQUESTS.labels(str(response.status_code)).inc()
    return response


async def _assist(request: Request, state: HttpServices) -> Response:
    user = await _authenticate(request, state)
    _within_rate(_client_address(request) if user is None else user.username, state)
    payload = _parse(await _read_body(request, state.settings.assist_max_body_bytes), state)
    namespace = payload.namespace or state.settings.assist_default_namespace
    visible = EVERYTHING
    if state.auth is not None and user is not None:
        visible = await _visibility(state.auth, user, payload, namespace)
    report = await _diagnose(payload, namespace, visible, user, state)
    response = AssistResponse(
        answer=report.answer,
        diagnoses=[d.to_json_dict() for d in report.diagnoses if d.findings or payload.target],
        source=report.source,
        namespace=namespace,
        recommendations=report.recommendations,
        withheld=list(report.withheld),
        generated=report.generated,
        steps=status_steps(report.steps),
    )
    return JSONResponse(response.model_dump())


async def _authenticate(request: Request, state: HttpServices) -> User | None:
    """The caller; a token not reviewed recently is held to the per-address rate first."""
    if state.auth is None:
        return None
    authorization = request.headers.get("authorization")
    known = state.auth.known_user(authorization)
    if known is not None:
        return known
    wait = state.unauthenticated_limiter.check(_client_address(request))
    if wait is not None:
        limit = state.settings.assist_unauthenticated_rate_limit_per_minute
        raise TooManyRequests(
            f"at most {limit} requests a minute with a token not yet reviewed", wait
        )
    return await state.auth.authenticate(authorization)


def _client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _within_rate(caller: str, state: HttpServices) -> None:
    wait = state.limiter.check(caller)
    if wait is not None:
        limit = state.settings.assist_rate_limit_per_minute
        raise TooManyRequests(f"at most {limit} requests a minute", wait)


async def _read_body(request: Request, limit: int) -> Any:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"body over {limit} bytes")
    data = bytearray()
    async for chunk in request.stream():
        data.extend(chunk)
        if len(data) > limit:
            raise PayloadTooLarge(f"body over {limit} bytes")
    try:
        return json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MalformedBody(f"the body is not valid JSON: {exc}") from exc
    except RecursionError as exc:
        raise MalformedBody("the body is nested too deeply") from exc


def _parse(body: Any, state: HttpServices) -> AssistRequest:
    try:
        payload = AssistRequest.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise InvalidRequest(f"{where}: {first['msg']}") from exc
    limit = state.settings.assist_max_query_chars
    if len(payload.query) > limit:
        raise InvalidRequest(f"query: at most {limit} characters")
    return payload


async def _visibility(
    auth: KubernetesAuth, user: User, payload: AssistRequest, namespace: str
) -> Visibility:
    if payload.target is None:
        return await namespace_visibility(auth, user, namespace)
    return await target_visibility(auth, user, namespace, payload.target.kind, payload.target.name)


async def _diagnose(
    payload: AssistRequest,
    namespace: str,
    visible: Visibility,
    user: User | None,
    state: HttpServices,
) -> Report:
    service = state.service
    try:
        if payload.target is not None:
            diagnosed = await service.diagnose_target(
                namespace,
                payload.target.kind,
                payload.target.name,
                trigger="assist",
                visible=visible,
            )
        else:
            diagnosed = await service.diagnose_namespace(
                namespace, trigger="assist", visible=visible
            )
        return await service.explain(diagnosed, question=payload.query, asker=user)
    except AgentError:
        raise
    except Exception as exc:  # the API server is unreachable or failing: say so, stay up
        log.warning("/assist could not read the cluster: %s", redact_text(str(exc)))
        raise ClusterUnavailable("the Kubernetes API did not answer; try again") from exc
