"""The worker's database (`contractsync.ports.delivery`) over SQLAlchemy: one transaction per
delivery step, every statement in the modules named below."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from contractsync.adapters.db import (
    delivery_outcomes,
    leases,
    ledger_check,
    ledger_repo,
    outbox,
    pauses,
    posted_move,
    state_store,
)
from contractsync.adapters.db.posted_periods import learn_posted_through
from contractsync.adapters.db.session import run_in_transaction
from contractsync.adapters.db.tables import contracts
from contractsync.domain.enums import ContractPeriodType
from contractsync.ports.delivery import ContractPosting, DeliveryTransaction, Lease, ServiceClaim
from contractsync.ports.outbox import Adjustment, LedgerEntry
from contractsync.ports.psa import PsaError

T = TypeVar("T")


class SqlDeliveryStore:
    """Implements `DeliveryStore`. `replan`: the use case a posted-period move re-plans with."""

    def __init__(self, sessions: sessionmaker[Session], replan: posted_move.Replan) -> None:
        self.sessions = sessions
        self._replan = replan

    def transaction(self, body: Callable[[DeliveryTransaction], T]) -> T:
        return run_in_transaction(
            self.sessions, lambda session: body(SqlDeliveryTransaction(session, self._replan))
        )


class SqlDeliveryTransaction:
    """Implements `DeliveryTransaction` on one open session."""

    def __init__(self, session: Session, replan: posted_move.Replan) -> None:
        self._session = session
        self._replan = replan

    # -- leases
    def claim_service(
        self, owner: str, now: datetime, lease_seconds: float, batch: int, busy: Collection[tuple[str, int]]
    ) -> ServiceClaim | None:
        return leases.claim_service(self._session, owner, now, lease_seconds, batch, busy)

    def renew_lease(self, claim: ServiceClaim, now: datetime, lease_seconds: float) -> Lease | None:
        return leases.renew_lease(self._session, claim, now, lease_seconds)

    def heartbeat(self, claim: ServiceClaim, now: datetime, lease_seconds: float) -> bool:
        return leases.heartbeat(self._session, claim, now, lease_seconds)

    def release_lease(self, claim: ServiceClaim) -> None:
        leases.release_lease(self._session, claim)

    def abandon(self, claim: ServiceClaim) -> bool:
        return leases.abandon(self._session, claim)

    def set_units_unknown(self, claim: ServiceClaim, value: bool) -> None:
        leases.set_units_unknown(self._session, claim, value)

    # -- outbox and ledger
    def head_row(self, connection_id: str, contract_service_id: int, lock: bool = False) -> Adjustment | None:
        return leases.head_row(self._session, connection_id, contract_service_id, lock=lock)

    def get(self, row_id: int) -> Adjustment:
        return outbox.get(self._session, row_id)

    def ledger_for_service(self, connection_id: str, contract_service_id: int) -> list[LedgerEntry]:
        return outbox.ledger_for_service(self._session, connection_id, contract_service_id)

    def units_on(self, connection_id: str, contract_service_id: int, day: date) -> int:
        return outbox.units_on(self._session, connection_id, contract_service_id, day)

    def price_in_force(self, connection_id: str, contract_service_id: int, day: date) -> LedgerEntry | None:
        return ledger_repo.price_in_force(self._session, connection_id, contract_service_id, day)

    def replace_ledger_from(
        self, connection_id: str, contract_service_id: int, start: date, entries: list[LedgerEntry]
    ) -> None:
        ledger_repo.replace_from(self._session, connection_id, contract_service_id, start, entries)

    def record_verification(
        self,
        connection_id: str,
        contract_service_id: int,
        window: tuple[date, date],
        units: list[tuple[date, date, int]],
        now: datetime,
    ) -> None:
        ledger_check.record_verification(
            self._session, connection_id, contract_service_id, window, units, now
        )

    def mark_sending(
        self, row: Adjustment, owner: str, lease_until: datetime, request: dict[str, Any]
    ) -> bool:
        return delivery_outcomes.mark_sending(self._session, row, owner, lease_until, request)

    def back_to_pending(self, row: Adjustment) -> None:
        delivery_outcomes.back_to_pending(self._session, row)

    def keep_response(self, row: Adjustment, response: dict[str, Any]) -> None:
        delivery_outcomes.keep_response(self._session, row, response)

    def record_sent(
        self,
        row: Adjustment,
        now: datetime,
        *,
        unit_change: int,
        autotask_id: int | None,
        response_json: dict[str, Any] | None,
        note: str | None = None,
        write_ledger: bool = True,
    ) -> None:
        delivery_outcomes.record_sent(
            self._session,
            row,
            now,
            unit_change=unit_change,
            autotask_id=autotask_id,
            response_json=response_json,
            note=note,
            write_ledger=write_ledger,
        )

    def record_failed(
        self, row: Adjustment, now: datetime, error: str, kind: str, refusal: str | None = None
    ) -> None:
        delivery_outcomes.record_failed(self._session, row, now, error, kind, refusal)

    def record_retry(
        self, row: Adjustment, now: datetime, error: str, kind: str, next_attempt_at: datetime
    ) -> None:
        delivery_outcomes.record_retry(self._session, row, now, error, kind, next_attempt_at)

    def hold_for_pause(self, row: Adjustment, error: str, kind: str) -> None:
        delivery_outcomes.hold_for_pause(self._session, row, error, kind)

    # -- pauses
    def is_paused(self, connection_id: str) -> bool:
        return pauses.is_paused(self._session, connection_id)

    def pause(
        self,
        connection_id: str,
        now: datetime,
        reason: str,
        *,
        probe_refused: bool,
        first_seconds: float,
        cap_seconds: float,
    ) -> None:
        pauses.pause(
            self._session,
            connection_id,
            now,
            reason,
            probe_refused=probe_refused,
            first_seconds=first_seconds,
            cap_seconds=cap_seconds,
        )

    def resume(self, connection_id: str, now: datetime) -> bool:
        return pauses.resume(self._session, connection_id, now)

    # -- posted periods
    def lock_subscription(self, subscription_id: str) -> None:
        state_store.read_subscriptions(self._session, [subscription_id])  # locks it

    def contract_posting(self, connection_id: str, contract_id: int) -> ContractPosting | None:
        row = self._session.execute(
            select(contracts.c.start_date, contracts.c.period_type, contracts.c.posted_through).where(
                contracts.c.connection_id == connection_id, contracts.c.contract_id == contract_id
            )
        ).first()
        if row is None:
            return None
        months = ContractPeriodType(row.period_type).months
        return ContractPosting(row.start_date, months, row.posted_through)

    def learn_posted_through(self, connection_id: str, contract_id: int, refused: date) -> date | None:
        return learn_posted_through(self._session, connection_id, contract_id, refused)

    def move_past_posted(self, row: Adjustment, error: PsaError, now: datetime) -> bool:
        return posted_move.move_past_posted(self._session, row, error, now, self._replan)

    def move_before_sending(self, row: Adjustment, posted_through: date, now: datetime) -> bool:
        return posted_move.move_before_sending(self._session, row, posted_through, now, self._replan)

    # -- ledger self-check
    def raise_drift_alerts(self, now: datetime) -> Sequence[object]:
        return ledger_check.raise_alerts(self._session, now)
