"""Manual actions (U1-U3), alerts (X5) and reconciliation with its money impact (X1)."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from contractsync.service.errors import ServiceError
from contractsync.web.calls import call, refusal_text
from contractsync.web.context import actor_of, checked_form, console_of, redirect, render, session_of
from contractsync.web.partner_center_pages import partner_center_actions, sources_of
from contractsync.web.queries import clean

router = APIRouter(include_in_schema=False)


@router.get("/manual-actions")
async def manual_actions(request: Request) -> Response:
    actor = actor_of(request)
    items: list[dict[str, Any]] = []
    error = None
    try:
        # The Partner Center items (with a `kind`) have their own section below, from the sources.
        items = [
            a for a in await call(console_of(request).service.list_manual_actions, actor) if "kind" not in a
        ]
    except ServiceError as exc:
        error = refusal_text(exc)
    sources, _ = await sources_of(request)
    return render(
        request,
        "manual_actions.html",
        {"page": "manual", "items": items, "error": error, "polled": partner_center_actions(sources)},
    )


ALERT_STATES = [("open", "Open"), ("acknowledged", "Acknowledged"), ("resolved", "Resolved"), ("all", "All")]


@router.get("/alerts")
async def alerts(request: Request, state: str | None = None) -> Response:
    actor = actor_of(request)
    state = clean(state)
    if state not in {key for key, _ in ALERT_STATES}:
        state = "open"
    items: list[dict[str, Any]] = []
    error = None
    try:
        service = console_of(request).service
        items = await (
            call(service.list_alerts, actor) if state == "open" else call(service.list_alerts, actor, state)
        )
    except ServiceError as exc:
        error = refusal_text(exc)
    try:
        customers = await call(console_of(request).service.list_customers, actor)
    except ServiceError:
        customers = []
    names = {c["id"]: c["name"] for c in customers}
    for item in items:
        item["message"] = with_customer_names(str(item.get("message") or ""), names)
    return render(
        request,
        "alerts.html",
        {"page": "alerts", "items": items, "error": error, "state": state, "states": ALERT_STATES},
    )


# An id not followed by its names already (the service names customers in new messages).
CUSTOMER_ID = re.compile(r"\bcustomer ([A-Za-z0-9._-]+)(?![A-Za-z0-9._-]| \()")


def with_customer_names(message: str, names: dict[str, str]) -> str:
    """ "… of mapped customer fabrikam …" → "… of mapped customer Fabrikam Inc (fabrikam) …"."""
    return CUSTOMER_ID.sub(
        lambda m: f"customer {names[m.group(1)]} ({m.group(1)})" if m.group(1) in names else m.group(0),
        message,
    )


@router.post("/alerts/{alert_id}/acknowledge")
async def acknowledge(request: Request, alert_id: int) -> Response:
    await checked_form(request)
    session = session_of(request)
    try:
        await call(console_of(request).service.acknowledge_alert, actor_of(request), alert_id)
    except ServiceError as exc:
        session.say("error", f"Alert #{alert_id} was not acknowledged: {refusal_text(exc)}")
    else:
        session.say("ok", f"Alert #{alert_id} acknowledged; it stays listed until its cause is gone.")
    return redirect(request, "/alerts")


KIND_LABELS = {
    "drift": "Drift: Autotask differs from what contractsync sent",
    "pending": "Pending: planned, not sent yet",
    "inexact": "Inexact: Autotask's rules made these days impossible to match",
    "failed": "Failed: could not be delivered",
}


def total_impact(differences: list[dict[str, Any]]) -> Decimal:
    total = Decimal(0)
    for difference in differences:
        try:
            total += Decimal(str(difference.get("money_impact") or 0))
        except InvalidOperation:
            continue
    return total


@router.get("/reconciliation")
async def reconciliation(request: Request, connection_id: str | None = None) -> Response:
    actor = actor_of(request)
    service = console_of(request).service
    connection_id = clean(connection_id)
    connections: list[dict[str, Any]] = []
    report: dict[str, Any] | None = None
    error = None
    try:
        connections = await call(service.list_connections, actor)
        if connection_id is None and len(connections) == 1:
            connection_id = connections[0]["id"]
        if connection_id is not None:
            report = await call(service.reconciliation, actor, connection_id)
    except ServiceError as exc:
        error = refusal_text(exc)
    differences = report["differences"] if report else []
    return render(
        request,
        "reconciliation.html",
        {
            "page": "reconciliation",
            "connections": connections,
            "connection_id": connection_id or "",
            "report": report,
            "differences": differences,
            "total_impact": total_impact(differences),
            "kinds": KIND_LABELS,
            "error": error,
        },
    )


@router.post("/reconciliation/fix")
async def fix(request: Request) -> Response:
    form = await checked_form(request)
    actor = actor_of(request)
    connection_id = str(form.get("connection_id") or "").strip()
    session = session_of(request)
    try:
        result = await call(console_of(request).service.reconciliation, actor, connection_id, fix=True)
    except ServiceError as exc:
        session.say("error", f"Nothing was corrected: {refusal_text(exc)}")
    else:
        fixed = result.get("fixed", 0)
        text = f"{fixed} correcting adjustment{'s' if fixed != 1 else ''} queued for Autotask"
        left = result.get("not_queued") or []
        if left:
            reasons = "; ".join(f"{n['subscription_id']}: {n.get('reason', '')}" for n in left[:5])
            session.say("error", f"{text}; {len(left)} not queued: {reasons}")
        elif fixed == 0:
            session.say("ok", "Nothing to correct: Autotask shows no drift.")
        else:
            session.say("ok", f"{text}; reconcile again after the worker has sent them.")
    return redirect(request, "/reconciliation?" + urlencode({"connection_id": connection_id}))
