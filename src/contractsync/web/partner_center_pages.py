"""Partner Center sources (issue 14) in the console: each source's poll, its progress while it
runs (the section refreshes itself by htmx until the poll settles), the last and next poll, and
what the polls could not do by themselves (missing prices or customers)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from contractsync.service.errors import ServiceError
from contractsync.service.partner_center_sources import MANUAL_INSTRUCTIONS
from contractsync.web.calls import call, refusal_text
from contractsync.web.context import actor_of, console_of, render

router = APIRouter(include_in_schema=False)

COUNTER_LABELS = [
    ("customers_seen", "customers read"),
    ("customers_created", "customers created"),
    ("subscriptions_seen", "subscriptions read"),
    ("subscriptions_created", "subscriptions created"),
    ("operations_applied", "changes applied"),
    ("records_failed", "failed"),
    ("requests", "Partner Center requests"),
    ("throttled", "throttled (429)"),
]
KIND_LABELS = {
    "needs_price": "Needs a list price",
    "needs_customer": "Needs a customer",
    "failed": "Failed",
}
INSTRUCTIONS = MANUAL_INSTRUCTIONS


async def sources_of(request: Request) -> tuple[list[dict[str, Any]], str | None]:
    try:
        return await call(console_of(request).service.partner_center_sources, actor_of(request)), None
    except ServiceError as exc:
        return [], refusal_text(exc)


def partner_center_actions(sources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every poll's open manual action, with its source and what to do."""
    return [
        item
        | {
            "source_id": source["id"],
            "label": KIND_LABELS.get(item.get("kind", ""), item.get("kind")),
            "instruction": INSTRUCTIONS.get(item.get("kind", ""), ""),
        }
        for source in sources
        for item in (source.get("poll") or {}).get("manual_actions") or []
    ]


def _context(sources: list[dict[str, Any]], error: str | None) -> dict[str, Any]:
    return {
        "page": "partner-center",
        "sources": sources,
        "counters": COUNTER_LABELS,
        "actions": partner_center_actions(sources),
        "running": any((s.get("poll") or {}).get("status") == "running" for s in sources),
        "error": error,
    }


@router.get("/partner-center")
async def partner_center(request: Request) -> Response:
    sources, error = await sources_of(request)
    return render(request, "partner_center.html", _context(sources, error))


@router.get("/partner-center/polls")
async def polls(request: Request) -> Response:
    """The polls section alone, for htmx to refresh while a poll runs."""
    sources, error = await sources_of(request)
    return render(request, "partner_center_polls.html", _context(sources, error))
