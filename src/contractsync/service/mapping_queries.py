"""Suggestions for the console's mapping workflow (X4), read-only: a company for every unmapped
customer (tenant id in a company field, then exact name, then a close name), and a contract
service for every live, unmapped subscription of a mapped customer."""

from __future__ import annotations

import difflib
import re
from collections import namedtuple
from typing import Any

from contractsync.domain.enums import SubscriptionStatus
from contractsync.ports.unit_of_work import UnitOfWork
from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext, visible_connection
from contractsync.service.partner_center_suggest import _company_rows, _customers
from contractsync.service.service_match import Wanted, suggest, taken_on

JSON = dict[str, Any]
#: How alike two names must be (difflib's ratio, after dropping legal forms) to be suggested.
SIMILAR = 0.85
LEGAL_FORMS = re.compile(r"\b(inc|ltd|llc|gmbh|ag|corp|corporation|co|limited|plc|sa|bv|srl|sarl)\b\.?")
_Unmapped = namedtuple("_Unmapped", "id name tenant_id")
_LIVE = (SubscriptionStatus.ACTIVE, SubscriptionStatus.SUSPENDED)


def _mapped_companies(uow: UnitOfWork, connection_id: str) -> dict[str, int]:
    """customer id → company id of the customers mapped on the connection."""
    return {m.customer_id: m.company_id for m in uow.directory.customer_mappings_of(connection_id)}


def _normal(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", LEGAL_FORMS.sub("", name.lower())).strip()


def customer_suggestions(ctx: ServiceContext, actor: Actor, connection_id: str) -> JSON:
    """{connection_id, customers: [{customer_id, customer_name, tenant_id, company_id, company_name,
    matched_by}], customers_skipped: [{customer_id, customer_name, reason}]} for the customers of
    the connection's reseller that have no company on it."""
    with ctx.units(commit=False) as uow:
        connection = visible_connection(uow.directory, actor, connection_id)
        mapped = _mapped_companies(uow, connection.id)
        unmapped = [
            _Unmapped(c.id, c.name, c.tenant_id or "")
            for c in uow.directory.customers(connection.reseller_id)
            if c.id not in mapped
        ]
    rows = _company_rows(ctx.connector_for(connection))
    found = _customers(ctx.connector_for(connection), unmapped, set(mapped.values()))
    taken = set(mapped.values()) | {s["company_id"] for s in found["customers"]}
    names = {int(r["id"]): str(r.get("companyName") or "") for r in rows if int(r["id"]) not in taken}
    by_id = {c.id: c for c in unmapped}
    skipped = []
    for item in found["customers_skipped"]:
        customer = by_id[item["customer_id"]]
        close = _closest(customer.name, names) if item["reason"].startswith("no company") else None
        if close is None:
            skipped.append(item | {"customer_name": customer.name})
            continue
        company_id, ratio = close
        found["customers"].append(
            {
                "customer_id": customer.id,
                "tenant_id": customer.tenant_id or None,
                "customer_name": customer.name,
                "company_id": company_id,
                "company_name": names.pop(company_id),
                "matched_by": "name, legal form aside" if ratio == 1 else f"similar name ({ratio:.0%})",
            }
        )
    return {"connection_id": connection_id, "customers": found["customers"], "customers_skipped": skipped}


def _closest(name: str, companies: dict[int, str]) -> tuple[int, float] | None:
    """The one company whose name is close enough (a tie between two is no suggestion)."""
    wanted = _normal(name)
    scored = sorted(
        (
            (difflib.SequenceMatcher(None, wanted, _normal(other)).ratio(), company_id)
            for company_id, other in companies.items()
        ),
        reverse=True,
    )
    if not scored or scored[0][0] < SIMILAR or (len(scored) > 1 and scored[1][0] == scored[0][0]):
        return None
    return scored[0][1], scored[0][0]


def subscription_suggestions(ctx: ServiceContext, actor: Actor, connection_id: str) -> JSON:
    """{connection_id, subscriptions: [{subscription_id, contract_id, service_id, contract_service_id,
    matched_by}], subscriptions_skipped: [{subscription_id, reason}]}: for the live, unmapped
    subscriptions of customers mapped on the connection, the one contract service (on a contract of
    the customer's company running today) whose service has the offer's SKU, else its name
    (`service_match`)."""
    with ctx.units(commit=False) as uow:
        connection = visible_connection(uow.directory, actor, connection_id)
        companies = _mapped_companies(uow, connection.id)
        taken, lines_taken = taken_on(uow, connection.id)
        ids = [i for i in uow.directory.subscription_ids(connection.reseller_id) if i not in taken]
        live = sorted(
            (
                s.value
                for s in uow.directory.subscriptions(ids)
                if s.value.customer_id in companies and s.value.status in _LIVE
            ),
            key=lambda s: s.id,
        )
    wanted = [Wanted(sub.id, companies[sub.customer_id], sub.offer_id, sub.offer_name) for sub in live]
    found = suggest(ctx.connector_for(connection), wanted, lines_taken, ctx.today_in(connection.timezone))
    return {"connection_id": connection_id, **found}
