"""A PostgreSQL engine on the test database with one reseller, one customer and three
subscriptions (`s1`, `s2`, `s3`), for the tests of PostgreSQL-only statements."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine, insert

from contractsync.adapters.db.session import make_engine
from contractsync.adapters.db.tables import customers, resellers, subscriptions

NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


@pytest.fixture
def postgres(database_url: str) -> Iterator[Engine]:
    if not database_url.startswith("postgresql"):
        pytest.skip("a PostgreSQL statement or setting (SQLite runs these through SQLAlchemy its own way)")
    engine = make_engine(database_url)
    with engine.begin() as db:
        db.execute(insert(resellers).values(id="r1", name="R1", promotion_setting="pass_through"))
        db.execute(
            insert(customers).values(id="c1", reseller_id="r1", name="C", provider_margins={"p": "5.5"})
        )
        db.execute(insert(subscriptions), [
            {"id": f"s{n}", "customer_id": "c1", "reseller_id": "r1", "offer_id": "P:S:A", "offer_name": "E3",
             "kind": "nce", "quantity": n, "status": "active", "term": "P1Y", "billing_cycle": "monthly",
             "start_date": date(2026, 1, 1), "end_date": date(2026, 12, 31), "auto_renew": True,
             "list_price": "10.10", "version": 1, "created_at": NOW, "updated_at": NOW}
            for n in (1, 2, 3)
        ])  # fmt: skip
    yield engine
    engine.dispose()
