"""Liveness; no token, so load balancers can call it. (/metrics: `routes/metrics.py`.)"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

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
