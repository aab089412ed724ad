"""A group's read of its services' open outbox rows and ledger stays a look-up as the outbox
grows.

psycopg prepares a statement on its fifth run and PostgreSQL may then keep one generic plan for
it, made with the table sizes of that moment. Planned while the outbox was small, the plan used
the index on (status, due_at), or the connection alone, and filtered the services: every group
then read every open row (in a bench, 800 rows per operation and 4 ms per group after 2,000
operations). Here the read runs often enough to be prepared and planned while the tables are
empty (never analyzed, or analyzed empty) or hold a few rows, then thousands of other services'
rows arrive, and the same read must touch only the rows of the services it asks for.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import Engine, insert, text
from sqlalchemy.orm import Session

from contractsync.adapters.db.operations import create_operation
from contractsync.adapters.db.session import make_engine
from contractsync.adapters.db.state_store import _open_rows_and_ledger
from contractsync.adapters.db.tables import adjustments, connections, ledger, resellers

NOW = datetime(2026, 12, 1, tzinfo=UTC)
OTHERS = 3000  # rows of other services of the same connection
ASKED = [7, 8]


@pytest.fixture
def prepared(database_url: str) -> Iterator[Engine]:
    """An engine whose connection prepares every statement on its first run (PostgreSQL then
    plans it for its values five times, and may keep a generic plan from the sixth on)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's plan cache; SQLite plans each statement when it is prepared")
    engine = make_engine(database_url, connect_args={"prepare_threshold": 0}, pool_size=1)
    yield engine
    engine.dispose()


def _outbox_row(operation_id: int, service: int, day: date) -> dict[str, object]:
    return {
        "operation_id": operation_id, "connection_id": "k1", "subscription_id": f"s{service}",
        "contract_id": 100, "contract_service_id": service, "effective_date": day, "target_units": 5,
        "unit_price": Decimal("12.0000"), "unit_cost": Decimal("10.0000"), "status": "pending",
        "due_at": NOW, "next_attempt_at": NOW, "created_at": NOW,
    }  # fmt: skip


def _ledger_row(service: int, day: date) -> dict[str, object]:
    return {"connection_id": "k1", "contract_service_id": service, "effective_date": day, "unit_change": 5,
            "unit_price": Decimal("12.0000"), "unit_cost": Decimal("10.0000")}  # fmt: skip


def _rows_read(session: Session, table: str) -> int:
    """Rows of `table` this backend has read by scan or by index and not yet reported (its
    counts of the last second, this transaction's among them)."""
    read = session.execute(
        text(
            "SELECT coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0) "
            "FROM pg_stat_xact_user_tables WHERE relname = :table"
        ),
        {"table": table},
    ).scalar_one()
    return int(read)


@pytest.mark.parametrize("planned_on", ["empty tables", "tables analyzed empty", "a few rows"])
def test_the_group_read_touches_only_its_services_rows_whatever_the_tables_held_when_planned(
    prepared: Engine, planned_on: str
) -> None:
    with Session(prepared) as session, session.begin():
        session.execute(insert(resellers).values(id="r1", name="R1", promotion_setting="pass_through"))
        session.execute(insert(connections).values(
            id="k1", reseller_id="r1", kind="autotask", username="u", secret_encrypted="x", integration_code="c",
            timezone="UTC", settle_seconds=0, policies={}, created_at=NOW))  # fmt: skip
        operation = create_operation(
            session, connection_id="k1", operation_key="a", type="t", status="ok", now=NOW
        )
    days = [date(2026, 1, 1), date(2026, 2, 1)]
    if planned_on == "a few rows":
        with Session(prepared) as session, session.begin():
            session.execute(insert(adjustments), [_outbox_row(operation, s, days[0]) for s in (1, 2, 3)])
    if planned_on == "tables analyzed empty":
        with prepared.connect() as connection:
            connection.execute(text("ANALYZE adjustments, ledger"))
            connection.commit()
    with Session(prepared) as session, session.begin():
        for _ in range(8):  # prepared, planned for its values, then perhaps a generic plan kept
            _open_rows_and_ledger(session, "k1", ASKED)
    with Session(prepared) as session, session.begin():
        others = list(range(100, 100 + OTHERS // len(days)))
        session.execute(
            insert(adjustments), [_outbox_row(operation, s, d) for s in others + ASKED for d in days]
        )
        session.execute(insert(ledger), [_ledger_row(s, d) for s in others + ASKED for d in days])
    with Session(prepared) as session, session.begin():
        before = {table: _rows_read(session, table) for table in ("adjustments", "ledger")}
        open_rows, held, _ = _open_rows_and_ledger(session, "k1", ASKED)
        assert {s: len(rows) for s, rows in open_rows.items()} == dict.fromkeys(ASKED, len(days))
        assert {s: len(rows) for s, rows in held.items()} == dict.fromkeys(ASKED, len(days))
        for table, read_before in before.items():
            assert _rows_read(session, table) - read_before == len(ASKED) * len(days)
