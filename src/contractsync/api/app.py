"""The REST API: `create_api(service)` builds a FastAPI app over the `ContractSync` façade."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, FastAPI
from starlette.types import Receive, Scope, Send

from contractsync.adapters.metrics import Metrics
from contractsync.api.deps import reject_unknown_query
from contractsync.api.docs import DocsMode, install_docs
from contractsync.api.errors import install_error_handlers
from contractsync.api.fast_path import OperationFastPath, operation_route
from contractsync.api.middleware import LimitBody, ObserveRequests, RefuseControlCharacters
from contractsync.api.routes import (
    alerts,
    connections,
    customers,
    deliveries,
    lookups,
    manual_actions,
    mappings,
    operations,
    partner_center,
    reconciliation,
    resellers,
    subscriptions,
    sweeps,
    tokens,
)
from contractsync.api.routes import health as health_routes
from contractsync.api.routes import metrics as metrics_routes
from contractsync.service.facade import ContractSync

# The /v1 resources: every route needs a token and declares all its query parameters.
V1_ROUTERS = (
    resellers,
    connections,
    customers,
    subscriptions,
    operations,
    mappings,
    lookups,
    sweeps,
    deliveries,
    reconciliation,
    manual_actions,
    alerts,
    tokens,
    partner_center,
)


class ContractSyncApi(FastAPI):
    """FastAPI with the hot route's fast path in front of everything (`api/fast_path.py`)."""

    fast_path: OperationFastPath | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.fast_path is not None:
            rest = await self.fast_path.answer(scope, receive, send)
            if rest is None:
                return
            receive = rest
        await super().__call__(scope, receive, send)


def _always_ok() -> bool:
    return True


def create_api(
    service: ContractSync,
    *,
    metrics: Metrics | None = None,
    health: Callable[[], bool] | None = None,
    api_docs: DocsMode = "auth",
    metrics_token: str | None = None,
    serve_metrics: bool = True,
) -> FastAPI:
    """`health`: answers False (or raises) when the database is unreachable → `/healthz` 503.
    Default: the service's own `health()` if it has one, else always healthy.
    `api_docs`: on | auth | off for /docs and /openapi.json (api/docs.py). `/metrics` needs the
    admin token or `metrics_token`; `serve_metrics=False` leaves it out (served on its own
    address, api/metrics_server.py)."""
    app = ContractSyncApi(
        title="contractsync",
        version="1",
        description="Keeps Autotask recurring-contract billing in step with Microsoft CSP subscriptions.",
        openapi_url="/openapi.json" if api_docs == "on" else None,
        docs_url="/docs" if api_docs == "on" else None,
        redoc_url=None,
    )
    app.state.service = service
    app.state.metrics = metrics or Metrics()
    app.state.metrics_token = metrics_token
    service_health = getattr(service, "health", None)
    app.state.health = health or (service_health if callable(service_health) else _always_ok)
    install_error_handlers(app)
    for module in V1_ROUTERS:
        app.include_router(module.router, dependencies=[Depends(reject_unknown_query)])
    app.include_router(health_routes.router)  # no token: load balancers call it
    app.include_router(partner_center.events_router)  # no token: Partner Center signs its events
    if serve_metrics:
        app.include_router(metrics_routes.router)
    install_docs(app, api_docs)
    app.add_middleware(LimitBody)
    app.add_middleware(RefuseControlCharacters)
    app.add_middleware(ObserveRequests)
    # In front of it all: the hot route's plain requests skip the middleware stack, FastAPI's
    # routing and its dependency solving.
    app.fast_path = OperationFastPath(
        app, operation_route(subscriptions.router, subscriptions.apply_operation)
    )
    return app
