"""The console's home page: how each connection and customer stands, with links to each list."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from contractsync.service.errors import ServiceError
from contractsync.web.calls import call, refusal_text
from contractsync.web.chart import trend_svg
from contractsync.web.context import actor_of, console_of, redirect, render, session_of
from contractsync.web.formatting import Currencies

router = APIRouter(include_in_schema=False)

STATIC_DIR = Path(__file__).parent / "static"
STATE_ORDER = ["synced", "pending", "out_of_sync", "failed", "unmapped"]


@router.get("/favicon.ico")
async def favicon() -> Response:
    """Browsers ask for /favicon.ico whatever the page says: the same icon, cached a day."""
    return FileResponse(
        STATIC_DIR / "favicon.svg", media_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"}
    )


@router.get("/")
async def home(request: Request) -> Response:
    if not session_of(request).signed_in:
        return redirect(request, "/signin")
    actor = actor_of(request)
    console = console_of(request)
    board: dict[str, Any] = {"connections": [], "customers": [], "unmapped": {}, "trend": {}}
    error = None
    try:
        board = await call(console.service.dashboard, actor)
    except ServiceError as exc:
        error = refusal_text(exc)
    cur = Currencies(
        console.money.currency, {c["id"]: c["currency"] for c in board["connections"] if c.get("currency")}
    )
    charts = {
        connection_id: trend_svg(
            points,
            console.money,
            cur.of(connection_id),
            f"Connection {connection_id}: monthly recurring revenue (bars) and cost (line), last 12 months",
        )
        for connection_id, points in board.get("trend", {}).items()
    }
    return render(
        request,
        "dashboard.html",
        {
            "page": "dashboard",
            "board": board,
            "charts": charts,
            "cur": cur,
            "states": STATE_ORDER,
            "error": error,
        },
    )
