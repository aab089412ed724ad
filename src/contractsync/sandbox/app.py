"""The sandbox as a FastAPI application."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from starlette.responses import Response

from contractsync.sandbox import routes_admin, routes_entities
from contractsync.sandbox.errors import SandboxError
from contractsync.sandbox.seed import seed_demo
from contractsync.sandbox.state import SandboxConfig, SandboxState
from contractsync.sandbox.wire import error_response


def create_app(config: SandboxConfig | None = None) -> FastAPI:
    config = config or SandboxConfig()
    state = SandboxState(config)
    if config.seed == "demo":
        seed_demo(state.store, config.clock.now().replace(tzinfo=None))
    elif config.seed is not None:
        raise ValueError(f"unknown seed {config.seed!r} (known: demo)")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state.loop = asyncio.get_running_loop()
        yield
        state.faults.release_holds()
        state.store.close()

    app = FastAPI(title="contractsync Autotask sandbox", lifespan=lifespan)
    app.state.sandbox = state

    @app.exception_handler(SandboxError)
    async def sandbox_error(request: Request, exc: SandboxError) -> Response:
        return error_response(exc.message, exc.status)

    app.include_router(routes_admin.router)
    app.include_router(routes_entities.router)
    return app
