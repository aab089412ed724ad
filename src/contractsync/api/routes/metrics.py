"""Prometheus metrics. They name every reseller's connections, so they need a token: the admin
token, or the dedicated CONTRACTSYNC_METRICS_TOKEN a scraper can hold without holding the admin
token. An operator who binds metrics to a separate address (CONTRACTSYNC_METRICS_BIND, see
`api/metrics_server.py`) serves them there without a token and not on the API's port."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials

from contractsync.adapters.metrics import Metrics
from contractsync.api.answers import ErrorEnvelope
from contractsync.api.deps import authenticated, bearer_scheme
from contractsync.service.context import require_admin

router = APIRouter(tags=["observability"])


def metrics_reader(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> None:
    """The metrics token, or else an admin token (a reseller token: 403)."""
    expected: str | None = getattr(request.app.state, "metrics_token", None)
    if credentials is not None and expected:
        sent = credentials.credentials.strip().encode()
        if hmac.compare_digest(sent, expected.encode()):
            return
    require_admin(authenticated(request, credentials))


@router.get(
    "/metrics",
    response_class=Response,
    dependencies=[Depends(metrics_reader)],
    responses={
        200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "Prometheus"},
        401: {"model": ErrorEnvelope, "description": "unauthorized"},
        403: {"model": ErrorEnvelope, "description": "forbidden"},
    },
)
def metrics(request: Request) -> Response:
    """Needs the admin token or CONTRACTSYNC_METRICS_TOKEN."""
    registry: Metrics = request.app.state.metrics
    return Response(registry.render(), media_type=registry.content_type)
