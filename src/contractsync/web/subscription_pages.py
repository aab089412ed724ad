"""Subscriptions: the list with sync badges, one subscription with its timeline, quantity changes."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from contractsync.domain.bounds import MAX_QUANTITY, ascii_integer
from contractsync.domain.operations import InvalidInput, OperationCommand
from contractsync.service.errors import NotFound, ServiceError
from contractsync.web.calls import call, refusal_text
from contractsync.web.context import actor_of, checked_form, console_of, redirect, render, session_of
from contractsync.web.money import currencies
from contractsync.web.names import EMPTY, autotask_names
from contractsync.web.queries import clean, page_number

router = APIRouter(include_in_schema=False)

SYNC_STATES = [
    ("synced", "Synced"),
    ("pending", "Pending"),
    ("out_of_sync", "Out of sync"),
    ("failed", "Failed"),
    ("unmapped", "Unmapped"),
]


@router.get("/subscriptions")
async def subscriptions(
    request: Request, customer_id: str | None = None, sync_state: str | None = None, page: str | None = None
) -> Response:
    actor = actor_of(request)
    service = console_of(request).service
    customer_id, sync_state = clean(customer_id), clean(sync_state)
    if sync_state not in (None, *(key for key, _ in SYNC_STATES)):
        sync_state = None
    error = None
    listing: dict[str, Any] = {"items": [], "page": 1, "page_size": 50, "total": 0}
    customers: list[dict[str, Any]] = []
    try:
        customers = await call(service.list_customers, actor)
        listing = await call(
            service.list_subscriptions,
            actor,
            customer_id=customer_id,
            sync_state=sync_state,
            page=page_number(page),
            page_size=50,
        )
    except ServiceError as exc:
        error = refusal_text(exc)
    return render(
        request,
        "subscriptions.html",
        {
            "page": "subscriptions",
            "listing": listing,
            "customers": customers,
            "customer_names": {c["id"]: c["name"] for c in customers},
            "filters": {"customer_id": customer_id or "", "sync_state": sync_state or ""},
            "sync_states": SYNC_STATES,
            "error": error,
            "cur": await currencies(request, actor),
        },
    )


async def _subscription_page(
    request: Request,
    subscription_id: str,
    *,
    preview: list[dict[str, Any]] | None = None,
    error: str | None = None,
    typed: dict[str, str] | None = None,
    confirm: bool = False,
) -> Response:
    actor = actor_of(request)
    service = console_of(request).service
    try:
        subscription = await call(service.get_subscription, actor, subscription_id)
    except NotFound:
        return render(
            request,
            "not_found.html",
            {"page": "subscriptions", "what": f"Subscription {subscription_id}", "back": "/subscriptions"},
            status=404,
        )
    timeline: dict[str, Any] = {"items": [], "page": 1, "page_size": 50, "total": 0}
    customer: dict[str, Any] | None = None
    try:
        timeline = await call(service.list_operations, actor, subscription_id=subscription_id, page_size=50)
        customer = next(
            (c for c in await call(service.list_customers, actor) if c["id"] == subscription["customer_id"]),
            None,
        )
    except ServiceError as exc:
        error = error or refusal_text(exc)
    autotask, autotask_error = None, None
    if subscription.get("mapping"):
        try:
            autotask = await call(service.autotask_today, actor, subscription_id)
        except Exception as exc:  # Autotask unreachable: the page still shows contractsync's side
            autotask_error = str(getattr(exc, "message", exc))
    return render(
        request,
        "subscription.html",
        {
            "page": "subscriptions",
            "sub": subscription,
            "customer": customer,
            "timeline": timeline,
            "preview": preview,
            "error": error,
            "autotask": autotask,
            "autotask_error": autotask_error,
            "cur": await currencies(request, actor),
            "names": (
                await autotask_names(
                    request,
                    actor,
                    [(subscription.get("mapping") or {}).get("connection_id")],
                    [subscription["mapping"]] if subscription.get("mapping") else [],
                )
            ).get((subscription.get("mapping") or {}).get("connection_id") or "", EMPTY),
            "typed": typed or {},
            "change": quantity_change(subscription, (typed or {}).get("quantity")),
            "confirm": confirm,
        },
        status=422 if error and preview is None and not confirm else 200,
    )


@router.get("/subscriptions/{subscription_id}")
async def subscription(request: Request, subscription_id: str) -> Response:
    return await _subscription_page(request, subscription_id)


@router.get("/subscriptions/{subscription_id}/sync-badge")
async def sync_badge(request: Request, subscription_id: str) -> Response:
    """The subscription's sync badge alone, for htmx polling while it is pending."""
    actor = actor_of(request)
    try:
        subscription = await call(console_of(request).service.get_subscription, actor, subscription_id)
    except NotFound:
        return render(
            request, "sync_badge.html", {"sub": {"id": subscription_id, "sync_state": "unknown"}}, 404
        )
    return render(request, "sync_badge.html", {"sub": subscription})


