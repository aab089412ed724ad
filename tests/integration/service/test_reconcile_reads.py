"""Reconciliation reads Autotask in one query per 500 contract services, with no database
transaction open while it waits for Autotask (checked on PostgreSQL in pg_stat_activity)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url

from contractsync.adapters.db.session import is_postgres, make_engine
from contractsync.ports.psa import UnitsRead
from contractsync.service.actor import ADMIN
from tests.integration.service.conftest import World, map_s1


class Watching:
    """Autotask's connector, noting every units read and the database's open transactions then."""

    def __init__(self, world: World, url: str) -> None:
        self._inner = world.autotask.connector
        self._url = url
        self.batches: list[int] = []
        self.open_transactions: list[int] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def service_units_of(self, ids: list[int]) -> UnitsRead:
        self.batches.append(len(ids))
        if self._url.startswith("postgresql"):
            engine = make_engine(self._url)
            database = make_url(self._url).database
            with engine.connect() as db:
                self.open_transactions.append(
                    db.execute(
                        text(
                            "SELECT count(*) FROM pg_stat_activity WHERE datname = :name "
                            "AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()"
                        ),
                        {"name": database},
                    ).scalar_one()
                )
            engine.dispose()
        return self._inner.service_units_of(ids)


def test_one_read_and_no_open_transaction_while_reading(world: World, database_url: str) -> None:
    map_s1(world)
    world.deliver()
    watching = Watching(world, database_url)
    world.service.context.connector_for = lambda row: watching
    report = world.service.reconciliation(ADMIN, "at-r1")
    assert (report["services_checked"], report["reads"]) == (1, 1)
    assert watching.batches == [1]
    with world.service.context.sessions() as session:
        if is_postgres(session):
            assert watching.open_transactions == [0]
