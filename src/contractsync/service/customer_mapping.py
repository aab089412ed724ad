"""The console's customer ↔ Autotask company workflow (X4): find a company by name, map only to a
company that exists, suggestions for every unmapped customer (tenant id in a company field, then
exact name, then a close name), unmap and remap (each recorded in the audit log), and testing a
stored connection's credentials.

A mapping is never overwritten by a suggestion: accepting one maps a customer that has none, or
is refused with the reason. Unmapping a customer leaves its subscriptions' mappings alone (they go
on syncing with their contract services); the record says how many there are.
"""

from __future__ import annotations

import difflib
import re
import uuid
from collections import namedtuple
from collections.abc import Callable
from typing import Any

from contractsync.domain.enums import RecordType, SubscriptionStatus
from contractsync.ports.audit_records import NewRecord
from contractsync.ports.directory import CustomerMapping, StoredConnection
from contractsync.ports.unit_of_work import UnitOfWork
from contractsync.service import autotask_names, map_subscription, mapping
from contractsync.service import validation as v
from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext, visible_connection, visible_customer
from contractsync.service.credentials_check import check_credentials
from contractsync.service.errors import Conflict, Invalid, NotFound, ServiceError
from contractsync.service.partner_center_suggest import _company_rows, _customers
from contractsync.service.service_match import Wanted, suggest
from contractsync.service.views import operations_by_id

JSON = dict[str, Any]
MAX_RESULTS = 50
#: How alike two names must be (difflib's ratio, after dropping legal forms) to be suggested.
SIMILAR = 0.85
LEGAL_FORMS = re.compile(r"\b(inc|ltd|llc|gmbh|ag|corp|corporation|co|limited|plc|sa|bv|srl|sarl)\b\.?")
_Unmapped = namedtuple("_Unmapped", "id name tenant_id")
_LIVE = (SubscriptionStatus.ACTIVE, SubscriptionStatus.SUSPENDED)


def _connection(ctx: ServiceContext, actor: Actor, connection_id: str) -> StoredConnection:
    with ctx.units(commit=False) as uow:
        return visible_connection(uow.directory, actor, connection_id)


def _companies(ctx: ServiceContext, actor: Actor, connection_id: str) -> tuple[StoredConnection, list[JSON]]:
    connection = _connection(ctx, actor, connection_id)
    return connection, _company_rows(ctx.connector_for(connection))


def search_companies(ctx: ServiceContext, actor: Actor, connection_id: str, name: str) -> list[JSON]:
    """Customer companies whose name contains `name` (any case): [{id, name}], at most 50."""
    wanted = v.text(name, "name", 200).strip().lower()
    _, rows = _companies(ctx, actor, connection_id)
    found = sorted(
        (str(r.get("companyName") or ""), int(r["id"]))
        for r in rows
        if wanted in str(r.get("companyName") or "").lower()
    )
    return [{"id": company_id, "name": name} for name, company_id in found[:MAX_RESULTS]]


def _require_company(ctx: ServiceContext, connection: StoredConnection, company_id: int) -> str:
    """The customer company's name; Invalid when Autotask has none of that id. The name is stored."""
    found = ctx.connector_for(connection).find_companies(ids=[company_id])
    if not found:
        raise Invalid(f"Autotask has no customer company {company_id} (check the id, or search by name)")
    name = str(found[0].name)
    autotask_names.remember(ctx, connection.id, "company", {company_id: name})
    return name


def map_customer(ctx: ServiceContext, actor: Actor, body: JSON) -> JSON:
    """`mapping.map_customer` after checking, through the connector, that the company exists."""
    v.fields(body, {"customer_id", "connection_id", "company_id"}, set())
    company_id = v.integer(body["company_id"], "company_id", 1, 2**31 - 1)
    connection = _connection(ctx, actor, v.text(body["connection_id"], "connection_id", 100))
    name = _require_company(ctx, connection, company_id)
    record = mapping.map_customer(ctx, actor, {**body, "company_id": company_id})
    return record | {"company_name": name}


