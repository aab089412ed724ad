"""What the daily sweep writes, in chunks of bulk statements, on SQLite and PostgreSQL.

Every swept subscription gets one UPDATE at the version it was read and one history row with its
full snapshot; a chunk that lost a race is rolled back and retried; a preview and a second sweep
of the same day write nothing.
"""

from __future__ import annotations

import dataclasses
import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.engine import Engine

from contractsync.adapters.clock import ManualClock
from contractsync.adapters.db import domain_rows
from contractsync.adapters.db.books_table import service_books
from contractsync.adapters.db.tables import (
    adjustments,
    connection_operations,
    connections,
    contracts,
    customers,
    resellers,
    subscription_history,
    subscription_mappings,
    subscriptions,
)
from contractsync.bootstrap import build_app_service
from contractsync.ports.subscription_books import LostRace
from contractsync.service.actor import ADMIN
from contractsync.service.facade import ContractSync
from contractsync.settings import Settings

SEEDED = datetime(2024, 12, 1, tzinfo=UTC)
SWEPT_AT = datetime(2025, 1, 1, 1, tzinfo=UTC)
COUNT = 10  # even ones renew, odd ones expire; s0, s3, s6, s9 are mapped


def mapped(i: int) -> bool:
    return i % 3 == 0


def seed(engine: Engine) -> None:
    # fmt: off
    subscription = {"customer_id": "c1", "reseller_id": "r1", "offer_id": "P:S:A", "offer_name": "E3", "kind": "nce",
                    "status": "active", "term": "P1Y", "billing_cycle": "monthly", "start_date": date(2024, 1, 1),
                    "end_date": date(2024, 12, 31), "list_price": Decimal("10.10"), "version": 1,
                    "created_at": SEEDED, "updated_at": SEEDED}
    connection = {"id": "at1", "reseller_id": "r1", "kind": "autotask", "username": "u", "secret_encrypted": "x",
                  "integration_code": "c", "timezone": "UTC", "settle_seconds": 0, "policies": {}, "created_at": SEEDED}
    book_intents = [{"date": "2024-02-01", "units": 1, "unit_price": "12.1200", "unit_cost": "10.1000"}]
    with engine.begin() as db:
        db.execute(insert(resellers).values(id="r1", name="R1", promotion_setting="pass_through"))
        db.execute(insert(customers).values(id="c1", reseller_id="r1", name="C", provider_margins={"microsoft": "20"}))
        db.execute(insert(connections).values(connection))
        db.execute(insert(contracts).values(connection_id="at1", contract_id=1, start_date=date(2024, 1, 1),
                                            end_date=date(2027, 12, 31), period_type="monthly"))
        db.execute(insert(subscriptions), [
            {**subscription, "id": f"s{i}", "quantity": 1 + i, "auto_renew": i % 2 == 0} for i in range(COUNT)])
        db.execute(insert(subscription_mappings), [
            {"subscription_id": f"s{i}", "connection_id": "at1", "contract_id": 1, "service_id": 1,
             "contract_service_id": 100 + i, "mapped_on": date(2024, 2, 1), "created_at": SEEDED}
            for i in range(COUNT) if mapped(i)])
        db.execute(insert(service_books), [
            {"connection_id": "at1", "contract_service_id": 100 + i, "contract_id": 1,
             "service_start": date(2024, 2, 1), "intents": book_intents}
            for i in range(COUNT) if mapped(i)])
    # fmt: on


@pytest.fixture
def service(database_url: str, engine: Engine, tmp_path: Path) -> ContractSync:
    seed(engine)
    settings = Settings(database_url=database_url, data_dir=tmp_path)
    built = build_app_service(
        settings, clock=ManualClock(SWEPT_AT), connector_factory=lambda row: None, upgrade=False
    )
    # several chunks, and a short last one
    return ContractSync(dataclasses.replace(built.context, sweep_chunk=3))


def count(engine: Engine, table: Any) -> int:
    with engine.connect() as db:
        return int(db.execute(select(func.count()).select_from(table)).scalar_one())


def sweep(service: ContractSync, **body: Any) -> dict[str, Any]:
    answer: dict[str, Any] = service.sweep(ADMIN, {"date": "2025-01-01", **body})
    return answer


def test_each_swept_subscription_is_updated_once_with_a_full_snapshot_in_its_history(
    service: ContractSync, engine: Engine
) -> None:
    answer = sweep(service)
    assert answer["subscriptions"] == COUNT
    renewed_mapped = [i for i in range(COUNT) if mapped(i) and i % 2 == 0]
    expired_mapped = [i for i in range(COUNT) if mapped(i) and i % 2 == 1]
    assert answer["counts"] == {
        "RenewSubscriptionOnConnection:pending": len(renewed_mapped),
        "ExpireSubscriptionOnConnection:pending": len(expired_mapped),
    }
    with engine.connect() as db:
        rows = {row.id: row for row in db.execute(select(subscriptions))}
        history = db.execute(select(subscription_history)).all()
        raw = dict(db.exec_driver_sql("SELECT id, CAST(list_price AS TEXT) FROM subscriptions").all())
        kept = db.execute(select(adjustments.c.subscription_id, adjustments.c.target_units)).all()
    assert sorted(h.subscription_id for h in history) == sorted(rows)  # one each
    for h in history:
        row = rows[h.subscription_id]
        assert (row.version, h.version, row.updated_at, h.changed_at) == (2, 2, SWEPT_AT, SWEPT_AT)
        assert h.operation_id.startswith("sweep:2025-01-01:")
        # The snapshot is the whole subscription as stored, money as its exact text.
        assert h.snapshot == domain_rows.snapshot(domain_rows.subscription(row))
        assert h.snapshot["list_price"] == raw[row.id] == "10.10"
    for i in range(COUNT):
        row = rows[f"s{i}"]
        if i % 2 == 0:
            assert (row.status, row.start_date, row.end_date) == (
                "active",
                date(2025, 1, 1),
                date(2025, 12, 31),
            )
        else:
            assert (row.status, row.start_date, row.end_date) == (
                "expired",
                date(2024, 1, 1),
                date(2024, 12, 31),
            )
    assert sorted(kept) == sorted(
        [(f"s{i}", 1 + i) for i in renewed_mapped] + [(f"s{i}", 0) for i in expired_mapped]
    )


