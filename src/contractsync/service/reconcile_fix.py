"""X1 fix: one correcting adjustment per drifting contract service, through the outbox.

For each contract service with drift, in one transaction: the ledger (what contractsync believes
Autotask holds) is rebuilt from the ContractServiceUnits just read, and the service is re-planned
from the first drifting day with the intents it already has. The walk places the correction on
the first free day (a day Autotask already holds an adjustment for cannot take a second one),
and the audit record names any day that could not be made exact. The worker re-reads the units
before sending (the service is marked units-unknown), so a further edit in Autotask in between
is never double-corrected. A service is left alone, with the reason, when adjustments of it are
still on their way, or when contractsync sent something to it after Autotask was read.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from contractsync.domain.engine import SyncEngine
from contractsync.domain.enums import RecordStatus
from contractsync.domain.periods import add_months
from contractsync.domain.reconciliation import Difference, Kind
from contractsync.ports.ledger import Ledger
from contractsync.ports.outbox import LedgerEntry
from contractsync.ports.psa import ServiceUnitsPeriod
from contractsync.ports.reconciliation_facts import ConnectionRecords, ServiceRecords
from contractsync.ports.subscription_books import LoadedState
from contractsync.service import views
from contractsync.service.context import ServiceContext
from contractsync.service.ledger_rebuild import rebuild

JSON = dict[str, Any]
ONE_DAY = timedelta(days=1)


def fix(
    ctx: ServiceContext,
    records: ConnectionRecords,
    differences: list[Difference],
    periods: dict[int, list[ServiceUnitsPeriod]],
    actor: str | None = None,
) -> JSON:
    first_drift: dict[int, Difference] = {}
    for d in differences:
        if d.kind is Kind.DRIFT:
            first_drift.setdefault(d.contract_service_id, d)
    services = {s.contract_service_id: s for s in records.services}
    queued: list[JSON] = []
    not_queued: list[JSON] = []
    record_ids: list[int] = []
    if not first_drift:
        return {"fixed": 0, "queued": [], "not_queued": [], "operations": []}
    connection_id = records.connection_id
    with ctx.units() as uow:
        ready: dict[int, Difference] = {}
        for cs, difference in sorted(first_drift.items()):
            service = services[cs]
            uow.lock_subscription(service.subscription_id)
            refusal = _refusal(uow.ledger, connection_id, service)
            if refusal is not None:
                not_queued.append(_item(difference, refusal))
                continue
            _rebuild_ledger(uow.ledger, connection_id, service, periods[cs], records)
            ready[cs] = difference
        if ready:
            loaded = uow.books.load(connection_id, [services[cs].subscription_id for cs in ready])
            _learn_posted(loaded, periods, ready)
            engine = SyncEngine(loaded.state)
            planned: list[tuple[Difference, Any]] = []
            for cs, difference in ready.items():
                record = engine.repair(difference.subscription_id, cs, difference.first_day, ctx.now())
                planned.append((difference, record))
            ids = uow.books.save(loaded, f"reconcile:{uuid.uuid4().hex[:12]}", ctx.now(), actor)
            for (difference, record), record_id in zip(planned, ids, strict=True):
                if record.status is RecordStatus.PENDING:
                    queued.append({**_item(difference, None), "record_id": record_id})
                    # the worker reads the units again before it sends the correction
                    uow.ledger.mark_units_unknown(connection_id, difference.contract_service_id)
                else:
                    not_queued.append(
                        {**_item(difference, record.reason or "nothing to send"), "record_id": record_id}
                    )
            record_ids = ids
        operations = views.operations_by_id(uow.audit_records, record_ids)
    return {"fixed": len(queued), "queued": queued, "not_queued": not_queued, "operations": operations}


def _item(difference: Difference, reason: str | None) -> JSON:
    item: JSON = {
        "subscription_id": difference.subscription_id,
        "contract_service_id": difference.contract_service_id,
        "from": difference.first_day.isoformat(),
    }
    if reason is not None:
        item["reason"] = reason
    return item


def _refusal(ledger: Ledger, connection_id: str, service: ServiceRecords) -> str | None:
    """Why this service cannot be corrected now, or None."""
    if ledger.in_flight(connection_id, service.contract_service_id):
        return "adjustments of this contract service are still on their way to Autotask; reconcile again once they are sent"
    now_held = [
        (e.effective_date, e.unit_change) for e in ledger.entries(connection_id, service.contract_service_id)
    ]
    read_held = [(s.adjustment.effective_date, s.adjustment.unit_change) for s in service.sent]
    if now_held != read_held:
        return "contractsync sent to this contract service after Autotask was read; reconcile again"
    return None


def _rebuild_ledger(
    ledger: Ledger,
    connection_id: str,
    service: ServiceRecords,
    periods: list[ServiceUnitsPeriod],
    records: ConnectionRecords,
) -> None:
    """What Autotask holds from the service's start on, as ledger entries; every day Autotask
    already has an adjustment on (a row split inside a contract period) is kept as taken."""
    contract = records.contracts[service.contract_id]
    known = [
        LedgerEntry(s.adjustment.effective_date, s.adjustment.unit_change, s.adjustment.unit_price,
                    s.adjustment.unit_cost, None, None)
        for s in service.sent
    ]  # fmt: skip
    known = ledger.entries(connection_id, service.contract_service_id) or known
    rebuilt = rebuild(periods, known, (service.service_start - ONE_DAY, contract.end_date))
    entries = {e.effective_date: e for e in rebuilt.entries}
    period_starts = _contract_period_starts(
        contract.start_date, contract.end_date, contract.period_type.months
    )
    for period in periods:
        day = period.start_date
        if day > rebuilt.start and day not in entries and day not in period_starts:
            # Autotask split its row here: an adjustment that changed nothing visible holds the day.
            entries[day] = LedgerEntry(day, 0, period.price, period.cost, None, None)
    ledger.replace_from(
        connection_id, service.contract_service_id, rebuilt.start, sorted(entries.values(), key=_day)
    )


def _day(entry: LedgerEntry) -> date:
    return entry.effective_date


def _contract_period_starts(start: date, end: date, months: int) -> set[date]:
    starts: set[date] = set()
    k = 0
    while (day := add_months(start, k * months)) <= end:
        starts.add(day)
        k += 1
    return starts


def _learn_posted(
    loaded: LoadedState,
    periods: dict[int, list[ServiceUnitsPeriod]],
    ready: dict[int, Difference],
) -> None:
    """Autotask's rows say which periods are posted: the correction never aims inside one."""
    state = loaded.state
    for cs in ready:
        posted = [p.end_date for p in periods[cs] if p.posted]
        book = state.books.get(cs)
        if not posted or book is None:
            continue
        contract = state.contracts[book.contract_id]
        latest = max(posted)
        if contract.posted_through is None or contract.posted_through < latest:
            state.contracts[book.contract_id] = replace(contract, posted_through=latest)
