"""X4 in bulk for a Partner Center source: mapping suggestions for every customer polling found,
and for the subscriptions of customers already mapped, so a first connection of a tenant with
hundreds of customers is a review, not hours of clicking.

Customers → Autotask companies: by tenant id first (a company user-defined field whose value is
the customer's tenant id), then by exact name (case and surrounding spaces ignored). Subscriptions
→ contract services: as `service_match` finds them (the company's contracts that run today, a
service whose SKU is the offer's, else whose name is the offer's name). A match that is not
unique is skipped with the reason; a mapped customer, subscription, company or contract service
is never suggested again (a mapping is never overwritten).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from contractsync.domain.suggestion_commands import (
    MAX_CUSTOMER_CHOICES,
    MAX_SUBSCRIPTION_CHOICES,
    AcceptPartnerCenterSuggestions,
    list_message,
)
from contractsync.service import map_customer, service_match
from contractsync.service import validation as v
from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext, visible_connection
from contractsync.service.errors import ServiceError
from contractsync.service.partner_center_sources import load
from contractsync.service.suggestion_choices import (
    apply_indexed,
    map_chosen_subscription,
    read_customers,
    read_subscriptions,
)

JSON = dict[str, Any]
CUSTOMER = 1  # Autotask's companyType for a customer


def suggest(ctx: ServiceContext, actor: Actor, source_id: str, connection_id: str) -> JSON:
    with ctx.units(commit=False) as uow:
        directory = uow.directory
        source = load(uow.partner_center, actor, source_id)
        connection = visible_connection(directory, actor, connection_id)
        if connection.reseller_id != source.reseller_id:
            raise ServiceError(f"connection {connection_id} belongs to another reseller")
        mine = [c for c in directory.customers(source.reseller_id) if c.tenant_id is not None]
        mapped = {m.customer_id: m.company_id for m in directory.customer_mappings_of(connection.id)}
        stored = directory.subscriptions(directory.subscription_ids(source.reseller_id))
        live = sorted((s.value for s in stored if s.value.is_live), key=lambda s: s.id)
        taken, lines_taken = service_match.taken_on(uow, connection.id)
    connector = ctx.connector_for(connection)
    customer_part = _customers(connector, [r for r in mine if r.id not in mapped], set(mapped.values()))
    today = ctx.today_in(connection.timezone)
    subscription_part = _subscriptions(
        connector,
        [r for r in live if r.customer_id in mapped and r.id not in taken],
        mapped,
        lines_taken,
        today,
    )
    return {"source_id": source_id, "connection_id": connection_id, **customer_part, **subscription_part}


def _customers(connector: Any, unmapped: list[Any], companies_taken: set[int]) -> JSON:
    rows = _company_rows(connector)
    by_tenant: dict[str, set[int]] = defaultdict(set)
    by_name: dict[str, set[int]] = defaultdict(set)
    names: dict[int, str] = {}
    for row in rows:
        company_id = int(row["id"])
        if company_id in companies_taken:
            continue
        names[company_id] = str(row.get("companyName") or "")
        by_name[names[company_id].strip().lower()].add(company_id)
        for field in row.get("userDefinedFields") or []:
            value = str((field or {}).get("value") or "").strip().lower()
            if value:
                by_tenant[value].add(company_id)
    suggestions, skipped = [], []
    for customer in unmapped:
        for basis, found in (("tenant_id", by_tenant.get(customer.tenant_id.lower(), set())),
                             ("name", by_name.get(customer.name.strip().lower(), set()))):  # fmt: skip
            if len(found) == 1:
                company_id = next(iter(found))
                suggestions.append({"customer_id": customer.id, "tenant_id": customer.tenant_id,
                                    "customer_name": customer.name, "company_id": company_id,
                                    "company_name": names[company_id], "matched_by": basis})  # fmt: skip
                break
            if len(found) > 1:
                skipped.append(
                    {"customer_id": customer.id, "reason": f"{len(found)} companies match by {basis}"}
                )
                break
        else:
            skipped.append({"customer_id": customer.id, "reason": "no company matches by tenant id or name"})
    return {"customers": suggestions, "customers_skipped": skipped}


def _company_rows(connector: Any) -> list[JSON]:
    """Customer companies with their user-defined fields (raw rows: the typed model has no UDFs)."""
    client = getattr(connector, "client", None)
    if client is None or not hasattr(client, "query"):
        return [{"id": c.id, "companyName": c.name} for c in connector.find_companies()]
    rows: list[JSON] = client.query("Companies", [{"op": "eq", "field": "companyType", "value": CUSTOMER}])
    return rows


def _subscriptions(
    connector: Any, unmapped: list[Any], companies: dict[str, int], lines_taken: set[int], today: Any
) -> JSON:
    """The same matcher as the console's and the API's subscription suggestions: SKU, then name."""
    wanted = [
        service_match.Wanted(sub.id, companies[sub.customer_id], sub.offer_id, sub.offer_name)
        for sub in unmapped
    ]
    return service_match.suggest(connector, wanted, lines_taken, today)


def accept(ctx: ServiceContext, actor: Actor, command: AcceptPartnerCenterSuggestions | JSON) -> JSON:
    """Apply chosen suggestions: an `AcceptPartnerCenterSuggestions`, or its body `{connection_id,
    customers: [{customer_id, company_id}], subscriptions: [{subscription_id, contract_id,
    service_id, contract_service_id?}]}`; each answered `mapped`, `pending` or `refused` with the
    reason (the others still apply)."""
    if not isinstance(command, AcceptPartnerCenterSuggestions):
        command = read_command(command)
    return {
        "customers": apply_indexed(command.customers, lambda m: map_customer.map_customer(ctx, actor, m)),
        "subscriptions": apply_indexed(
            command.subscriptions, lambda m: map_chosen_subscription(ctx, actor, m)
        ),
    }


def read_command(body: JSON) -> AcceptPartnerCenterSuggestions:
    """The body as the command; a choice that cannot be read is kept with its reason (refused)."""
    v.fields(body, {"connection_id"}, {"customers", "subscriptions"})
    connection_id = v.text(body["connection_id"], "connection_id", 100)
    customers = read_customers(
        body.get("customers") or [],
        connection_id,
        MAX_CUSTOMER_CHOICES,
        list_message("customers", MAX_CUSTOMER_CHOICES),
    )
    subscriptions = read_subscriptions(
        body.get("subscriptions") or [],
        connection_id,
        MAX_SUBSCRIPTION_CHOICES,
        list_message("subscriptions", MAX_SUBSCRIPTION_CHOICES),
    )
    return v.check(
        lambda: AcceptPartnerCenterSuggestions.build(
            connection_id=connection_id, customers=customers, subscriptions=subscriptions
        )
    )
