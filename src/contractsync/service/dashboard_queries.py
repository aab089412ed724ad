"""The console's home page in one read: how each connection and customer stands.

Monthly recurring revenue and cost are what Autotask bills: the units and prices contractsync sent
to each mapped contract service (its ledger), per month of the subscription's billing cycle (a
yearly price counts a twelfth). Unmapped subscriptions are not billed in Autotask; they are counted
apart with what they would bill. Money at risk is the newest stored reconciliation run's money
impact (no Autotask call here). The trend is the same computation on the first day of each of the
last 12 months.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from dateutil.relativedelta import relativedelta

from contractsync.ports.dashboard import BilledLine
from contractsync.ports.reconciliation_runs import StoredRun
from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext
from contractsync.service.directory_queries import get_subscription, list_connections, list_customers
from contractsync.service.list_alerts import list_alerts
from contractsync.service.operation_queries import list_manual_actions

JSON = dict[str, Any]
MONTHS = {"monthly": 1, "annual": 12, "triennial": 36}
PLACES = Decimal("0.0001")
TREND_MONTHS = 12


def connection_currencies(ctx: ServiceContext, actor: Actor) -> dict[str, str]:
    """Connection id → its stored currency (connections without one use the console's default)."""
    ids = [c["id"] for c in list_connections(ctx, actor)]
    with ctx.units(commit=False) as uow:
        return uow.dashboard.currencies(ids)


def all_subscriptions(ctx: ServiceContext, actor: Actor, customer_id: str | None = None) -> list[JSON]:
    """Every visible subscription (as `get_subscription` answers it), for a CSV export."""
    with ctx.units(commit=False) as uow:
        ids = uow.directory.subscription_ids(actor.reseller_id)
    found = [get_subscription(ctx, actor, i) for i in ids]
    return [s for s in found if customer_id is None or s["customer_id"] == customer_id]


def _monthly(amount: Decimal, cycle: str) -> Decimal:
    return amount / MONTHS.get(cycle, 1)


def _held(line: BilledLine, on: date) -> tuple[int, Decimal, Decimal]:
    """(units, unit price, unit cost) Autotask holds for the line on a day."""
    units, price, cost = 0, Decimal(0), Decimal(0)
    for effective, change, unit_price, unit_cost in line.changes:
        if effective > on:
            break
        units += change
        price, cost = unit_price, unit_cost
    return units, price, cost


def _money(value: Decimal) -> str:
    return str(value.quantize(PLACES, rounding=ROUND_HALF_UP))


def _markup(revenue: Decimal, cost: Decimal) -> str | None:
    """Markup on cost in percent ((price - cost) / cost), the figure the seed calls "margin"."""
    if cost == 0:
        return None
    return str(((revenue - cost) / cost * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


class _Totals:
    def __init__(self) -> None:
        self.revenue = Decimal(0)
        self.cost = Decimal(0)
        self.seats = 0
        self.states: Counter[str] = Counter()
        self.failed = 0
        self.manual_actions = 0
        self.unmapped_revenue = Decimal(0)

    def view(self) -> JSON:
        return {
            "mrr": _money(self.revenue),
            "cost": _money(self.cost),
            "profit": _money(self.revenue - self.cost),
            "markup_percent": _markup(self.revenue, self.cost),
            "seats": self.seats,
            "subscriptions": dict(self.states),
            "failed_records": self.failed,
            "open_manual_actions": self.manual_actions,
            "unmapped_mrr": _money(self.unmapped_revenue),
        }


def dashboard(ctx: ServiceContext, actor: Actor) -> JSON:
    """{today, connections: [...], customers: [...], unmapped: {...}, trend: {connection_id: [...]},
    open_alerts, open_manual_actions}; money as 4-place decimal strings, per connection's currency."""
    connections = list_connections(ctx, actor)
    customers = list_customers(ctx, actor)
    actions = list_manual_actions(ctx, actor)
    alerts = list_alerts(ctx, actor, "open")
    ids = [c["id"] for c in connections]
    today = ctx.now().date()
    with ctx.units(commit=False) as uow:
        facts = uow.dashboard
        subscription_ids = uow.directory.subscription_ids(actor.reseller_id)
        currencies = facts.currencies(ids)
        delivered = facts.last_deliveries(ids)
        runs: dict[str, StoredRun] = {}
        for cid in ids:
            for newest in uow.reconciliation_runs.latest(cid, 1):
                runs[cid] = newest
        failed = facts.failed_records(ids)
        lines = facts.billed_lines(ids, today)
    views = [get_subscription(ctx, actor, i) for i in subscription_ids]

    by_connection: dict[str, _Totals] = defaultdict(_Totals)
    by_customer: dict[str, _Totals] = defaultdict(_Totals)
    customer_connection = {
        c["id"]: (c.get("mapping") or {}).get("connection_id") for c in customers if c.get("mapping")
    }
    for line in lines:
        units, price, cost = _held(line, today)
        for totals in (by_connection[line.connection_id], by_customer[line.customer_id]):
            totals.revenue += _monthly(units * price, line.billing_cycle)
            totals.cost += _monthly(units * cost, line.billing_cycle)
            totals.seats += units
    unmapped = _Totals()
    for sub in views:
        mapping = sub.get("mapping") or {}
        connection_id = mapping.get("connection_id")
        customer_connection.setdefault(sub["customer_id"], connection_id)
        by_customer[sub["customer_id"]].states[sub["sync_state"]] += 1
        by_customer[sub["customer_id"]].manual_actions += int(sub.get("open_manual_actions") or 0)
        if connection_id is None:
            if sub["status"] in ("active", "suspended"):
                amount = _monthly(Decimal(sub["unit_price"]) * sub["quantity"], sub["billing_cycle"])
                unmapped.unmapped_revenue += amount
                by_customer[sub["customer_id"]].unmapped_revenue += amount
                unmapped.seats += sub["quantity"]
            unmapped.states[sub["sync_state"]] += 1
            continue
        by_connection[connection_id].states[sub["sync_state"]] += 1
    for (connection_id, customer_id), count in failed.items():
        by_connection[connection_id].failed += count
        if customer_id is not None:
            by_customer[customer_id].failed += count
    for action in actions:
        if action.get("connection_id"):
            by_connection[action["connection_id"]].manual_actions += 1
    open_alerts = Counter(a.get("connection_id") for a in alerts)

    connection_rows = []
    for connection in connections:
        cid = connection["id"]
        run = runs.get(cid)
        connection_rows.append(
            {
                "id": cid,
                "reseller_id": connection["reseller_id"],
                "username": connection.get("username"),
                "paused": connection.get("paused"),
                "currency": currencies.get(cid),
                **by_connection[cid].view(),
                "last_delivery": _instant(delivered.get(cid)),
                "last_reconciliation": None
                if run is None
                else {
                    "id": run.id,
                    "finished_at": _instant(run.run.finished_at),
                    "money_impact": _money(Decimal(run.run.money_impact)),
                    "currency": run.run.currency,
                    "differences": dict(run.run.differences or {}),
                    "error": run.run.error,
                },
                "open_alerts": open_alerts.get(cid, 0),
            }
        )
    customer_rows = [
        {
            "id": c["id"],
            "name": c["name"],
            "connection_id": customer_connection.get(c["id"]),
            "currency": currencies.get(customer_connection.get(c["id"]) or ""),
            "company_id": (c.get("mapping") or {}).get("company_id"),
            **by_customer[c["id"]].view(),
        }
        for c in customers
    ]
    return {
        "today": today.isoformat(),
        "connections": connection_rows,
        "customers": customer_rows,
        "unmapped": unmapped.view(),
        "trend": _trend(lines, today),
        "open_alerts": len(alerts),
        "open_manual_actions": len(actions),
    }


def _trend(lines: list[BilledLine], today: date) -> dict[str, list[JSON]]:
    """Per connection, the first day of each of the last 12 months (and today): MRR, cost, seats."""
    first = today.replace(day=1)
    days = [first - relativedelta(months=k) for k in range(TREND_MONTHS - 1, -1, -1)]
    if days[-1] != today:
        days.append(today)
    series: dict[str, list[JSON]] = {}
    for connection_id in sorted({line.connection_id for line in lines}):
        mine = [line for line in lines if line.connection_id == connection_id]
        points = []
        for day in days:
            revenue, cost, seats = Decimal(0), Decimal(0), 0
            for line in mine:
                units, price, unit_cost = _held(line, day)
                revenue += _monthly(units * price, line.billing_cycle)
                cost += _monthly(units * unit_cost, line.billing_cycle)
                seats += units
            points.append(
                {"date": day.isoformat(), "mrr": _money(revenue), "cost": _money(cost), "seats": seats}
            )
        series[connection_id] = points
    return series


def _instant(value: Any) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")