#: A change this big asks "are you sure?" first: at least this many times the seats …
CONFIRM_FACTOR = 3
#: … or at least this many seats more or fewer.
CONFIRM_SEATS = 100


def quantity_change(subscription: dict[str, Any], typed: str | None) -> dict[str, Any] | None:
    """What a typed quantity does to the money billed per period: {old, new, seats, per_period, before,
    after, big}; None when nothing usable was typed."""
    try:
        new = ascii_integer((typed or "").strip(), "quantity", 0, MAX_QUANTITY)
        price = Decimal(str(subscription.get("unit_price")))
    except (ValueError, InvalidOperation):
        return None
    old = int(subscription["quantity"])
    return {
        "old": old,
        "new": new,
        "seats": new - old,
        "before": price * old,
        "after": price * new,
        "per_period": price * (new - old),
        "big": is_big_change(old, new),
    }


def is_big_change(old: int, new: int) -> bool:
    return (
        abs(new - old) >= CONFIRM_SEATS
        or (new >= old * CONFIRM_FACTOR and new > old)
        or (old > 0 and new * CONFIRM_FACTOR <= old and new < old)
    )


@router.post("/subscriptions/{subscription_id}/quantity")
async def change_quantity(request: Request, subscription_id: str) -> Response:
    form = await checked_form(request)
    actor = actor_of(request)
    raw_quantity = str(form.get("quantity") or "").strip()
    typed = {"quantity": raw_quantity, "effective_date": str(form.get("effective_date") or "").strip()}
    try:
        quantity = ascii_integer(raw_quantity, "quantity", 0, MAX_QUANTITY)
    except ValueError:
        return await _subscription_page(
            request,
            subscription_id,
            typed=typed,
            error=f"The quantity must be a whole number of licences from 0 to {MAX_QUANTITY:,}, "
            f"written with the digits 0-9 (you typed {raw_quantity!r}).",
        )
    preview = form.get("action") == "preview"
    try:
        command = OperationCommand.build(
            "update_quantity",
            quantity=quantity,
            effective_date=typed["effective_date"] or None,
            preview=preview,
        )
    except InvalidInput as exc:
        return await _subscription_page(request, subscription_id, typed=typed, error=str(exc))
    service = console_of(request).service
    if not preview and form.get("confirmed") != "1":
        try:
            current = await call(service.get_subscription, actor, subscription_id)
        except ServiceError as exc:
            return await _subscription_page(request, subscription_id, typed=typed, error=refusal_text(exc))
        if is_big_change(int(current["quantity"]), quantity):
            # Nothing is stored yet: the page shows the money change and asks to confirm.
            try:
                records = await call(
                    service.apply_operation, actor, subscription_id, replace(command, preview=True)
                )
            except ServiceError as exc:
                return await _subscription_page(
                    request, subscription_id, typed=typed, error=refusal_text(exc)
                )
            return await _subscription_page(
                request, subscription_id, preview=records, typed=typed, confirm=True
            )
    try:
        records = await call(service.apply_operation, actor, subscription_id, command)
    except ServiceError as exc:
        return await _subscription_page(request, subscription_id, typed=typed, error=refusal_text(exc))
    if preview:
        return await _subscription_page(request, subscription_id, preview=records, typed=typed)
    count = len(records)
    refused = [r for r in records if r.get("status") == "failed"]
    if refused:
        reasons = "; ".join(f"#{r['id']}: {r.get('reason') or 'failed'}" for r in refused)
        session_of(request).say("error", f"Quantity change to {quantity} was refused for Autotask: {reasons}")
    else:
        session_of(request).say(
            "ok",
            f"Quantity change to {quantity} recorded "
            f"({count} connection operation{'s' if count != 1 else ''}). "
            "Adjustments go to Autotask once the settle time has passed.",
        )
    return redirect(request, f"/subscriptions/{subscription_id}")