def test_a_second_sweep_of_the_same_day_writes_nothing(service: ContractSync, engine: Engine) -> None:
    sweep(service)
    written = [count(engine, t) for t in (subscription_history, connection_operations, adjustments)]
    again = sweep(service)
    assert (again["subscriptions"], again["counts"]) == (0, {})
    assert [count(engine, t) for t in (subscription_history, connection_operations, adjustments)] == written


def test_a_preview_sweep_writes_nothing(service: ContractSync, engine: Engine) -> None:
    preview = sweep(service, preview=True)
    assert preview["subscriptions"] == COUNT
    assert sum(preview["counts"].values()) == len([i for i in range(COUNT) if mapped(i)])
    assert [count(engine, t) for t in (subscription_history, connection_operations, adjustments)] == [0, 0, 0]
    with engine.connect() as db:
        assert set(db.execute(select(subscriptions.c.version, subscriptions.c.status)).all()) == {
            (1, "active")
        }
    assert sweep(service)["subscriptions"] == COUNT  # still all to do


class _StaleBooks:
    """`uow.books` whose first load of several subscriptions holds one version that another
    transaction has since moved on, as after a concurrent change; its save must refuse."""

    def __init__(self, books: Any, race: _Race) -> None:
        self._books, self._race = books, race

    def __getattr__(self, name: str) -> Any:
        return getattr(self._books, name)

    def load(self, *args: Any, **kwargs: Any) -> Any:
        loaded = self._books.load(*args, **kwargs)
        if not self._race.raced and len(loaded.versions) > 1:
            last = sorted(loaded.versions)[-1]
            loaded.versions[last] -= 1  # its UPDATE … WHERE version = … matches nothing
            self._race.raced.append(last)
        return loaded

    def save(self, *args: Any, **kwargs: Any) -> list[int]:
        try:
            ids: list[int] = self._books.save(*args, **kwargs)
        except LostRace:
            self._race.refused.append(True)
            raise
        return ids


class _Race:
    def __init__(self) -> None:
        self.raced: list[str] = []
        self.refused: list[bool] = []


class _ComposedUnits:
    """The service's units of work, each handing out the books `books_of` wraps around the real
    ones (composition: nothing of ours is patched)."""

    def __init__(self, units: Any, books_of: Callable[[Any], Any]) -> None:
        self._units, self._books_of = units, books_of

    def __getattr__(self, name: str) -> Any:
        return getattr(self._units, name)

    @contextmanager
    def __call__(self, *, commit: bool = True) -> Iterator[Any]:
        with self._units(commit=commit) as uow:
            yield _Wrapped(uow, self._books_of(uow.books))


class _Wrapped:
    def __init__(self, uow: Any, books: Any) -> None:
        self._uow, self.books = uow, books

    def __getattr__(self, name: str) -> Any:
        return getattr(self._uow, name)


def _composed(service: ContractSync, books_of: Callable[[Any], Any]) -> ContractSync:
    units = _ComposedUnits(service.context.units, books_of)
    return ContractSync(dataclasses.replace(service.context, units=units))


def test_a_chunk_that_lost_a_race_is_rolled_back_and_retried(service: ContractSync, engine: Engine) -> None:
    race = _Race()
    answer = sweep(_composed(service, lambda books: _StaleBooks(books, race)))
    assert race.raced and race.refused == [True]
    assert answer["subscriptions"] == COUNT
    # Nothing of the refused attempt is left: one history row and one version step each.
    with engine.connect() as db:
        assert sorted(db.execute(select(subscription_history.c.subscription_id)).scalars()) == sorted(
            f"s{i}" for i in range(COUNT)
        )
        assert set(db.execute(select(subscriptions.c.version)).scalars()) == {2}
    assert count(engine, connection_operations) == sum(answer["counts"].values())


def test_the_collector_sees_the_whole_heap_again_after_a_sweep(service: ContractSync) -> None:
    sweep(service)
    assert gc.get_freeze_count() == 0

    class FailingBooks:
        def __init__(self, books: Any) -> None:
            self._books = books

        def __getattr__(self, name: str) -> Any:
            return getattr(self._books, name)

        def load(self, *args: Any, **kwargs: Any) -> Any:
            assert gc.get_freeze_count() > 0  # frozen while the chunks run
            raise RuntimeError("the store failed")

    with pytest.raises(RuntimeError, match="the store failed"):
        sweep(_composed(service, FailingBooks), date="2026-01-01")
    assert gc.get_freeze_count() == 0
