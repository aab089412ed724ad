"""Writes to the ledger: what Autotask holds per contract service and date."""

from __future__ import annotations

from datetime import date
from functools import cache

from sqlalchemy import Executable, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from contractsync.adapters.db.outbox_rows import LedgerEntry
from contractsync.adapters.db.session import is_postgres
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
    _merge(session, connection_id, contract_service_id, [entry])


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
    _merge(session, connection_id, contract_service_id, entries)


@cache
def _merge_statement(dialect_name: str) -> Executable:
    """The upsert that merges one entry into the ledger (built once per dialect: it holds no values)."""
    statement = (postgresql.insert if dialect_name == "postgresql" else sqlite.insert)(ledger)
    excluded = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=[ledger.c.connection_id, ledger.c.contract_service_id, ledger.c.effective_date],
        set_={
            "unit_change": ledger.c.unit_change + excluded.unit_change,
            "unit_price": excluded.unit_price,
            "unit_cost": excluded.unit_cost,
            "autotask_id": excluded.autotask_id,
            "adjustment_id": excluded.adjustment_id,
        },
    )


def _merge(
    session: Session, connection_id: str, contract_service_id: int, entries: list[LedgerEntry]
) -> None:
    """Each entry merged into the one the ledger holds on its date (its units added, the rest
    replaced), in order — one statement run for all of them (a rebuild writes a service's whole
    history: one round trip, not one per date)."""
    if not entries:
        return
    session.execute(
        _merge_statement("postgresql" if is_postgres(session) else "sqlite"),
        [
            {
                "connection_id": connection_id,
                "contract_service_id": contract_service_id,
                "effective_date": entry.effective_date,
                "unit_change": entry.unit_change,
                "unit_price": entry.unit_price,
                "unit_cost": entry.unit_cost,
                "autotask_id": entry.autotask_id,
                "adjustment_id": entry.adjustment_id,
            }
            for entry in entries
        ],
    )


__all__ = ["price_in_force", "record", "replace_from"]
