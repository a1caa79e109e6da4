"""/health, /ready and /metrics: what the kubelet and Prometheus ask."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4, generate_latest

from highpeaks_agent.http.errors import error_response
from highpeaks_agent.http.openapi import error_responses
from highpeaks_agent.http.state import HttpServices, services

router = APIRouter()

#: What ``generate_latest`` writes: Prometheus' text format 0.0.4 (names with underscores).
METRICS_MEDIA_TYPE = "text/plain; version=0.0.4"


@router.get("/health")
async def health() -> dict[str, str]:
    """Liveness: answering at all means the process and its event loop are responsive."""
    return {"status": "ok"}


@router.get("/ready", responses=error_responses(503))
async def ready(state: Annotated[HttpServices, Depends(services)]) -> Response:
    """Readiness: the operator is connected to the API server and watching."""
    is_ready, reason = await state.readiness.check()
    if is_ready:
        return JSONResponse({"status": "ready"})
    return error_response(503, "NotReady", reason)


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {
            "description": "The Prometheus text exposition format",
            "content": {METRICS_MEDIA_TYPE: {"schema": {"type": "string"}}},
        }
    },
)
async def prometheus_metrics() -> Response:
    """The operator's metrics (``highpeaks_agent_*``) for Prometheus to scrape."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_PLAIN_0_0_4)
