"""Liveness and Prometheus metrics; no token, so load balancers and scrapers can call them."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from contractsync.adapters.metrics import Metrics
from contractsync.api import answers as A
from contractsync.api.errors import envelope

router = APIRouter(tags=["observability"])

HealthCheck = Callable[[], bool]


@router.get(
    "/healthz",
    response_model=None,
    responses={200: {"model": A.Health}, 503: {"model": A.ErrorEnvelope, "description": "unhealthy"}},
)
def healthz(request: Request) -> Response:
    check: HealthCheck = request.app.state.health
    try:
        healthy = check()
    except Exception as error:  # any failure of the check means "not healthy", never a 500
        return envelope(503, "unavailable", f"health check failed: {type(error).__name__}")
    if not healthy:
        return envelope(503, "unavailable", "the database is unreachable")
    return JSONResponse({"status": "ok"})


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "Prometheus"}},
)
def metrics(request: Request) -> Response:
    registry: Metrics = request.app.state.metrics
    return Response(registry.render(), media_type=registry.content_type)
