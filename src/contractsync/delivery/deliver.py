"""Delivering the rows of one leased contract service, strictly in id order.

Each step is: transaction 1 (check the lease, pick the head row, mark it `sending`, commit) →
one PSA call outside any transaction → transaction 2 (check the lease is still ours, record the
outcome). A step never sends while the service's units are unknown: it verifies first.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.orm import Session, sessionmaker

from contractsync.adapters.clock import Clock
from contractsync.adapters.db import ledger_check, ledger_repo, outbox, state_store
from contractsync.adapters.db.outbox_rows import Adjustment, AdjustmentStatus
from contractsync.adapters.db.posted_periods import is_posted_period_rejection, learn_posted_through
from contractsync.adapters.db.session import run_in_transaction
from contractsync.delivery import claim as claims
from contractsync.delivery import outcome, pause, posted_check, posted_move, verify
from contractsync.delivery.backoff import backoff_seconds
from contractsync.delivery.config import WorkerConfig
from contractsync.delivery.exchange import last_exchange_json
from contractsync.service.errors import ServiceError
from contractsync.service.psa import (
    AdjustmentRequest,
    ErrorKind,
    PostedPeriodReader,
    PsaConnector,
    PsaError,
)

log = logging.getLogger(__name__)
events = structlog.get_logger("contractsync.delivery")

#: Autotask's answer to a second adjustment on one date. After an unknown outcome it usually
#: means our own earlier request did land, so it is verified rather than taken as final.
DUPLICATE_MARKER = "duplicate data"


@dataclass(frozen=True)
class Plan:
    """What step 1 decided: send `request`, verify first, or nothing left to do."""

    row: Adjustment
    request: AdjustmentRequest | None = None
    verify_window: tuple[Any, Any] | None = None
    #: back-dated: check the contract's posted periods first (posted_check.py)
    posted: posted_check.Check | None = None


class ServiceDelivery:
    def __init__(
        self,
        factory: sessionmaker[Session],
        connector: PsaConnector,
        clock: Clock,
        config: WorkerConfig,
        rng: random.Random,
        claim: claims.ServiceClaim,
        on_call: Callable[[str], None] = lambda kind: None,
        posted: posted_check.PostedPeriodCache | None = None,
        stopping: Callable[[], bool] = lambda: False,
    ) -> None:
        self._factory = factory
        self._connector = connector
        self._clock = clock
        self._config = config
        self._rng = rng
        self._claim = claim
        self._on_call = on_call
        self._stopping = stopping  # shutting down: send nothing new
        self._probe_spent = False
        self._posted = posted
        #: rows already checked against the posted periods in this run (sent as they are)
        self._checked: set[int] = set()

    def run(self) -> int:
        """Deliver due rows until none is due or the lease is lost; answer how many steps ran.

        Recording one row's outcome and preparing the next row share a transaction, so a row
        costs one commit before its call and one after (the next row's "before").
        """
        steps = 0
        try:
            plan = self._begin_step()
            while plan is not None:
                steps += 1
                if plan.verify_window is not None:
                    plan = self._verify(plan)
                elif plan.posted is not None:
                    plan = self._before_sending(plan)
                else:
                    assert plan.request is not None
                    plan = self._send(plan.row, plan.request)
        finally:
            run_in_transaction(self._factory, lambda session: claims.release_lease(session, self._claim))
        return steps

    # -- before the call ---------------------------------------------------------------------

    def _begin_step(self) -> Plan | None:
        def step(session: Session) -> Plan | None:
            lease = self._lease(session)
            return None if lease is None else self._plan(session, lease.units_unknown)

        return self._transaction(step)

    def _transaction(self, body: Callable[[Session], Plan | None]) -> Plan | None:
        """`body` in one transaction, run again after a deadlock or serialization failure (each
        run starts from the same probe state: a rolled-back run spent nothing)."""
        probe_spent = self._probe_spent

        def attempt(session: Session) -> Plan | None:
            self._probe_spent = probe_spent
            return body(session)

        return run_in_transaction(self._factory, attempt)

    def _plan(self, session: Session, units_unknown: bool) -> Plan | None:
        """Pick the service's head row and decide: verify, send (marked `sending`), or stop."""
        now = self._clock.now()
        if self._stopping() or self._held_by_pause(session):
            return None
        while True:
            row = claims.head_row(
                session, self._claim.connection_id, self._claim.contract_service_id, lock=True
            )
            if row is None or not claims.is_due(row, now):
                return None
            if row.status == AdjustmentStatus.SENDING:
                # Its lease expired mid-call (the worker died): the outcome is unknown.
                claims.set_units_unknown(session, self._claim, True)
                outcome.back_to_pending(session, row)
                units_unknown = True
            if units_unknown:
                ledger = outbox.ledger_for_service(session, row.connection_id, row.contract_service_id)
                return Plan(row, verify_window=verify.read_window(ledger, row))
            posted = self._posted_check(session, row, now.date())
            if posted is not posted_check.SEND:
                return Plan(row, posted=posted)
            request = self._request_for(session, row, now)
            if request is not None:
                lease_until = now + timedelta(seconds=self._config.lease_seconds)
                if not outcome.mark_sending(
                    session, row, self._claim.token, lease_until, _request_json(request)
                ):
                    continue  # a re-plan superseded it meanwhile: look at the new head row
                return Plan(row, request=request)
            # Nothing differed: recorded as sent without a call; look at the next row.

    def _request_for(self, session: Session, row: Adjustment, now: datetime) -> AdjustmentRequest | None:
        held = outbox.units_on(session, row.connection_id, row.contract_service_id, row.effective_date)
        change = row.target_units - held
        in_force = ledger_repo.price_in_force(
            session, row.connection_id, row.contract_service_id, row.effective_date
        )
        if (
            change == 0
            and in_force
            and (in_force.unit_price, in_force.unit_cost) == (row.unit_price, row.unit_cost)
        ):
            outcome.record_sent(
                session,
                row,
                now,
                unit_change=0,
                autotask_id=None,
                response_json={"note": "not sent: Autotask already holds these units, price and cost"},
                note=f"adjustment {row.id} not sent: nothing differs from what Autotask holds",
                write_ledger=False,
            )
            return None
        return AdjustmentRequest(
            contract_id=row.contract_id,
            contract_service_id=row.contract_service_id,
            effective_date=row.effective_date,
            unit_change=change,
            adjusted_unit_price=row.unit_price,
            adjusted_unit_cost=row.unit_cost,
        )

    def _posted_check(self, session: Session, row: Adjustment, today: date) -> posted_check.Check:
        if self._posted is None or self._claim.probe or row.id in self._checked:
            return posted_check.SEND
        decision = posted_check.check(session, row, today, self._posted)
        if decision.read and not isinstance(self._connector, PostedPeriodReader):
            return posted_check.SEND  # this PSA cannot say: its refusal will
        return decision

    def _before_sending(self, plan: Plan) -> Plan | None:
        """Read the posted periods if needed, move the row past them if they hold it, plan again."""
        row, decision = plan.row, plan.posted
        assert decision is not None and self._posted is not None
        self._checked.add(row.id)
        through = decision.move_through
        if decision.read:
            through = self._read_posted(row)
            if through is not None and through < row.effective_date:
                through = None

        def record(session: Session) -> Plan | None:
            if through is not None and row.subscription_id is not None:
                # Taken before the lease row, in the use cases' lock order: the move re-plans.
                state_store.read_subscriptions(session, [row.subscription_id])  # locks it
            lease = self._lease(session)
            if lease is None:
                return None
            current = self._still_pending(session, row.id) if through is not None else None
            if (
                current is not None
                and through is not None
                and posted_move.move_before_sending(session, current, through, self._clock.now())
            ):
                events.info(
                    "adjustment moved before sending", adjustment_id=row.id, posted_through=str(through)
                )
            return self._plan(session, lease.units_unknown)

        return self._transaction(record)

    def _read_posted(self, row: Adjustment) -> date | None:
        """The contract's posted-through date from Autotask: one read per contract at a time."""
        assert self._posted is not None and isinstance(self._connector, PostedPeriodReader)
        with self._posted.reading(row.connection_id, row.contract_id):
            fresh, through = self._posted.known(row.connection_id, row.contract_id, row.effective_date)
            if fresh:
                return through  # another thread read it meanwhile
            self._on_call("posted_periods")
            try:
                through = self._connector.posted_through(row.contract_id, row.effective_date)
            except PsaError as error:
                # Nothing changed in Autotask: send, and let its refusal decide, as before.
                events.warning("posted periods not read", kind=error.kind.value, error=error.message)
                return None
            self._posted.remember(row.connection_id, row.contract_id, row.effective_date, through)
            return through

    # -- the call and step 2 ----------------------------------------------------------------

    def _send(self, row: Adjustment, request: AdjustmentRequest) -> Plan | None:
        # Every log line of this delivery carries the operation it belongs to.
        with structlog.contextvars.bound_contextvars(
            operation_id=row.operation_id, adjustment_id=row.id, contract_service_id=row.contract_service_id
        ):
            return self._send_bound(row, request)

    def _send_bound(self, row: Adjustment, request: AdjustmentRequest) -> Plan | None:
        self._on_call("create_adjustment")
        try:
            autotask_id = self._connector.create_adjustment(request)
        except PsaError as error:
            events.warning(
                "adjustment not applied",
                kind=error.kind.value,
                error=error.message,
                unit_change=request.unit_change,
            )
            return self._record_error(row, error)
        except Exception as error:  # not Autotask's answer: a bug, bad stored credentials, a refused URL
            log.exception("connector raised a non-PsaError")
            return self._record_connector_failure(row, error, after_send=True)
        events.info(
            "adjustment sent",
            effective_date=request.effective_date.isoformat(),
            unit_change=request.unit_change,
            autotask_id=autotask_id,
        )
        response = last_exchange_json(self._connector)

        def record(session: Session) -> Plan | None:
            lease = self._lease(session)
            current = self._still_sending(session, row.id) if lease else None
            if lease is None or current is None:
                return None  # another claim took the service over; it will verify
            outcome.record_sent(
                session,
                current,
                self._clock.now(),
                unit_change=request.unit_change,
                autotask_id=autotask_id,
                response_json=response or {"itemId": autotask_id},
            )
            if self._claim.probe:
                pause.resume(session, row.connection_id, self._clock.now())
            return self._plan(session, lease.units_unknown)

        return self._transaction(record)

    def _verify(self, plan: Plan) -> Plan | None:
        row, window = plan.row, plan.verify_window
        assert window is not None
        self._on_call("service_units")
        try:
            periods = self._connector.service_units(row.contract_service_id, window[0], window[1])
        except PsaError as error:
            # A failed read changes nothing in Autotask: retry it later, or give up for good.
            return self._record_error(row, error, after_send=False)
        except Exception as error:
            log.exception("connector raised a non-PsaError while verifying")
            return self._record_connector_failure(row, error, after_send=False)

        def record(session: Session) -> Plan | None:
            if self._lease(session) is None:
                return None
            ledger = outbox.ledger_for_service(session, row.connection_id, row.contract_service_id)
            rebuilt = verify.rebuild(periods, ledger, window)
            ledger_repo.replace_from(
                session, row.connection_id, row.contract_service_id, rebuilt.start, rebuilt.entries
            )
            now = self._clock.now()
            claims.set_units_unknown(session, self._claim, False)
            current = outbox.get(session, row.id)
            if current.status == AdjustmentStatus.PENDING and verify.already_applied(periods, current):
                # No entry on the date: a period boundary that changed nothing (already in force).
                change = next(
                    (e.unit_change for e in rebuilt.entries if e.effective_date == row.effective_date), 0
                )
                outcome.record_sent(
                    session,
                    current,
                    now,
                    unit_change=change,
                    autotask_id=None,
                    response_json={"note": "verified from ContractServiceUnits: already applied"},
                    note=f"adjustment {row.id}: outcome was unknown; Autotask shows it applied",
                    write_ledger=False,
                )
            # Kept for the ledger self-check (after a row the read showed applied was recorded).
            ledger_check.record_verification(
                session,
                row.connection_id,
                row.contract_service_id,
                window,
                [(p.start_date, p.end_date, p.units) for p in periods],
                now,
            )
            if self._claim.probe:
                pause.resume(session, row.connection_id, self._clock.now())
            return self._plan(session, units_unknown=False)

        return self._transaction(record)

    def _record_error(self, row: Adjustment, error: PsaError, after_send: bool = True) -> Plan | None:
        exchange = last_exchange_json(self._connector)
        unknown = error.outcome_unknown or (
            error.kind == ErrorKind.REJECTED and DUPLICATE_MARKER in error.message
        )
        posted = error.final and is_posted_period_rejection(error.message)

        def record(session: Session) -> Plan | None:
            if posted and row.subscription_id is not None:
                # Taken before the lease row, in the use cases' lock order: the move re-plans.
                state_store.read_subscriptions(session, [row.subscription_id])  # locks it
            held = self._row_as_left(session, row.id, after_send)
            if held is None:
                return None  # another claim took the service over; it will verify
            lease, current = held
            now = self._clock.now()
            if error.kind == ErrorKind.AUTH:
                self._hold_for_auth(session, current, error, exchange, now)
                return None
            if self._claim.probe and error.status_code is not None:
                pause.resume(session, row.connection_id, now)  # Autotask answered: credentials work
            units_unknown = lease.units_unknown
            if unknown and after_send:
                claims.set_units_unknown(session, self._claim, True)
                units_unknown = True
            if exchange is not None:
                outcome.keep_response(session, current, exchange)
            if error.final and not unknown:
                # SPEC §2: refused as posted, the adjustment moves past that period by itself.
                if not (posted and posted_move.move_past_posted(session, current, error, now)):
                    outcome.record_failed(session, current, now, error.message, error.kind.value)
                if posted:
                    # Remembered even when it could not move, so a retry re-plans past it.
                    learn_posted_through(
                        session, current.connection_id, current.contract_id, current.effective_date
                    )
            elif current.attempts + 1 >= self._config.max_attempts:
                message = f"gave up after {current.attempts + 1} attempts: {error.message}"
                outcome.record_failed(session, current, now, message, error.kind.value)
            else:
                delay = backoff_seconds(
                    current.attempts + 1,
                    self._rng,
                    base=self._config.backoff_base,
                    cap=self._config.backoff_cap,
                )
                retry_at = now + timedelta(seconds=delay)
                outcome.record_retry(session, current, now, error.message, error.kind.value, retry_at)
            return self._plan(session, units_unknown)

        return self._transaction(record)

    def _record_connector_failure(self, row: Adjustment, error: Exception, after_send: bool) -> Plan | None:
        """A connector failure that is not a typed PSA error will not pass by retrying: the row
        fails with the reason (which raises its out-of-sync alert) and can be retried once the
        connection is fixed. After a create it may have gone out, so the service's units count
        as unknown: the next send of this service verifies first."""

        def record(session: Session) -> Plan | None:
            held = self._row_as_left(session, row.id, after_send)
            if held is None:
                return None
            lease, current = held
            units_unknown = lease.units_unknown or after_send
            if after_send:
                claims.set_units_unknown(session, self._claim, True)
            reason = f"connector failure, not an answer from Autotask: {connector_failure_text(error)}"
            outcome.record_failed(session, current, self._clock.now(), reason, CONNECTOR_ERROR_KIND)
            return self._plan(session, units_unknown)

        return self._transaction(record)

    def _held_by_pause(self, session: Session) -> bool:
        """A paused connection gets one call per probe claim, none otherwise."""
        if not pause.is_paused(session, self._claim.connection_id):
            return False
        if self._claim.probe and not self._probe_spent:
            self._probe_spent = True
            return False
        return True

    def _hold_for_auth(
        self, session: Session, row: Adjustment, error: PsaError, exchange: Any, now: datetime
    ) -> None:
        """Credentials refused: the row waits (no attempt counted) and the connection pauses."""
        if exchange is not None:
            outcome.keep_response(session, row, exchange)
        outcome.hold_for_pause(session, row, error.message, error.kind.value)
        pause.pause(
            session,
            row.connection_id,
            now,
            error.message,
            probe_refused=self._claim.probe,
            first_seconds=self._config.pause_probe_first,
            cap_seconds=self._config.pause_probe_cap,
        )

    def _lease(self, session: Session) -> claims.Lease | None:
        return claims.renew_lease(session, self._claim, self._clock.now(), self._config.lease_seconds)

    def _row_as_left(
        self, session: Session, row_id: int, after_send: bool
    ) -> tuple[claims.Lease, Adjustment] | None:
        """The renewed lease and the row as this claim left it (sending after a call, pending
        before one), or None when the lease is lost or another claim has taken the row over."""
        lease = self._lease(session)
        if lease is None:
            return None
        current = self._still_sending(session, row_id) if after_send else self._still_pending(session, row_id)
        return None if current is None else (lease, current)

    def _still_pending(self, session: Session, row_id: int) -> Adjustment | None:
        current = outbox.get(session, row_id)
        return current if current.status == AdjustmentStatus.PENDING else None

    def _still_sending(self, session: Session, row_id: int) -> Adjustment | None:
        """The row as we left it before the call, or None when another claim has taken over."""
        current = outbox.get(session, row_id)
        if current.status != AdjustmentStatus.SENDING or current.lease_owner != self._claim.token:
            return None
        return current


CONNECTOR_ERROR_KIND = "connector_error"


def connector_failure_text(error: Exception) -> str:
    """The failure's own words when it is one of ours meant for people (a refused URL, unusable
    credentials); otherwise only its type, since a stray exception's text may hold anything."""
    if isinstance(error, ServiceError):
        return error.message
    return f"{type(error).__name__} (details in the worker log)"


def _request_json(request: AdjustmentRequest) -> dict[str, Any]:
    return {
        "contractID": request.contract_id,
        "contractServiceID": request.contract_service_id,
        "effectiveDate": request.effective_date.isoformat(),
        "unitChange": request.unit_change,
        "adjustedUnitPrice": str(request.adjusted_unit_price),
        "adjustedUnitCost": str(request.adjusted_unit_cost),
    }
