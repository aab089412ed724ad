"""A group's read of its services' open outbox rows and ledger stays a look-up as the outbox
grows (migration 0015).

psycopg prepares a statement on its fifth run and PostgreSQL may then keep one generic plan for
it, made with the table sizes of that moment. Planned while the outbox was empty, with the
connection leading the index, the services became a filter: every group then read every row of
the connection, and a group's read grew from 0.02 to 4 ms over 2,000 operations. Here the plan is
made generic and cached on empty tables on purpose, then thousands of other services' rows
arrive, and the same read must touch only the rows of the services it asks for.
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
def generic_plans(database_url: str) -> Iterator[Engine]:
    """An engine whose connections prepare every statement at once and keep a generic plan."""
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's plan cache; SQLite plans each statement when it is prepared")
    engine = make_engine(
        database_url,
        connect_args={"prepare_threshold": 0, "options": "-c plan_cache_mode=force_generic_plan"},
        pool_size=1,
    )
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
    """Rows of `table` this transaction has read so far, by scan or by index."""
    read = session.execute(
        text(
            "SELECT coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0) "
            "FROM pg_stat_xact_user_tables WHERE relname = :table"
        ),
        {"table": table},
    ).scalar_one()
    return int(read)


def test_the_group_read_touches_only_its_services_rows_after_a_plan_made_on_empty_tables(
    generic_plans: Engine,
) -> None:
    with Session(generic_plans) as session, session.begin():
        session.execute(insert(resellers).values(id="r1", name="R1", promotion_setting="pass_through"))
        session.execute(insert(connections).values(
            id="k1", reseller_id="r1", kind="autotask", username="u", secret_encrypted="x", integration_code="c",
            timezone="UTC", settle_seconds=0, policies={}, created_at=NOW))  # fmt: skip
        operation = create_operation(
            session, connection_id="k1", operation_key="a", type="t", status="ok", now=NOW
        )
    with Session(generic_plans) as session, session.begin():
        for _ in range(2):  # planned and cached while the outbox and the ledger are empty
            assert _open_rows_and_ledger(session, "k1", ASKED) == ({}, {}, set())
    days = [date(2026, 1, 1), date(2026, 2, 1)]
    with Session(generic_plans) as session, session.begin():
        others = [s for s in range(100, 100 + OTHERS // len(days))]
        session.execute(
            insert(adjustments), [_outbox_row(operation, s, d) for s in others + ASKED for d in days]
        )
        session.execute(insert(ledger), [_ledger_row(s, d) for s in others + ASKED for d in days])
    with Session(generic_plans) as session, session.begin():
        open_rows, held, _ = _open_rows_and_ledger(session, "k1", ASKED)
        assert {s: len(rows) for s, rows in open_rows.items()} == dict.fromkeys(ASKED, len(days))
        assert {s: len(rows) for s, rows in held.items()} == dict.fromkeys(ASKED, len(days))
        assert _rows_read(session, "adjustments") <= len(ASKED) * len(days)
        assert _rows_read(session, "ledger") <= len(ASKED) * len(days)
