"""Read-only questions to a connection's PSA, for the mapping pages: its contracts, a contract's
service lines, its services and customer companies, and whether the stored credentials work."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from contractsync.domain.money import format_money
from contractsync.service import validation as v
from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext, read_connection
from contractsync.service.credentials_check import check_credentials
from contractsync.service.partner_center_suggest import _company_rows
from contractsync.service.psa_contracts import period_type_name

JSON = dict[str, Any]
#: Companies a search answers at most.
MAX_RESULTS = 50


def search_contracts(
    ctx: ServiceContext, actor: Actor, connection_id: str, company_id: int | None = None
) -> list[JSON]:
    """[{id, name, company_id, start_date, end_date, period_type}] (of one company, or all)."""
    connector = ctx.connector_for(read_connection(ctx, actor, connection_id))
    return [
        {
            "id": c.id,
            "name": c.name,
            "company_id": c.company_id,
            "start_date": c.start_date.isoformat(),
            "end_date": c.end_date.isoformat(),
            "period_type": period_type_name(c.period_type),
        }
        for c in connector.find_contracts(company_id)
    ]


def search_contract_services(
    ctx: ServiceContext, actor: Actor, connection_id: str, contract_id: int
) -> list[JSON]:
    """[{id, contract_id, service_id, service_name, unit_price, unit_cost}] of the contract."""
    connector = ctx.connector_for(read_connection(ctx, actor, connection_id))
    names = {s.id: s.name for s in connector.find_services()}
    return [
        {
            "id": line.id,
            "contract_id": line.contract_id,
            "service_id": line.service_id,
            "service_name": names.get(line.service_id),
            "unit_price": _money(line.unit_price),
            "unit_cost": _money(line.unit_cost),
        }
        for line in connector.find_contract_services(contract_id)
    ]


def search_services(
    ctx: ServiceContext, actor: Actor, connection_id: str, name: str | None = None
) -> list[JSON]:
    """[{id, name, unit_price, unit_cost}] (named `name`, or all)."""
    connector = ctx.connector_for(read_connection(ctx, actor, connection_id))
    return [
        {"id": s.id, "name": s.name, "unit_price": _money(s.unit_price), "unit_cost": _money(s.unit_cost)}
        for s in connector.find_services(name)
    ]


def search_companies(ctx: ServiceContext, actor: Actor, connection_id: str, name: str) -> list[JSON]:
    """Customer companies whose name contains `name` (any case): [{id, name}], at most 50."""
    wanted = v.text(name, "name", 200).strip().lower()
    rows = _company_rows(ctx.connector_for(read_connection(ctx, actor, connection_id)))
    found = sorted(
        (str(r.get("companyName") or ""), int(r["id"]))
        for r in rows
        if wanted in str(r.get("companyName") or "").lower()
    )
    return [{"id": company_id, "name": name} for name, company_id in found[:MAX_RESULTS]]


def test_connection(ctx: ServiceContext, actor: Actor, connection_id: str) -> JSON:
    """One ThresholdInformation call with the stored credentials: {ok, kind, message}."""
    return check_credentials(ctx, vars(read_connection(ctx, actor, connection_id)))


def _money(value: Decimal | None) -> str | None:
    return None if value is None else format_money(value)
