"""Writes to the ledger: what Autotask holds per contract service and date."""

from __future__ import annotations

from datetime import date

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from contractsync.adapters.db.records import LedgerEntry
from contractsync.adapters.db.tables import ledger


def price_in_force(
    session: Session, connection_id: str, contract_service_id: int, on: date
) -> LedgerEntry | None:
    """The latest ledger entry on or before a date: its price and cost hold on that date."""
    row = session.execute(
        select(ledger)
        .where(
            ledger.c.connection_id == connection_id,
            ledger.c.contract_service_id == contract_service_id,
            ledger.c.effective_date <= on,
        )
        .order_by(ledger.c.effective_date.desc())
        .limit(1)
    ).first()
    return None if row is None else LedgerEntry.from_row(row)


def record(
    session: Session,
    connection_id: str,
    contract_service_id: int,
    entry: LedgerEntry,
) -> None:
    """Add an adjustment Autotask now holds; merges into an entry already on that date."""
    key = (
        (ledger.c.connection_id == connection_id)
        & (ledger.c.contract_service_id == contract_service_id)
        & (ledger.c.effective_date == entry.effective_date)
    )
    existing = session.execute(select(ledger.c.unit_change).where(key)).first()
    values = {
        "unit_price": entry.unit_price,
        "unit_cost": entry.unit_cost,
        "autotask_id": entry.autotask_id,
        "adjustment_id": entry.adjustment_id,
    }
    if existing is None:
        session.execute(
            insert(ledger).values(
                connection_id=connection_id,
                contract_service_id=contract_service_id,
                effective_date=entry.effective_date,
                unit_change=entry.unit_change,
                **values,
            )
        )
    else:
        session.execute(
            update(ledger).where(key).values(unit_change=existing[0] + entry.unit_change, **values)
        )


def replace_from(
    session: Session,
    connection_id: str,
    contract_service_id: int,
    start: date,
    entries: list[LedgerEntry],
) -> None:
    """Replace every entry dated on or after `start` (rebuilding from what Autotask shows)."""
    session.execute(
        delete(ledger).where(
            ledger.c.connection_id == connection_id,
            ledger.c.contract_service_id == contract_service_id,
            ledger.c.effective_date >= start,
        )
    )
    for entry in entries:
        record(session, connection_id, contract_service_id, entry)


__all__ = ["price_in_force", "record", "replace_from"]
