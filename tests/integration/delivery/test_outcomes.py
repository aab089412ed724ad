"""Worker behaviour on one database: order, settle, and every kind of outcome."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from contractsync.adapters.clock import ManualClock
from contractsync.adapters.db import delivery_outcomes as outcome
from contractsync.adapters.db import outbox
from contractsync.adapters.db.outbox import OutboxError
from contractsync.adapters.db.session import transaction
from contractsync.adapters.db.subscription_books import SqlSubscriptionBooks
from contractsync.adapters.db.tables import adjustments, connection_operations, contract_service_state
from contractsync.delivery.worker import Worker
from contractsync.sandbox.errors import DUPLICATE_DATE, OUTSIDE_CONTRACT, POSTED_PERIOD
from contractsync.service.retry_operation import RetryRefused, retry
from tests.fakes.outbox_data import Row, contract_of, enqueue_operation
from tests.sandbox_autotask import ADJUSTMENTS, UNITS, SandboxAutotask

D = date(2025, 3, 3)
#: Autotask posts whole periods: the contracts bill monthly, February is approved and posted.
POSTED_THROUGH = date(2025, 2, 28)
P = date(2025, 2, 27)  # a day in the posted February


def statuses(factory: sessionmaker[Session]) -> dict[int, str]:
    with transaction(factory) as session:
        return dict(session.execute(select(adjustments.c.id, adjustments.c.status)).all())


def operation(factory: sessionmaker[Session], operation_id: int) -> tuple[str, str | None]:
    with transaction(factory) as session:
        row = session.execute(
            select(connection_operations.c.status, connection_operations.c.reason).where(
                connection_operations.c.id == operation_id
            )
        ).one()
        return row[0], row[1]


def enqueue(
    factory: sessionmaker[Session], clock: ManualClock, rows: list[Row], settle: float = 0
) -> tuple[int, list[int]]:
    with transaction(factory) as session:
        return enqueue_operation(session, rows, clock.now(), settle_seconds=settle)


def test_one_call_per_adjustment_in_order(
    factory: sessionmaker[Session], autotask: SandboxAutotask, clock: ManualClock, drain: Callable[[], int]
) -> None:
    rows = [Row(s, D + timedelta(days=i), 10 + s + i) for s in range(1, 6) for i in range(4)]
    enqueue(factory, clock, rows)
    drain()
    assert set(statuses(factory).values()) == {"sent"}
    assert autotask.requests() == {ADJUSTMENTS: len(rows)}
    for row in rows:
        assert autotask.units_on(row.service, row.day) == row.target
    # Deltas, not replays: the second adjustment of a service carries only the difference.
    assert [a.unit_change for a in autotask.adjustments(1)] == [11, 1, 1, 1]


def test_settle_holds_rows_until_due(
    factory: sessionmaker[Session], autotask: SandboxAutotask, clock: ManualClock, worker: Worker
) -> None:
    enqueue(factory, clock, [Row(1, D, 5)], settle=600)
    worker.run_once()
    clock.advance(599)
    worker.run_once()
    assert autotask.adjustments() == []
    clock.advance(2)
    worker.run_once()
    assert autotask.units_on(1, D) == 5


def test_an_earlier_row_blocks_its_service_only(
    factory: sessionmaker[Session], autotask: SandboxAutotask, clock: ManualClock, worker: Worker
) -> None:
    enqueue(factory, clock, [Row(1, D, 5)], settle=600)  # not due yet
    enqueue(factory, clock, [Row(1, D + timedelta(days=1), 7), Row(2, D, 3)])
    worker.run_once()
    assert [a.contract_service_id for a in autotask.adjustments()] == [2]
    clock.advance(601)
    worker.run_once()
    assert [(a.effective_date, a.unit_change) for a in autotask.adjustments(1)] == [
        (D, 5),
        (D + timedelta(days=1), 2),
    ]


def test_price_only_change_is_sent_and_nothing_differs_is_not(
    factory: sessionmaker[Session], autotask: SandboxAutotask, clock: ManualClock, drain: Callable[[], int]
) -> None:
    enqueue(factory, clock, [Row(1, D, 5), Row(1, D + timedelta(days=1), 5, price=Decimal("13.5"))])
    enqueue(factory, clock, [Row(1, D + timedelta(days=2), 5, price=Decimal("13.50"))])
    drain()
    assert [(a.unit_change, a.price) for a in autotask.adjustments(1)] == [
        (5, Decimal("12.0000")),
        (0, Decimal("13.5")),
    ]
    assert set(statuses(factory).values()) == {"sent"}
    with transaction(factory) as session:
        details = session.execute(
            select(connection_operations.c.details).order_by(connection_operations.c.id)
        ).all()
    assert "nothing differs" in details[-1][0]["notes"][0]


def test_final_error_fails_the_row_with_autotasks_message_and_later_rows_still_go(
    factory: sessionmaker[Session], autotask: SandboxAutotask, clock: ManualClock, drain: Callable[[], int]
) -> None:
    autotask.contract(contract_of(1), date(2025, 1, 1), D + timedelta(days=10), posted_through=POSTED_THROUGH)
    op_posted, _ = enqueue(factory, clock, [Row(1, P, 5)])
    op_ok, _ = enqueue(factory, clock, [Row(1, D + timedelta(days=1), 6)])
    op_outside, _ = enqueue(factory, clock, [Row(1, D + timedelta(days=30), 8)])
    drain()
    # F1: the success after the posted-period failure supersedes it; its reason stays.
    assert operation(factory, op_posted) == ("superseded", POSTED_PERIOD)
    assert operation(factory, op_ok) == ("succeeded", None)
    assert operation(factory, op_outside) == ("failed", OUTSIDE_CONTRACT)
    assert autotask.units_on(1, D + timedelta(days=1)) == 6


def test_retryable_errors_back_off_then_succeed(
    factory: sessionmaker[Session], autotask: SandboxAutotask, clock: ManualClock, worker: Worker
) -> None:
    autotask.fault("thread_threshold", rate=1.0)
    (_, [row_id]) = enqueue(factory, clock, [Row(1, D, 5)])
    worker.run_once()
    with transaction(factory) as session:
        row = outbox.get(session, row_id)
    assert (row.status, row.attempts, row.error_kind) == ("pending", 1, "thread_threshold")
    assert row.next_attempt_at >= clock.now()
    autotask.clear_faults()
    clock.set(row.next_attempt_at + timedelta(seconds=1))
    worker.run_once()
    assert autotask.units_on(1, D) == 5


def test_retryable_errors_give_up_after_max_attempts(
    factory: sessionmaker[Session], autotask: SandboxAutotask, clock: ManualClock, drain: Callable[[], int]
) -> None:
    autotask.fault("thread_threshold", rate=1.0)
    (op, _) = enqueue(factory, clock, [Row(1, D, 5)])
    drain()
    status, reason = operation(factory, op)
    assert status == "failed"
    assert reason is not None and reason.startswith("gave up after 8 attempts")


@pytest.mark.parametrize("applied", [True, False])
def test_unknown_outcome_is_verified_before_anything_else_is_sent(
    applied: bool,
    factory: sessionmaker[Session],
    autotask: SandboxAutotask,
    clock: ManualClock,
    worker: Worker,
    drain: Callable[[], int],
) -> None:
    enqueue(factory, clock, [Row(1, D, 5)])
    drain()
    # applied and its answer lost (a 500), or timed out before Autotask applied it (a 504)
    autotask.fault("applied_then_500" if applied else "timeout", delay_seconds=0)
    enqueue(factory, clock, [Row(1, D + timedelta(days=3), 9), Row(1, D + timedelta(days=5), 4)])
    worker.run_once()
    with transaction(factory) as session:
        unknown = session.execute(select(contract_service_state.c.units_unknown)).scalar_one()
    assert unknown
    autotask.clear_faults()
    drain()
    assert autotask.requests()[UNITS] == 1
    assert [(a.effective_date, a.unit_change) for a in autotask.adjustments(1)] == [
        (D, 5),
        (D + timedelta(days=3), 4),
        (D + timedelta(days=5), -5),
    ]
    assert set(statuses(factory).values()) == {"sent"}


def test_a_worker_that_died_mid_call_is_verified_not_resent(
    factory: sessionmaker[Session], autotask: SandboxAutotask, clock: ManualClock, drain: Callable[[], int]
) -> None:
    (_, [row_id]) = enqueue(factory, clock, [Row(1, D, 5)])
    with transaction(factory) as session:  # what a worker does just before its call...
        row = outbox.get(session, row_id)
        outcome.mark_sending(session, row, "dead-worker", clock.now() + timedelta(seconds=60), {})
        session.execute(update(contract_service_state).values(lease_owner="dead-worker"))
    from contractsync.adapters.autotask.adjustments import AdjustmentRequest

    autotask.connector.create_adjustment(
        AdjustmentRequest(contract_of(1), 1, D, 5, Decimal("12.0000"), Decimal("10.0000"))
    )
    # ... and then it was killed. Its lease expires; the next worker verifies.
    clock.advance(61)
    drain()
    assert autotask.requests() == {ADJUSTMENTS: 1, UNITS: 1}
    assert statuses(factory) == {row_id: "sent"}


def test_duplicate_rejection_after_unknown_is_verified(
    factory: sessionmaker[Session], autotask: SandboxAutotask, clock: ManualClock, drain: Callable[[], int]
) -> None:
    from contractsync.adapters.autotask.adjustments import AdjustmentRequest

    autotask.connector.create_adjustment(
        AdjustmentRequest(contract_of(1), 1, D, 5, Decimal("12.0000"), Decimal("10.0000"))
    )
    (_, [row_id]) = enqueue(factory, clock, [Row(1, D, 5)])
    drain()  # our ledger is empty, so we send 5 on D: Autotask says duplicate → verify → applied
    assert statuses(factory) == {row_id: "sent"}
    assert autotask.rejections()["duplicate_date"] == 1
    assert DUPLICATE_DATE.startswith("Attempt")


def test_retry_requeues_a_failed_operation_until_a_later_row_was_sent(
    factory: sessionmaker[Session], autotask: SandboxAutotask, clock: ManualClock, drain: Callable[[], int]
) -> None:
    autotask.contract(contract_of(1), date(2025, 1, 1), D + timedelta(days=10))
    (op1, _) = enqueue(factory, clock, [Row(1, D + timedelta(days=20), 5)])
    drain()
    assert operation(factory, op1) == ("failed", OUTSIDE_CONTRACT)
    autotask.contract(contract_of(1), date(2025, 1, 1), date(2025, 12, 31))  # someone extended it
    with transaction(factory) as session:
        retry(SqlSubscriptionBooks(session), op1, clock.now())
    assert operation(factory, op1) == ("pending", None)
    drain()
    assert operation(factory, op1) == ("succeeded", None)

    # F1: once a later row of the service is sent, the failed one is superseded: no retry.
    autotask.contract(contract_of(2), date(2025, 1, 1), D + timedelta(days=10), posted_through=POSTED_THROUGH)
    (op2, [row2]) = enqueue(factory, clock, [Row(2, P, 5)])
    drain()
    (op3, _) = enqueue(factory, clock, [Row(2, D + timedelta(days=1), 6)])
    drain()
    assert operation(factory, op2) == ("superseded", POSTED_PERIOD)
    with transaction(factory) as session, pytest.raises(RetryRefused, match="only failed"):
        retry(SqlSubscriptionBooks(session), op2, clock.now())
    # Even a failed record (e.g. marked so by hand) is refused once a later row was sent.
    with transaction(factory) as session:
        session.execute(update(adjustments).where(adjustments.c.id == row2).values(status="failed"))
        session.execute(
            update(connection_operations).where(connection_operations.c.id == op2).values(status="failed")
        )
    with transaction(factory) as session, pytest.raises(RetryRefused, match="was sent after"):
        retry(SqlSubscriptionBooks(session), op2, clock.now())
    with transaction(factory) as session, pytest.raises(RetryRefused, match="only failed"):
        retry(SqlSubscriptionBooks(session), op3, clock.now())


def test_supersede_refuses_rows_being_sent(factory: sessionmaker[Session], clock: ManualClock) -> None:
    (op, [first, second]) = enqueue(factory, clock, [Row(1, D, 5), Row(2, D, 5)])
    with transaction(factory) as session:
        outcome.mark_sending(session, outbox.get(session, first), "w", clock.now(), {})
    with transaction(factory) as session, pytest.raises(OutboxError, match="already being sent"):
        outbox.supersede(session, [first, second], "re-planned", clock.now())
    with transaction(factory) as session:
        outbox.supersede(session, [second], "re-planned", clock.now())
    assert statuses(factory)[second] == "superseded"
    assert operation(factory, op)[0] == "pending"


def test_a_row_superseded_after_the_worker_read_it_is_not_sent(
    factory: sessionmaker[Session], clock: ManualClock
) -> None:
    # The worker read the row as pending; a re-plan superseded it before the worker marked it.
    (_, [first]) = enqueue(factory, clock, [Row(1, D, 5)])
    with transaction(factory) as session:
        read_before = outbox.get(session, first)
    with transaction(factory) as session:
        outbox.supersede(session, [first], "re-planned", clock.now())
    with transaction(factory) as session:
        assert outcome.mark_sending(session, read_before, "w", clock.now(), {}) is False
    assert statuses(factory)[first] == "superseded"
