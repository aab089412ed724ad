"""A verification rebuilds a contract service's whole ledger history from what Autotask shows
(`ledger_repo.replace_from`); at the goal load a service holds hundreds of dates, so the rebuild
must not cost a round trip per date (it was ~0.9 ms of worker CPU per date, the drain's largest
single cost)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, event, select

from contractsync.adapters.db import ledger_repo
from contractsync.adapters.db.session import make_engine, session_factory, transaction
from contractsync.adapters.db.tables import ledger
from contractsync.ports.outbox import LedgerEntry
from tests.fakes.outbox_data import seed_connection

FIRST = date(2026, 1, 1)
PRICE, COST = Decimal("24.0000"), Decimal("20.0000")


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    made = make_engine(database_url)
    with transaction(session_factory(made)) as session:
        seed_connection(session, datetime(2026, 12, 1, tzinfo=UTC), "k1")
    yield made
    made.dispose()


def _history(days: int, units: int = 1) -> list[LedgerEntry]:
    return [LedgerEntry(FIRST + timedelta(days=n), units, PRICE, COST, 5000 + n, None) for n in range(days)]


def _ledger(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as db:
        return [
            tuple(row)
            for row in db.execute(
                select(ledger.c.effective_date, ledger.c.unit_change, ledger.c.autotask_id)
                .where(ledger.c.connection_id == "k1", ledger.c.contract_service_id == 7)
                .order_by(ledger.c.effective_date)
            )
        ]


def test_a_rebuild_of_300_dates_is_two_statements_and_keeps_every_date(engine: Engine) -> None:
    sessions = session_factory(engine)
    with transaction(sessions) as session:
        ledger_repo.replace_from(session, "k1", 7, FIRST, _history(300))
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    # Autotask showed two units more from the 101st day: the rebuild replaces days 100 on
    rebuilt = _history(300, units=3)[100:]
    with transaction(sessions) as session:
        ledger_repo.replace_from(session, "k1", 7, FIRST + timedelta(days=100), rebuilt)
    writes = [s for s in statements if not s.lstrip().upper().startswith(("BEGIN", "COMMIT", "SELECT"))]
    assert len(writes) == 2, writes  # one DELETE, one INSERT run for all 200 dates
    held = _ledger(engine)
    assert len(held) == 300
    assert held[99] == (FIRST + timedelta(days=99), 1, 5099)
    assert held[100] == (FIRST + timedelta(days=100), 3, 5100)
    assert held[-1] == (FIRST + timedelta(days=299), 3, 5299)


def test_entries_on_one_date_still_add_up_in_order(engine: Engine) -> None:
    day = FIRST + timedelta(days=3)
    with transaction(session_factory(engine)) as session:
        ledger_repo.replace_from(session, "k1", 7, FIRST, [
            LedgerEntry(day, 4, PRICE, COST, 1, None),
            LedgerEntry(day, -1, PRICE, COST, 2, None),
        ])  # fmt: skip
    assert _ledger(engine) == [(day, 3, 2)]
