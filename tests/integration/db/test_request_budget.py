"""The Autotask request budget kept in the database: one per connection, whatever process spends
it, corrected from what ThresholdInformation says (SPEC §3 limits)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from sqlalchemy import event, insert
from sqlalchemy.orm import Session, sessionmaker

from contractsync.adapters.clock import ManualClock
from contractsync.adapters.db import budget_counts
from contractsync.adapters.db.budget_table import autotask_request_minutes
from contractsync.adapters.db.request_budget import (
    WORKER_GATHER_SECONDS,
    BudgetPolicy,
    SharedBudget,
    SharedBudgets,
)
from contractsync.adapters.db.session import transaction

START = datetime(2026, 3, 2, 9, 0, 30, tzinfo=UTC)


def budget(
    sessions: sessionmaker[Session], clock: ManualClock, key: str = "at1", **policy: object
) -> SharedBudget:
    # The manual clock is also the sleeper: a wait moves time on, as it would for real.
    return SharedBudget(sessions, key, clock, clock, BudgetPolicy(**policy))  # type: ignore[arg-type]


def test_two_processes_spend_one_budget(session_factory: sessionmaker[Session]) -> None:
    clock = ManualClock(START)
    first, second = budget(session_factory, clock), budget(session_factory, clock)
    for _ in range(7):
        first.acquire()
    for _ in range(5):
        second.acquire()
    first.flush()
    second.flush()
    assert first.usage().used == second.usage().used == 12
    assert budget(session_factory, clock, key="at2").usage().used == 0  # another connection's


def test_far_from_the_limit_calls_are_counted_after_they_are_granted(
    session_factory: sessionmaker[Session],
) -> None:
    clock = ManualClock(START)
    shared = budget(session_factory, clock)
    for _ in range(5):
        shared.acquire()
    shared.flush()
    other_process = budget(session_factory, clock)
    assert other_process.usage().used == 5


def test_a_worker_counts_the_calls_of_half_a_second_in_one_transaction(
    session_factory: sessionmaker[Session],
) -> None:
    """A worker's ten calls a second were ten budget transactions a second (a tenth of its CPU in
    the goal chaos drain); with the worker's policy the calls of each half second are counted
    together."""
    clock = ManualClock(START)
    shared = budget(session_factory, clock, gather_seconds=WORKER_GATHER_SECONDS)
    counted: list[str] = []
    engine = session_factory.kw["bind"]

    def watch(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO AUTOTASK_REQUEST_MINUTES"):
            counted.append(statement)

    event.listen(engine, "before_cursor_execute", watch)
    try:
        for _ in range(30):  # 30 calls over ~0.3 s, as a busy worker makes them
            shared.acquire()
            time.sleep(0.01)
        other_process = budget(session_factory, clock)
        deadline = time.monotonic() + 10
        while other_process.usage().used < 30 and time.monotonic() < deadline:
            time.sleep(0.05)  # no flush: the budget's own thread counts them
        assert other_process.usage().used == 30
    finally:
        event.remove(engine, "before_cursor_execute", watch)
    # the first call's reservation, then one (at most two) gathered counts — not one per call
    assert len(counted) <= 4, len(counted)


def test_a_call_whose_reservation_outlasted_its_wait_is_counted_once(
    session_factory: sessionmaker[Session],
) -> None:
    """The budget's row is locked by another transaction (on SQLite: the caller's own, as in
    mapping): the caller stops waiting, sends, and the late reservation counts that call — once."""
    clock = ManualClock(START)
    shared = budget(session_factory, clock)
    with transaction(session_factory) as session:
        budget_counts.lock_budget(session, "at1")
        shared.acquire()  # the reservation waits for the lock; the caller goes ahead
    shared.flush()
    assert budget(session_factory, clock).usage().used == 1
    for _ in range(3):  # far from the limit now: granted here, counted by the next sync
        shared.acquire()
    shared.flush()
    assert budget(session_factory, clock).usage().used == 4


def test_at_the_cap_a_caller_waits_until_the_oldest_minute_leaves_the_hour(
    session_factory: sessionmaker[Session],
) -> None:
    clock = ManualClock(START)
    shared = budget(session_factory, clock, share=10, slow_down_from=1.0)
    for _ in range(10):
        shared.acquire()
    assert clock.now() == START  # no wait below the cap
    shared.acquire()
    # The first ten were counted in the 09:00 minute; it leaves the hour after 10:01.
    assert clock.now() >= datetime(2026, 3, 2, 10, 1, tzinfo=UTC)
    assert shared.usage().used == 1


def test_above_the_slow_down_share_requests_are_spread_not_refused(
    session_factory: sessionmaker[Session],
) -> None:
    clock = ManualClock(START)
    shared = budget(session_factory, clock, share=10, slow_down_from=0.5)
    for _ in range(5):
        shared.acquire()
    assert clock.now() == START
    shared.acquire()
    shared.acquire()
    waited = (clock.now() - START).total_seconds()
    # The five left are spread over the ~61 minutes until 09:00 leaves the hour: ~12 min apart.
    assert 600 < waited < 61 * 60


def test_threshold_information_corrects_the_allowance(session_factory: sessionmaker[Session]) -> None:
    clock = ManualClock(START)
    shared = budget(session_factory, clock, share=5_000)
    for _ in range(4):
        shared.acquire()
    # Autotask counts 30 of 40: 26 by other integrations of the tenant.
    shared.correct(threshold=40, current=30)
    usage = shared.usage()
    assert (usage.used, usage.limit) == (4, 14)
    assert SharedBudgets(session_factory, clock, clock).fractions() == {"at1": 4 / 14}


def test_one_process_reads_threshold_information_per_interval(
    session_factory: sessionmaker[Session],
) -> None:
    clock = ManualClock(START)
    reads: list[str] = []
    first, second = budget(session_factory, clock), budget(session_factory, clock)

    def reader(name: str, shared: SharedBudget) -> None:
        def read() -> tuple[int, int]:
            reads.append(name)
            shared.acquire()  # the read is a request too, counted like any other
            return 10_000, 0

        shared.read_threshold_with(read)

    reader("first", first)
    reader("second", second)
    first.acquire()
    second.acquire()
    first.acquire()
    assert reads == ["first"]
    assert first.usage().used == 4  # three requests and the read
    clock.advance(301)
    second.acquire()
    second.flush()  # the sync after this call finds the read due and takes it
    first.acquire()
    first.flush()
    assert reads == ["first", "second"]


def test_minutes_older_than_the_hour_do_not_count(session_factory: sessionmaker[Session]) -> None:
    clock = ManualClock(START)
    with transaction(session_factory) as session:
        session.execute(
            insert(autotask_request_minutes).values(
                budget_key="at1", minute=datetime(2026, 3, 2, 7, 59, tzinfo=UTC), requests=900
            )
        )
    shared = budget(session_factory, clock)
    shared.acquire()
    assert shared.usage().used == 1
