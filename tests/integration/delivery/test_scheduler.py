"""The daily sweep runs once per connection and local date, in the connection's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from contractsync.adapters.clock import ManualClock
from contractsync.adapters.db.session import transaction
from contractsync.adapters.db.sweep_runs import SqlSweepRuns
from contractsync.adapters.db.tables import connections, sweep_runs
from contractsync.delivery.scheduler import DailySweepScheduler
from tests.fakes.outbox_data import seed_connection


def test_each_connection_sweeps_once_per_local_date(
    factory: sessionmaker[Session], clock: ManualClock
) -> None:
    with transaction(factory) as session:
        seed_connection(session, clock.now(), "auckland")
        session.execute(
            update(connections).where(connections.c.id == "auckland").values(timezone="Pacific/Auckland")
        )
    calls: list[tuple[str, date]] = []
    clock.set(datetime(2025, 3, 3, 10, 59, tzinfo=UTC))  # 23:59 in Auckland (NZDT, UTC+13)
    first = DailySweepScheduler(
        SqlSweepRuns(factory), clock, lambda c, d: calls.append((c, d)), check_every_seconds=0
    )
    second = DailySweepScheduler(
        SqlSweepRuns(factory), clock, lambda c, d: calls.append((c, d)), check_every_seconds=0
    )
    first.tick()
    second.tick()  # another worker: the sweep_runs row is taken
    assert sorted(calls) == [("at1", date(2025, 3, 3)), ("auckland", date(2025, 3, 3))]
    clock.advance(120)  # 00:01 on the 4th in Auckland, still the 3rd in UTC
    second.tick()
    first.tick()
    assert calls[-1] == ("auckland", date(2025, 3, 4))
    assert len(calls) == 3
    with transaction(factory) as session:
        finished = session.execute(select(sweep_runs.c.finished_at)).scalars().all()
    assert all(f is not None for f in finished)


def test_losing_the_insert_race_skips(factory: sessionmaker[Session], clock: ManualClock) -> None:
    calls: list[tuple[str, date]] = []
    runs = SqlSweepRuns(factory)
    scheduler = DailySweepScheduler(runs, clock, lambda c, d: calls.append((c, d)), check_every_seconds=0)
    original = runs.claim

    def racing_claim(connection_id: str, day: date, now: datetime) -> bool:
        with transaction(factory) as session:  # another worker wins between check and insert
            session.execute(
                insert(sweep_runs).values(connection_id=connection_id, sweep_date=day, started_at=now)
            )
        return original(connection_id, day, now)

    runs.claim = racing_claim  # type: ignore[method-assign]
    assert scheduler.tick() == []
    assert calls == []


def test_a_failing_sweep_is_logged_and_not_repeated(
    factory: sessionmaker[Session], clock: ManualClock
) -> None:
    attempts: list[date] = []

    def sweep(connection_id: str, day: date) -> None:
        attempts.append(day)
        raise RuntimeError("boom")

    scheduler = DailySweepScheduler(SqlSweepRuns(factory), clock, sweep, check_every_seconds=0)
    scheduler.tick()
    scheduler.tick()
    assert attempts == [clock.now().date()]