def _mapped_companies(uow: UnitOfWork, connection_id: str) -> dict[str, int]:
    """customer id → company id of the customers mapped on the connection."""
    return {m.customer_id: m.company_id for m in uow.directory.customer_mappings_of(connection_id)}


def _normal(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", LEGAL_FORMS.sub("", name.lower())).strip()


def suggestions(ctx: ServiceContext, actor: Actor, connection_id: str) -> JSON:
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


def _each(chosen: list[JSON], limit: int, apply: Callable[[JSON], Any]) -> list[JSON]:
    """Apply every chosen suggestion: each answered `mapped` or `refused` with the reason; one
    refusal does not stop the others."""
    if not isinstance(chosen, list) or len(chosen) > limit or not all(isinstance(i, dict) for i in chosen):
        raise Invalid(f"choose at most {limit} suggestions at a time")
    results = []
    for item in chosen:
        try:
            apply(item)
        except ServiceError as error:
            results.append(item | {"status": "refused", "error": error.message})
        else:
            results.append(item | {"status": "mapped", "error": None})
    return results


def accept(ctx: ServiceContext, actor: Actor, connection_id: str, chosen: list[JSON]) -> list[JSON]:
    """Map each chosen {customer_id, company_id}; an existing mapping is never replaced."""
    return _each(
        chosen, 2000, lambda item: map_customer(ctx, actor, {**item, "connection_id": connection_id})
    )


def _mapped_subscriptions(uow: UnitOfWork, customer_id: str, connection_id: str) -> int:
    own = set(uow.directory.subscription_ids(None, customer_id))
    return sum(1 for m in uow.directory.subscription_mappings_of(connection_id) if m.subscription_id in own)


def _record(ctx: ServiceContext, uow: UnitOfWork, actor: Actor, mapped: CustomerMapping, reason: str) -> JSON:
    record = NewRecord(
        connection_id=mapped.connection_id,
        operation_key=uuid.uuid4().hex,
        type=RecordType.MAP_CUSTOMER.value,
        status="succeeded",
        customer_id=mapped.customer_id,
        reason=reason,
        details={"actor": actor.name} if actor.name else {},
    )
    return operations_by_id(uow.audit_records, [uow.audit_records.add(record, ctx.now())])[0]


def _current(uow: UnitOfWork, actor: Actor, customer_id: str, connection_id: str) -> CustomerMapping:
    customer = visible_customer(uow.directory, actor, customer_id)
    connection = visible_connection(uow.directory, actor, connection_id)
    found = next(
        (m for m in uow.directory.customer_mappings_of(connection.id) if m.customer_id == customer.id), None
    )
    if found is None:
        raise NotFound(f"customer {customer_id} is not mapped on connection {connection_id}")
    return found


def _keeps(count: int) -> str:
    if count == 0:
        return "it has no mapped subscriptions"
    if count == 1:
        return "its 1 mapped subscription keeps its contract service (unmap it separately to stop syncing)"
    return f"its {count} mapped subscriptions keep their contract services (unmap them separately to stop syncing)"


def unmap_customer(
    ctx: ServiceContext, actor: Actor, customer_id: str, connection_id: str | None = None
) -> JSON:
    """Remove the customer's company on the connection (None: the one it is mapped on); answers the
    audit record. The customer's subscription mappings stay (their changes go on reaching their
    contract services)."""
    with ctx.units() as uow:
        if connection_id is None:
            found = uow.directory.customer_mapping(visible_customer(uow.directory, actor, customer_id).id)
            if found is None:
                raise NotFound(f"customer {customer_id} is not mapped")
            connection_id = found.connection_id
        mapped = _current(uow, actor, customer_id, connection_id)
        count = _mapped_subscriptions(uow, mapped.customer_id, mapped.connection_id)
        uow.directory.remove_customer_mapping(mapped.customer_id, mapped.connection_id)
        company = uow.autotask_names.names(mapped.connection_id)["company"].get(mapped.company_id)
        named = f" ({company})" if company else ""
        reason = f"unmapped from Autotask company {mapped.company_id}{named}; {_keeps(count)}"
        return _record(ctx, uow, actor, mapped, reason)


def remap_customer(ctx: ServiceContext, actor: Actor, body: JSON) -> JSON:
    """body {customer_id, connection_id, company_id}: move a mapped customer to another company that
    exists (a company already mapped to another customer is refused). Subscription mappings stay."""
    v.fields(body, {"customer_id", "connection_id", "company_id"}, set())
    company_id = v.integer(body["company_id"], "company_id", 1, 2**31 - 1)
    customer_id = v.text(body["customer_id"], "customer_id", 100)
    connection_id = v.text(body["connection_id"], "connection_id", 100)
    with ctx.units(commit=False) as uow:
        _current(uow, actor, customer_id, connection_id)
        connection = visible_connection(uow.directory, actor, connection_id)
    name = _require_company(ctx, connection, company_id)
    with ctx.units() as uow:
        mapped = _current(uow, actor, customer_id, connection_id)
        if mapped.company_id == company_id:
            raise Conflict(f"customer {customer_id} is already mapped to Autotask company {company_id}")
        holder = next(
            (m for m in uow.directory.customer_mappings_of(connection_id) if m.company_id == company_id), None
        )
        if holder is not None:
            raise Conflict(
                f"Autotask company {company_id} is already mapped to customer {holder.customer_id}"
            )
        uow.directory.move_customer_mapping(customer_id, connection_id, company_id)
        count = _mapped_subscriptions(uow, customer_id, connection_id)
        reason = (
            f"remapped from Autotask company {mapped.company_id} to {company_id} ({name}); {_keeps(count)}"
        )
        return _record(ctx, uow, actor, mapped, reason)


def subscription_suggestions(ctx: ServiceContext, actor: Actor, connection_id: str) -> JSON:
    """{connection_id, subscriptions: [{subscription_id, contract_id, service_id, contract_service_id,
    matched_by}], subscriptions_skipped: [{subscription_id, reason}]}: for the live, unmapped
    subscriptions of customers mapped on the connection, the one contract service (on a contract of
    the customer's company running today) whose service has the offer's SKU, else its name
    (`service_match`)."""
    with ctx.units(commit=False) as uow:
        connection = visible_connection(uow.directory, actor, connection_id)
        companies = _mapped_companies(uow, connection.id)
        taken = {
            m.subscription_id: m.contract_service_id
            for m in uow.directory.subscription_mappings_of(connection.id)
        }
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
    found = suggest(
        ctx.connector_for(connection), wanted, set(taken.values()), ctx.today_in(connection.timezone)
    )
    return {"connection_id": connection_id, **found}


def accept_subscriptions(
    ctx: ServiceContext, actor: Actor, connection_id: str, chosen: list[JSON]
) -> list[JSON]:
    """Map each chosen {subscription_id, contract_id, service_id, contract_service_id?}; a mapped
    subscription or contract service is never remapped. Each mapping stores the Autotask names it
    lacks (`map_subscription`), read once for the batch: the first read stores them all."""
    fields = ("subscription_id", "contract_id", "service_id", "contract_service_id")

    def apply(item: JSON) -> None:
        body = {k: item[k] for k in fields if item.get(k) is not None}
        map_subscription.map_subscription(ctx, actor, {**body, "connection_id": connection_id})

    return _each(chosen, 5000, apply)


def test_connection(ctx: ServiceContext, actor: Actor, connection_id: str) -> JSON:
    """One ThresholdInformation call with the stored credentials: {ok, kind, message}."""
    connection = _connection(ctx, actor, connection_id)
    return check_credentials(ctx, vars(connection))
