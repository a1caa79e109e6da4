"""/health, /ready and /metrics: what the kubelet and Prometheus ask."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from highpeaks_agent.http.models import ErrorResponse
from highpeaks_agent.http.state import HttpServices, services

router = APIRouter()


@router.get("/health")
async def health() -> dict[str, str]:
    """Liveness: answering at all means the process and its event loop are responsive."""
    return {"status": "ok"}


@router.get("/ready", responses={503: {"model": ErrorResponse}})
async def ready(state: Annotated[HttpServices, Depends(services)]) -> Response:
    """Readiness: the operator is connected to the API server and watching."""
    is_ready, reason = await state.readiness.check()
    if is_ready:
        return JSONResponse({"status": "ready"})
    return JSONResponse({"error": "NotReady", "reason": reason}, status_code=503)


@router.get("/metrics")
async def prometheus_metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
