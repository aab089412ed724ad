"""X1 reconciliation: what Autotask holds against what contractsync planned, day by day; repair.

1. One read-only transaction gathers, per mapped contract service, what contractsync planned:
   its intents, the ledger of sent adjustments, the open and failed outbox rows, refused records.
2. With no transaction open, Autotask's ContractServiceUnits are read: one paged query per 500
   contract services.
3. `domain.reconciliation.compare` classifies each difference (drift, pending, inexact, failed)
   with its money impact.
4. `fix` corrects drift only, through the outbox (`reconcile_fix`), and the run is stored.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from contractsync.domain.money import format_money
from contractsync.domain.reconciliation import KINDS, AutotaskRow, Difference, Kind, ServiceFacts, compare
from contractsync.ports.psa import PsaError, ServiceUnitsPeriod
from contractsync.ports.reconciliation_facts import ConnectionRecords, ServiceRecords
from contractsync.ports.reconciliation_runs import FIX
from contractsync.service import reconcile_fix, reconcile_runs
from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext, visible_connection

JSON = dict[str, Any]


def reconciliation(
    ctx: ServiceContext, actor: Actor, connection_id: str, fix: bool, trigger: str = "on_demand"
) -> JSON:
    started = ctx.now()
    with ctx.units(commit=False) as uow:
        connection = visible_connection(uow.directory, actor, connection_id)
        records = uow.reconciliation_facts.read(connection.id, connection.timezone)
    today = ctx.today_in(records.timezone)
    services = [s.contract_service_id for s in records.services]
    periods: dict[int, list[ServiceUnitsPeriod]] = defaultdict(list)
    reads = 0
    if services:
        try:
            read = ctx.connector_for(connection).service_units_of(services)
        except PsaError as error:
            reconcile_runs.store_failure(ctx, records, len(services), started, trigger, error.message)
            raise
        reads = read.requests
        for period in read.periods:
            periods[period.contract_service_id].append(period)
    differences: list[Difference] = []
    for service in records.services:
        differences += compare(_facts(records, service, periods[service.contract_service_id]), today)
    report = _report(records, differences, len(services), reads)
    if fix:
        report.update(reconcile_fix.fix(ctx, records, differences, periods, actor.name))
    if fix and trigger == "on_demand":
        trigger = FIX
    report["run_id"] = reconcile_runs.store(ctx, records, report, differences, started, trigger)
    return report


def _facts(
    records: ConnectionRecords, service: ServiceRecords, periods: list[ServiceUnitsPeriod]
) -> ServiceFacts:
    contract = records.contracts[service.contract_id]
    return ServiceFacts(
        subscription_id=service.subscription_id,
        customer_id=service.customer_id,
        contract_service_id=service.contract_service_id,
        service_start=service.service_start,
        contract_start=contract.start_date,
        contract_end=contract.end_date,
        period_months=contract.period_type.months,
        autotask=[AutotaskRow(p.start_date, p.end_date, p.units, p.price, p.cost, p.posted) for p in periods],
        sent=service.sent,
        pending=service.open_rows,
        failed=service.failed,
        intents=service.intents,
        refusals=service.refusals,
        wanted=service.wanted,
    )


def _report(records: ConnectionRecords, differences: list[Difference], checked: int, reads: int) -> JSON:
    totals = {kind.value: _sum([d for d in differences if d.kind is kind]) for kind in KINDS}
    by_customer: dict[str, list[Difference]] = defaultdict(list)
    for difference in differences:
        by_customer[difference.customer_id].append(difference)
    overall = _sum(differences)
    return {
        "connection_id": records.connection_id,
        "currency": records.currency,
        "services_checked": checked,
        "reads": reads,
        "differences": [difference_view(d) for d in differences],
        "money_impact": overall["money_impact"],
        "run_rate": overall["run_rate"],
        "totals": totals,
        "totals_by_customer": [
            {"customer_id": customer, **_sum(found)} for customer, found in sorted(by_customer.items())
        ],
        "fixed": 0,
        "queued": [],
        "not_queued": [],
        "operations": [],
    }


def _sum(differences: list[Difference]) -> JSON:
    impact = sum((d.money_impact for d in differences), Decimal(0))
    run_rate = sum((d.run_rate for d in differences), Decimal(0))
    return {
        "count": len(differences),
        "money_impact": format_money(impact),
        "run_rate": format_money(run_rate),
    }


def difference_view(d: Difference) -> JSON:
    def price(value: Decimal | None) -> str | None:
        return None if value is None else format_money(value)

    return {
        "kind": d.kind.value,
        "subscription_id": d.subscription_id,
        "customer_id": d.customer_id,
        "contract_service_id": d.contract_service_id,
        "date": d.first_day.isoformat(),
        "period_end": d.last_day.isoformat(),
        "posted": d.posted,
        "expected_units": d.expected.units,
        "autotask_units": d.autotask.units,
        "expected_price": price(d.expected.unit_price),
        "autotask_price": price(d.autotask.unit_price),
        "money_impact": format_money(d.money_impact),
        "run_rate": format_money(d.run_rate),
        "reason": d.reason,
        "record_id": d.record_id,
        "exact_from": d.exact_from.isoformat() if d.exact_from else None,
    }


def drifting(differences: list[Difference]) -> dict[int, Difference]:
    """The first drift difference of each contract service."""
    first: dict[int, Difference] = {}
    for d in differences:
        if d.kind is Kind.DRIFT and d.contract_service_id not in first:
            first[d.contract_service_id] = d
    return first


__all__ = ["difference_view", "drifting", "reconciliation"]
