"""Mapping a subscription to an Autotask contract service, step by step, and unmapping it.

Each step is a plain GET form (works without JavaScript; htmx only spares the full reload):
pick the subscription, then the connection, then a contract, then an existing contract service
of that contract or a service from the catalogue that Autotask adds to the contract.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from contractsync.domain.bounds import psa_id_or_none
from contractsync.service.actor import Actor
from contractsync.service.errors import ServiceError
from contractsync.service.facade import ContractSync
from contractsync.web.calls import call, refusal_text
from contractsync.web.context import actor_of, checked_form, console_of, redirect, render, session_of
from contractsync.web.customer_pages import say_results
from contractsync.web.money import currencies
from contractsync.web.names import autotask_names
from contractsync.web.queries import clean

router = APIRouter(include_in_schema=False)

MAX_LISTED = 500  # subscriptions shown on the page; beyond that, filter on the subscriptions page


def _int_or_none(value: str | None) -> int | None:
    value = clean(value)
    return None if value is None else psa_id_or_none(value)


async def _all_subscriptions(service: ContractSync, actor: Actor) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    page = 1
    while len(items) < MAX_LISTED:
        listing = await call(service.list_subscriptions, actor, page=page, page_size=100)
        items.extend(listing["items"])
        if not listing["items"] or len(items) >= int(listing.get("total", 0)):
            break
        page += 1
    return items


async def _picker(
    service: ContractSync,
    actor: Actor,
    subscription: dict[str, Any],
    customer: dict[str, Any] | None,
    connection_id: str | None,
    contract_id: int | None,
    all_contracts: bool,
    service_query: str | None,
) -> dict[str, Any]:
    """The options of each step that is reachable with what was chosen so far."""
    connections = await call(service.list_connections, actor)
    own = [c for c in connections if c["reseller_id"] == subscription["reseller_id"]]
    if connection_id is None and len(own) == 1:
        connection_id = own[0]["id"]
    picker: dict[str, Any] = {
        "connections": own,
        "connection_id": connection_id,
        "contract_id": contract_id,
        "company_id": None,
        "all_contracts": all_contracts,
        "contracts": [],
        "contract_services": [],
        "services": [],
        "service_query": service_query or "",
        "service_names": {},
    }
    if connection_id is None:
        return picker
    mapping = (customer or {}).get("mapping") or {}
    if mapping.get("connection_id") == connection_id and not all_contracts:
        picker["company_id"] = mapping.get("company_id")
    picker["contracts"] = await call(service.search_contracts, actor, connection_id, picker["company_id"])
    if contract_id is not None:
        picker["contract_services"] = await call(
            service.search_contract_services, actor, connection_id, contract_id
        )
        catalogue = await call(service.search_services, actor, connection_id, None)
        picker["service_names"] = {s["id"]: s["name"] for s in catalogue}
        picker["services"] = (
            [s for s in catalogue if service_query.lower() in str(s["name"]).lower()]
            if service_query
            else catalogue
        )
    return picker


async def _suggestions(
    service: ContractSync, actor: Actor, subscriptions: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """X4 per connection, only when some subscription is unmapped (each asks Autotask)."""
    if all(s.get("mapping") for s in subscriptions):
        return []
    found = []
    try:
        for connection in await call(service.list_connections, actor):
            answer = await call(service.subscription_suggestions, actor, connection["id"])
            if answer["subscriptions"] or answer["subscriptions_skipped"]:
                found.append(answer)
    except ServiceError:  # suggestions are a help: the page works without them
        return found
    return found


@router.post("/mappings/suggestions/accept")
async def accept_suggestions(request: Request) -> Response:
    form = await checked_form(request)
    session = session_of(request)
    connection_id = str(form.get("connection_id") or "")
    chosen = []
    for pick in form.getlist("pick"):
        subscription_id, *ids = str(pick).rsplit(":", 3)
        numbers = [psa_id_or_none(i) for i in ids]
        if len(numbers) == 3 and None not in numbers[:2]:
            contract_id, service_id, line = numbers
            chosen.append({"subscription_id": subscription_id, "contract_id": contract_id,
                           "service_id": service_id, "contract_service_id": line})  # fmt: skip
    if not chosen:
        session.say("error", "Tick at least one suggested contract service to accept.")
        return redirect(request, "/mappings")
    try:
        results = await call(
            console_of(request).service.accept_subscription_suggestions,
            actor_of(request),
            {"connection_id": connection_id, "subscriptions": chosen},
        )
    except ServiceError as exc:
        session.say("error", f"No suggestion was accepted: {refusal_text(exc)}")
        return redirect(request, "/mappings")
    say_results(session, results, "subscription_id", "subscription{s} mapped to contract services.")
    return redirect(request, "/mappings")


@router.get("/mappings")
async def mappings(
    request: Request,
    subscription_id: str | None = None,
    connection_id: str | None = None,
    contract_id: str | None = None,
    all_contracts: str | None = None,
    service_query: str | None = None,
) -> Response:
    actor = actor_of(request)
    service = console_of(request).service
    subscription_id = clean(subscription_id)
    error = None
    subscriptions: list[dict[str, Any]] = []
    customers: dict[str, dict[str, Any]] = {}
    chosen: dict[str, Any] | None = None
    picker: dict[str, Any] | None = None
    try:
        subscriptions = await _all_subscriptions(service, actor)
        customers = {c["id"]: c for c in await call(service.list_customers, actor)}
        if subscription_id is not None:
            chosen = await call(service.get_subscription, actor, subscription_id)
            picker = await _picker(
                service,
                actor,
                chosen,
                customers.get(chosen["customer_id"]),
                clean(connection_id),
                _int_or_none(contract_id),
                all_contracts == "1",
                clean(service_query),
            )
    except ServiceError as exc:
        error = refusal_text(exc)
    suggested = await _suggestions(service, actor, subscriptions)
    return render(
        request,
        "mappings.html",
        {
            "page": "mappings",
            "unmapped": [s for s in subscriptions if s.get("mapping") is None],
            "mapped": [s for s in subscriptions if s.get("mapping") is not None],
            "customers": customers,
            "chosen": chosen,
            "picker": picker,
            "suggested": suggested,
            "error": error,
            "cur": await currencies(request, actor),
            "names": await autotask_names(
                request,
                actor,
                [(s.get("mapping") or {}).get("connection_id") for s in subscriptions]
                + [answer["connection_id"] for answer in suggested],
                [s["mapping"] for s in subscriptions if s.get("mapping")]
                + [s | {"connection_id": a["connection_id"]} for a in suggested for s in a["subscriptions"]],
            ),
        },
    )


@router.post("/mappings/subscriptions")
async def map_subscription(request: Request) -> Response:
    form = await checked_form(request)
    actor = actor_of(request)
    session = session_of(request)
    subscription_id = str(form.get("subscription_id") or "")
    connection_id = str(form.get("connection_id") or "")
    contract_id = _int_or_none(str(form.get("contract_id") or ""))
    back = "/mappings?" + urlencode(
        {"subscription_id": subscription_id, "connection_id": connection_id, "contract_id": contract_id or ""}
    )
    # "cs:<contract service id>:<service id>" (already on the contract) or "svc:<service id>".
    kind, _, rest = str(form.get("target") or "").partition(":")
    body: dict[str, Any] = {
        "subscription_id": subscription_id,
        "connection_id": connection_id,
        "contract_id": contract_id,
    }
    ids = [psa_id_or_none(part) for part in rest.split(":")]
    if kind == "cs" and len(ids) == 2 and None not in ids:
        body |= {"contract_service_id": ids[0], "service_id": ids[1]}
    elif kind == "svc" and len(ids) == 1 and ids[0] is not None:
        body["service_id"] = ids[0]
    else:
        session.say("error", "Choose a contract service or a service before mapping.")
        return redirect(request, back)
    if contract_id is None:
        session.say("error", "Choose a contract before mapping.")
        return redirect(request, back)
    try:
        await call(console_of(request).service.map_subscription, actor, body)
    except ServiceError as exc:
        session.say("error", f"Subscription {subscription_id} was not mapped: {refusal_text(exc)}")
        return redirect(request, back)
    session.say(
        "ok",
        f"Subscription {subscription_id} is mapped to contract {contract_id}. "
        "Its contract service is being aligned to the subscription's units and price.",
    )
    return redirect(request, f"/subscriptions/{subscription_id}")


@router.post("/mappings/customers")
async def map_customer(request: Request) -> Response:
    """Customer ↔ Autotask company: the contract step then lists only that company's contracts."""
    form = await checked_form(request)
    actor = actor_of(request)
    session = session_of(request)
    customer_id = str(form.get("customer_id") or "")
    connection_id = str(form.get("connection_id") or "")
    subscription_id = str(form.get("subscription_id") or "")
    company_id = _int_or_none(str(form.get("company_id") or ""))
    back = "/mappings?" + urlencode({"subscription_id": subscription_id, "connection_id": connection_id})
    if company_id is None or company_id < 1:
        session.say("error", "Enter the Autotask company id (a whole number) to map the customer.")
        return redirect(request, back)
    body = {"customer_id": customer_id, "connection_id": connection_id, "company_id": company_id}
    try:
        await call(console_of(request).service.map_customer_to_company, actor, body)
    except ServiceError as exc:
        session.say("error", f"Customer {customer_id} was not mapped: {refusal_text(exc)}")
    else:
        session.say("ok", f"Customer {customer_id} is mapped to Autotask company {company_id}.")
    return redirect(request, back)


@router.post("/mappings/subscriptions/{subscription_id}/unmap")
async def unmap_subscription(request: Request, subscription_id: str) -> Response:
    await checked_form(request)
    actor = actor_of(request)
    session = session_of(request)
    try:
        await call(console_of(request).service.unmap_subscription, actor, subscription_id)
    except ServiceError as exc:
        session.say("error", f"Subscription {subscription_id} was not unmapped: {refusal_text(exc)}")
    else:
        session.say(
            "ok",
            f"Subscription {subscription_id} is unmapped: "
            "contractsync no longer sends its changes to Autotask.",
        )
    return redirect(request, "/mappings")
