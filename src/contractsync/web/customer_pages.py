"""Customers and their Autotask companies (X4): suggestions accepted one by one or in bulk, search
by name, map / unmap / remap (recorded in the audit log), and the provider markup per customer."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from contractsync.domain.bounds import psa_id_or_none
from contractsync.service.errors import ServiceError
from contractsync.web.calls import call, refusal_text
from contractsync.web.context import actor_of, checked_form, console_of, redirect, render, session_of
from contractsync.web.queries import clean

router = APIRouter(include_in_schema=False)

PROVIDERS = [("microsoft", "Microsoft")]


def _back(connection_id: str | None, **more: str) -> str:
    query = {"connection_id": connection_id or "", **more}
    return "/customers?" + urlencode({k: v for k, v in query.items() if v})


@router.get("/customers")
async def customers_page(
    request: Request,
    connection_id: str | None = None,
    customer_id: str | None = None,
    company_query: str | None = None,
) -> Response:
    actor = actor_of(request)
    service = console_of(request).service
    connection_id, customer_id, company_query = clean(connection_id), clean(customer_id), clean(company_query)
    error = None
    connections: list[dict[str, Any]] = []
    customers: list[dict[str, Any]] = []
    suggestions: dict[str, Any] | None = None
    companies: dict[int, str] = {}
    found: list[dict[str, Any]] | None = None
    try:
        connections = await call(service.list_connections, actor)
        customers = await call(service.list_customers, actor)
        if connection_id is None and len(connections) == 1:
            connection_id = connections[0]["id"]
        if connection_id is not None:
            shown = [
                (c.get("mapping") or {}).get("company_id")
                for c in customers
                if (c.get("mapping") or {}).get("connection_id") == connection_id
            ]
            companies = await call(service.company_names, actor, connection_id, [i for i in shown if i])
            suggestions = await call(service.customer_suggestions, actor, connection_id)
            if company_query:
                found = await call(service.search_companies, actor, connection_id, company_query)
    except ServiceError as exc:
        error = refusal_text(exc)
    connection = next((c for c in connections if c["id"] == connection_id), None)
    chosen = next((c for c in customers if c["id"] == customer_id), None)
    if chosen is not None and connection is not None and chosen["reseller_id"] != connection["reseller_id"]:
        error = (
            f"{chosen['name']} belongs to reseller {chosen['reseller_id']}, which connection "
            f"{connection['id']} does not serve; add a connection for that reseller to map it."
        )
        chosen = None
    return render(
        request,
        "customers.html",
        {
            "page": "customers",
            "connections": connections,
            "connection": connection,
            "connection_id": connection_id or "",
            "customers": [
                c for c in customers if connection is None or c["reseller_id"] == connection["reseller_id"]
            ],
            "others": []
            if connection is None
            else [c for c in customers if c["reseller_id"] != connection["reseller_id"]],
            "chosen": chosen,
            "company_query": company_query or "",
            "found": found,
            "companies": companies,
            "suggestions": suggestions,
            "providers": PROVIDERS,
            "error": error,
        },
    )


@router.post("/customers/suggestions/accept")
async def accept_suggestions(request: Request) -> Response:
    form = await checked_form(request)
    actor = actor_of(request)
    session = session_of(request)
    connection_id = str(form.get("connection_id") or "")
    chosen = []
    for pick in form.getlist("pick"):
        customer_id, _, company = str(pick).rpartition(":")
        company_id = psa_id_or_none(company)
        if customer_id and company_id is not None:
            chosen.append({"customer_id": customer_id, "company_id": company_id})
    if not chosen:
        session.say("error", "Tick at least one suggestion to accept.")
        return redirect(request, _back(connection_id))
    try:
        results = await call(
            console_of(request).service.accept_customer_suggestions,
            actor,
            {"connection_id": connection_id, "customers": chosen},
        )
    except ServiceError as exc:
        session.say("error", f"No suggestion was accepted: {refusal_text(exc)}")
        return redirect(request, _back(connection_id))
    say_results(session, results, "customer_id", "customer{s} mapped to their Autotask companies.")
    return redirect(request, _back(connection_id))


def say_results(session: Any, results: list[dict[str, Any]], key: str, done: str) -> None:
    """One message for suggestions accepted in bulk: how many were mapped, which wait for Autotask
    to create their contract service, and why others were not mapped."""
    mapped = [r for r in results if r["status"] == "mapped"]
    pending = [r[key] for r in results if r["status"] == "pending"]
    refused = [r for r in results if r["status"] not in ("mapped", "pending")]
    text = f"{len(mapped)} " + done.replace("{s}", "s" if len(mapped) != 1 else "")
    if pending:
        text += (
            f" {len(pending)} wait{'s' if len(pending) == 1 else ''} for Autotask to create"
            f" {'its contract service' if len(pending) == 1 else 'their contract services'}"
            " (mapped once created):"
            f" {', '.join(pending[:5])}{' …' if len(pending) > 5 else ''}."
        )
    if refused:
        reasons = "; ".join(f"{r[key]}: {r['error']}" for r in refused[:5])
        session.say("error", f"{text} {len(refused)} refused: {reasons}")
    else:
        session.say("ok", text)


@router.post("/customers/{customer_id}/company")
async def map_company(request: Request, customer_id: str) -> Response:
    """Map (or, for a mapped customer, remap) to a company found by name or typed by id."""
    form = await checked_form(request)
    actor = actor_of(request)
    session = session_of(request)
    service = console_of(request).service
    connection_id = str(form.get("connection_id") or "")
    company_id = psa_id_or_none(str(form.get("company_id") or "").strip())
    if company_id is None:
        session.say("error", "Choose a company from the search, or type its Autotask id (a whole number).")
        return redirect(request, _back(connection_id, customer_id=customer_id))
    body = {"customer_id": customer_id, "connection_id": connection_id, "company_id": company_id}
    remap = form.get("remap") == "1"
    try:
        record = await call(service.remap_customer if remap else service.map_customer_to_company, actor, body)
    except ServiceError as exc:
        verb = "remapped" if remap else "mapped"
        session.say("error", f"Customer {customer_id} was not {verb}: {refusal_text(exc)}")
        return redirect(request, _back(connection_id, customer_id=customer_id))
    session.say("ok", f"Customer {customer_id}: {record.get('reason') or 'mapped'}.")
    return redirect(request, _back(connection_id))


@router.post("/customers/{customer_id}/unmap")
async def unmap(request: Request, customer_id: str) -> Response:
    form = await checked_form(request)
    session = session_of(request)
    connection_id = str(form.get("connection_id") or "")
    try:
        record = await call(
            console_of(request).service.unmap_customer, actor_of(request), customer_id, connection_id
        )
    except ServiceError as exc:
        session.say("error", f"Customer {customer_id} was not unmapped: {refusal_text(exc)}")
    else:
        session.say("ok", f"Customer {customer_id}: {record.get('reason')}.")
    return redirect(request, _back(connection_id))


@router.post("/customers/{customer_id}/markup")
async def provider_markup(request: Request, customer_id: str) -> Response:
    """The customer's markup on cost for a provider (the seed's "provider margin", rule R5)."""
    form = await checked_form(request)
    session = session_of(request)
    connection_id = str(form.get("connection_id") or "")
    provider = str(form.get("provider") or "microsoft")
    percent = str(form.get("margin_percent") or "").strip()
    if not percent:
        session.say("error", "Enter the markup on cost in percent, e.g. 20 or 12.5.")
        return redirect(request, _back(connection_id))
    body: dict[str, Any] = {"margin_percent": percent}
    effective = str(form.get("effective_date") or "").strip()
    if effective:
        body["effective_date"] = effective
    preview = form.get("action") == "preview"
    if preview:
        body["preview"] = True
    try:
        records = await call(
            console_of(request).service.set_provider_margin, actor_of(request), customer_id, provider, body
        )
    except ServiceError as exc:
        session.say("error", f"The markup of {customer_id} was not changed: {refusal_text(exc)}")
        return redirect(request, _back(connection_id))
    count = len(records)
    if preview:
        session.say(
            "ok",
            f"Preview only, nothing stored: a {percent} % markup on cost would change "
            f"{count} subscription price{'s' if count != 1 else ''} in Autotask.",
        )
    else:
        session.say(
            "ok",
            f"{customer_id}'s markup on cost for {provider} is {percent} %; "
            f"{count} connection operation{'s' if count != 1 else ''} recorded.",
        )
    return redirect(request, _back(connection_id))
