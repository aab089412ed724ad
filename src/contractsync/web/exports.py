"""CSV exports of the audit log, the subscription list and a reconciliation, as the pages filter
them. Money is written with four places (what Autotask holds) and its currency in its own column,
so a spreadsheet sums it; a text cell that a spreadsheet would run as a formula is quoted."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from contractsync.domain.labels import offer_label, record_label
from contractsync.service.actor import Actor
from contractsync.service.errors import ServiceError
from contractsync.web.audit_pages import audit_filters
from contractsync.web.calls import call, refusal_text
from contractsync.web.context import SECURITY_HEADERS, actor_of, console_of
from contractsync.web.formatting import Currencies, decimal_or_none
from contractsync.web.money import currencies
from contractsync.web.queries import clean

router = APIRouter(include_in_schema=False)

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> str:
    """A CSV cell: numbers as they are, text starting like a formula quoted with an apostrophe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    if text.startswith(FORMULA_START) and decimal_or_none(text) is None:
        return "'" + text
    return text


def csv_response(name: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Response:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([cell(value) for value in row])
    headers = {
        **SECURITY_HEADERS,
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
        "Cache-Control": "no-store",
    }
    # A byte-order mark: spreadsheet programs then read the file as UTF-8 (names with accents).
    return Response("\ufeff" + out.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)


def refused(exc: ServiceError) -> Response:
    return Response(
        f"Not exported: {refusal_text(exc)}\n", status_code=exc.http_status, media_type="text/plain"
    )


async def _names_and_currencies(request: Request, actor: Actor) -> tuple[dict[str, str], Currencies]:
    customers = await call(console_of(request).service.list_customers, actor)
    return {c["id"]: c["name"] for c in customers}, await currencies(request, actor)


OPERATION_COLUMNS = [
    "id", "recorded_at", "customer_id", "customer", "subscription_id", "connection_id", "operation",
    "type", "status", "effective_date", "reason", "adjustments", "unit_change", "units_after",
    "unit_price", "unit_cost", "currency", "preview", "actor",
]  # fmt: skip


@router.get("/operations.csv")
async def operations_csv(request: Request) -> Response:
    actor = actor_of(request)
    service = console_of(request).service
    filters = audit_filters(dict(request.query_params))
    try:
        records = await call(service.export_operations, actor, filters)
        names, cur = await _names_and_currencies(request, actor)
    except ServiceError as exc:
        return refused(exc)

    def rows() -> Iterable[list[Any]]:
        for op in records:
            adjustments = op.get("adjustments") or []
            last = adjustments[-1] if adjustments else {}
            yield [
                op["id"], op.get("created_at"), op.get("customer_id"), names.get(op.get("customer_id") or ""),
                op.get("subscription_id"), op.get("connection_id"), record_label(op["type"]), op["type"],
                op["status"], op.get("effective_date"), op.get("reason"), len(adjustments),
                sum(int(a.get("unit_change") or 0) for a in adjustments) if adjustments else None,
                last.get("target_units"), last.get("adjusted_unit_price"), last.get("adjusted_unit_cost"),
                cur.of(op) if adjustments else None, op.get("preview", False), op.get("actor"),
            ]  # fmt: skip

    return csv_response("audit-log.csv", OPERATION_COLUMNS, rows())


SUBSCRIPTION_COLUMNS = [
    "id", "customer_id", "customer", "name", "offer_id", "offer", "status", "sync_state", "quantity",
    "term_start", "term_end", "billing", "list_price", "unit_cost", "unit_price", "markup_on_cost_percent",
    "currency", "connection_id", "contract_id", "contract_service_id", "open_manual_actions",
]  # fmt: skip


@router.get("/subscriptions.csv")
async def subscriptions_csv(
    request: Request, customer_id: str | None = None, sync_state: str | None = None
) -> Response:
    actor = actor_of(request)
    service = console_of(request).service
    customer_id, sync_state = clean(customer_id), clean(sync_state)
    try:
        found = await call(service.all_subscriptions, actor, customer_id)
        names, cur = await _names_and_currencies(request, actor)
    except ServiceError as exc:
        return refused(exc)
    chosen = [s for s in found if sync_state is None or s.get("sync_state") == sync_state]
    return csv_response(
        "subscriptions.csv",
        SUBSCRIPTION_COLUMNS,
        (
            [
                s["id"],
                s["customer_id"],
                names.get(s["customer_id"]),
                s.get("friendly_name") or s["offer_name"],
                s["offer_id"],
                offer_label(s["kind"], s.get("term")),
                s["status"],
                s.get("sync_state"),
                s["quantity"],
                s.get("start_date"),
                s.get("end_date"),
                s.get("billing_cycle"),
                s.get("list_price"),
                s.get("unit_cost"),
                s.get("unit_price"),
                markup(s.get("unit_price"), s.get("unit_cost")),
                cur.of(s),
                (s.get("mapping") or {}).get("connection_id"),
                (s.get("mapping") or {}).get("contract_id"),
                (s.get("mapping") or {}).get("contract_service_id"),
                s.get("open_manual_actions", 0),
            ]
            for s in chosen
        ),
    )


def markup(price: Any, cost: Any) -> str | None:
    """(price - cost) / cost in percent, two places; None without a cost."""
    p, c = decimal_or_none(price), decimal_or_none(cost)
    if p is None or c is None or c == 0:
        return None
    return f"{((p - c) / c * 100):.2f}"


RECONCILIATION_COLUMNS = [
    "kind", "subscription_id", "customer_id", "contract_service_id", "from", "to", "posted", "expected_units",
    "autotask_units", "expected_price", "autotask_price", "money_impact", "run_rate", "currency", "reason",
]  # fmt: skip


@router.get("/reconciliation.csv")
async def reconciliation_csv(request: Request, connection_id: str | None = None) -> Response:
    actor = actor_of(request)
    connection_id = clean(connection_id)
    if connection_id is None:
        return Response(
            "Choose a connection: /reconciliation.csv?connection_id=…\n", 422, media_type="text/plain"
        )
    try:
        report = await call(console_of(request).service.reconciliation, actor, connection_id)
    except ServiceError as exc:
        return refused(exc)
    currency = report.get("currency") or console_of(request).money.currency
    return csv_response(
        f"reconciliation-{connection_id}.csv",
        RECONCILIATION_COLUMNS,
        (
            [
                d.get("kind"),
                d.get("subscription_id"),
                d.get("customer_id"),
                d.get("contract_service_id"),
                d.get("date"),
                d.get("period_end"),
                d.get("posted"),
                d.get("expected_units"),
                d.get("autotask_units"),
                d.get("expected_price"),
                d.get("autotask_price"),
                d.get("money_impact"),
                d.get("run_rate"),
                currency,
                d.get("reason"),
            ]
            for d in report.get("differences") or []
        ),
    )
