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

from contractsync.delivery import posted_check
from contractsync.delivery.backoff import backoff_seconds
from contractsync.delivery.config import WorkerConfig
from contractsync.ports.clock import Clock
from contractsync.ports.delivery import DeliveryStore, DeliveryTransaction, Lease, ServiceClaim
from contractsync.ports.outbox import Adjustment, AdjustmentStatus
from contractsync.ports.psa import (
    ErrorKind,
    ExchangeLog,
    PostedPeriodReader,
    PsaConnector,
    PsaError,
    Refusal,
    ServiceTarget,
)
from contractsync.service import ledger_rebuild as verify
from contractsync.service.errors import ServiceError

log = logging.getLogger(__name__)
events = structlog.get_logger("contractsync.delivery")


@dataclass(frozen=True)
class Plan:
    """What step 1 decided: send `target`, verify first, or nothing left to do."""

    row: Adjustment
    target: ServiceTarget | None = None
    verify_window: tuple[Any, Any] | None = None
    #: back-dated: check the contract's posted periods first (posted_check.py)
    posted: posted_check.Check | None = None


class ServiceDelivery:
    def __init__(
        self,
        store: DeliveryStore,
        connector: PsaConnector,
        clock: Clock,
        config: WorkerConfig,
        rng: random.Random,
        claim: ServiceClaim,
        on_call: Callable[[str], None] = lambda kind: None,
        posted: posted_check.PostedPeriodCache | None = None,
        stopping: Callable[[], bool] = lambda: False,
    ) -> None:
        self._store = store
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
                    assert plan.target is not None
                    plan = self._send(plan.row, plan.target)
        finally:
            self._store.transaction(lambda tx: tx.release_lease(self._claim))
        return steps

    # -- before the call ---------------------------------------------------------------------

    def _begin_step(self) -> Plan | None:
        def step(tx: DeliveryTransaction) -> Plan | None:
            lease = self._lease(tx)
            return None if lease is None else self._plan(tx, lease.units_unknown)

        return self._transaction(step)

    def _transaction(self, body: Callable[[DeliveryTransaction], Plan | None]) -> Plan | None:
        """`body` in one transaction, run again after a deadlock or serialization failure (each
        run starts from the same probe state: a rolled-back run spent nothing)."""
        probe_spent = self._probe_spent

        def attempt(tx: DeliveryTransaction) -> Plan | None:
            self._probe_spent = probe_spent
            return body(tx)

        return self._store.transaction(attempt)

    def _plan(self, tx: DeliveryTransaction, units_unknown: bool) -> Plan | None:
        """Pick the service's head row and decide: verify, send (marked `sending`), or stop."""
        now = self._clock.now()
        if self._stopping() or self._held_by_pause(tx):
            return None
        while True:
            row = tx.head_row(self._claim.connection_id, self._claim.contract_service_id, lock=True)
            if row is None or not row.is_due(now):
                return None
            if row.status == AdjustmentStatus.SENDING:
                # Its lease expired mid-call (the worker died): the outcome is unknown.
                tx.set_units_unknown(self._claim, True)
                tx.back_to_pending(row)
                units_unknown = True
            if units_unknown:
                ledger = tx.ledger_for_service(row.connection_id, row.contract_service_id)
                return Plan(row, verify_window=verify.read_window(ledger, row))
            posted = self._posted_check(tx, row, now.date())
            if posted is not posted_check.SEND:
                return Plan(row, posted=posted)
            target = self._target_for(tx, row, now)
            if target is not None:
                lease_until = now + timedelta(seconds=self._config.lease_seconds)
                record = self._connector.request_record(target)
                if not tx.mark_sending(row, self._claim.token, lease_until, record):
                    continue  # a re-plan superseded it meanwhile: look at the new head row
                return Plan(row, target=target)
            # Nothing differed: recorded as sent without a call; look at the next row.

    def _target_for(self, tx: DeliveryTransaction, row: Adjustment, now: datetime) -> ServiceTarget | None:
        """What the service must hold from the row's date, and what Autotask held that day; None
        (recorded as sent without a call) when Autotask already holds it."""
        held = tx.units_on(row.connection_id, row.contract_service_id, row.effective_date)
        in_force = tx.price_in_force(row.connection_id, row.contract_service_id, row.effective_date)
        if (
            held == row.target_units
            and in_force
            and (in_force.unit_price, in_force.unit_cost) == (row.unit_price, row.unit_cost)
        ):
            tx.record_sent(
                row,
                now,
                unit_change=0,
                autotask_id=None,
                response_json={"note": "not sent: Autotask already holds these units, price and cost"},
                note=f"adjustment {row.id} not sent: nothing differs from what Autotask holds",
                write_ledger=False,
            )
            return None
        return ServiceTarget(
            contract_id=row.contract_id,
            contract_service_id=row.contract_service_id,
            effective_date=row.effective_date,
            units=row.target_units,
            unit_price=row.unit_price,
            unit_cost=row.unit_cost,
            held_units=held,
        )

    def _posted_check(self, tx: DeliveryTransaction, row: Adjustment, today: date) -> posted_check.Check:
        if self._posted is None or self._claim.probe or row.id in self._checked:
            return posted_check.SEND
        decision = posted_check.check(tx, row, today, self._posted)
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

        def record(tx: DeliveryTransaction) -> Plan | None:
            if through is not None and row.subscription_id is not None:
                # Taken before the lease row, in the use cases' lock order: the move re-plans.
                tx.lock_subscription(row.subscription_id)
            lease = self._lease(tx)
            if lease is None:
                return None
            current = self._still_pending(tx, row.id) if through is not None else None
            if (
                current is not None
                and through is not None
                and tx.move_before_sending(current, through, self._clock.now())
            ):
                events.info(
                    "adjustment moved before sending", adjustment_id=row.id, posted_through=str(through)
                )
            return self._plan(tx, lease.units_unknown)

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

    def _send(self, row: Adjustment, target: ServiceTarget) -> Plan | None:
        # Every log line of this delivery carries the operation it belongs to.
        with structlog.contextvars.bound_contextvars(
            operation_id=row.operation_id, adjustment_id=row.id, contract_service_id=row.contract_service_id
        ):
            return self._send_bound(row, target)

    def _send_bound(self, row: Adjustment, target: ServiceTarget) -> Plan | None:
        self._on_call("create_adjustment")
        try:
            applied = self._connector.apply_target(target)
        except PsaError as error:
            events.warning(
                "adjustment not applied",
                kind=error.kind.value,
                error=error.message,
                units=target.units,
                held_units=target.held_units,
            )
            return self._record_error(row, error)
        except Exception as error:  # not Autotask's answer: a bug, bad stored credentials, a refused URL
            log.exception("connector raised a non-PsaError")
            return self._record_connector_failure(row, error, after_send=True)
        events.info(
            "adjustment sent",
            effective_date=target.effective_date.isoformat(),
            unit_change=applied.unit_change,
            autotask_id=applied.psa_id,
        )
        response = self._last_exchange()

        def record(tx: DeliveryTransaction) -> Plan | None:
            lease = self._lease(tx)
            current = self._still_sending(tx, row.id) if lease else None
            if lease is None or current is None:
                return None  # another claim took the service over; it will verify
            tx.record_sent(
                current,
                self._clock.now(),
                unit_change=applied.unit_change,
                autotask_id=applied.psa_id,
                response_json=response or {"itemId": applied.psa_id},
            )
            if self._claim.probe:
                tx.resume(row.connection_id, self._clock.now())
            return self._plan(tx, lease.units_unknown)

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

        def record(tx: DeliveryTransaction) -> Plan | None:
            if self._lease(tx) is None:
                return None
            ledger = tx.ledger_for_service(row.connection_id, row.contract_service_id)
            rebuilt = verify.rebuild(periods, ledger, window)
            tx.replace_ledger_from(row.connection_id, row.contract_service_id, rebuilt.start, rebuilt.entries)
            now = self._clock.now()
            tx.set_units_unknown(self._claim, False)
            current = tx.get(row.id)
            if current.status == AdjustmentStatus.PENDING and verify.already_applied(periods, current):
                # No entry on the date: a period boundary that changed nothing (already in force).
                change = next(
                    (e.unit_change for e in rebuilt.entries if e.effective_date == row.effective_date), 0
                )
                tx.record_sent(
                    current,
                    now,
                    unit_change=change,
                    autotask_id=None,
                    response_json={"note": "verified from ContractServiceUnits: already applied"},
                    note=f"adjustment {row.id}: outcome was unknown; Autotask shows it applied",
                    write_ledger=False,
                )
            # Kept for the ledger self-check (after a row the read showed applied was recorded).
            tx.record_verification(
                row.connection_id,
                row.contract_service_id,
                window,
                [(p.start_date, p.end_date, p.units) for p in periods],
                now,
            )
            if self._claim.probe:
                tx.resume(row.connection_id, self._clock.now())
            return self._plan(tx, units_unknown=False)

        return self._transaction(record)

    def _record_error(self, row: Adjustment, error: PsaError, after_send: bool = True) -> Plan | None:
        exchange = self._last_exchange()
        # A second change on one date, after an unknown outcome, usually means our own earlier
        # request did land: it is verified rather than taken as final.
        unknown = error.outcome_unknown or (
            error.kind == ErrorKind.REJECTED and error.refusal is Refusal.DUPLICATE_DATE
        )
        posted = error.final and error.refusal is Refusal.POSTED_PERIOD

        def record(tx: DeliveryTransaction) -> Plan | None:
            if posted and row.subscription_id is not None:
                # Taken before the lease row, in the use cases' lock order: the move re-plans.
                tx.lock_subscription(row.subscription_id)
            held = self._row_as_left(tx, row.id, after_send)
            if held is None:
                return None  # another claim took the service over; it will verify
            lease, current = held
            now = self._clock.now()
            if error.kind == ErrorKind.AUTH:
                self._hold_for_auth(tx, current, error, exchange, now)
                return None
            if self._claim.probe and error.status_code is not None:
                tx.resume(row.connection_id, now)  # Autotask answered: credentials work
            units_unknown = lease.units_unknown
            if unknown and after_send:
                tx.set_units_unknown(self._claim, True)
                units_unknown = True
            if exchange is not None:
                tx.keep_response(current, exchange)
            if error.final and not unknown:
                # SPEC §2: refused as posted, the adjustment moves past that period by itself.
                if not (posted and tx.move_past_posted(current, error, now)):
                    refusal = None if error.refusal is None else error.refusal.value
                    tx.record_failed(current, now, error.message, error.kind.value, refusal)
                if posted:
                    # Remembered even when it could not move, so a retry re-plans past it.
                    tx.learn_posted_through(
                        current.connection_id, current.contract_id, current.effective_date
                    )
            elif current.attempts + 1 >= self._config.max_attempts:
                message = f"gave up after {current.attempts + 1} attempts: {error.message}"
                tx.record_failed(current, now, message, error.kind.value)
            else:
                delay = backoff_seconds(
                    current.attempts + 1,
                    self._rng,
                    base=self._config.backoff_base,
                    cap=self._config.backoff_cap,
                )
                retry_at = now + timedelta(seconds=delay)
                tx.record_retry(current, now, error.message, error.kind.value, retry_at)
            return self._plan(tx, units_unknown)

        return self._transaction(record)

    def _record_connector_failure(self, row: Adjustment, error: Exception, after_send: bool) -> Plan | None:
        """A connector failure that is not a typed PSA error will not pass by retrying: the row
        fails with the reason (which raises its out-of-sync alert) and can be retried once the
        connection is fixed. After a create it may have gone out, so the service's units count
        as unknown: the next send of this service verifies first."""

        def record(tx: DeliveryTransaction) -> Plan | None:
            held = self._row_as_left(tx, row.id, after_send)
            if held is None:
                return None
            lease, current = held
            units_unknown = lease.units_unknown or after_send
            if after_send:
                tx.set_units_unknown(self._claim, True)
            reason = f"connector failure, not an answer from Autotask: {connector_failure_text(error)}"
            tx.record_failed(current, self._clock.now(), reason, CONNECTOR_ERROR_KIND)
            return self._plan(tx, units_unknown)

        return self._transaction(record)

    def _last_exchange(self) -> dict[str, Any] | None:
        """The connector's last exchange for the audit record, when it keeps one."""
        if isinstance(self._connector, ExchangeLog):
            return self._connector.last_exchange_json()
        return None

    def _held_by_pause(self, tx: DeliveryTransaction) -> bool:
        """A paused connection gets one call per probe claim, none otherwise."""
        if not tx.is_paused(self._claim.connection_id):
            return False
        if self._claim.probe and not self._probe_spent:
            self._probe_spent = True
            return False
        return True

    def _hold_for_auth(
        self, tx: DeliveryTransaction, row: Adjustment, error: PsaError, exchange: Any, now: datetime
    ) -> None:
        """Credentials refused: the row waits (no attempt counted) and the connection pauses."""
        if exchange is not None:
            tx.keep_response(row, exchange)
        tx.hold_for_pause(row, error.message, error.kind.value)
        tx.pause(
            row.connection_id,
            now,
            error.message,
            probe_refused=self._claim.probe,
            first_seconds=self._config.pause_probe_first,
            cap_seconds=self._config.pause_probe_cap,
        )

    def _lease(self, tx: DeliveryTransaction) -> Lease | None:
        return tx.renew_lease(self._claim, self._clock.now(), self._config.lease_seconds)

    def _row_as_left(
        self, tx: DeliveryTransaction, row_id: int, after_send: bool
    ) -> tuple[Lease, Adjustment] | None:
        """The renewed lease and the row as this claim left it (sending after a call, pending
        before one), or None when the lease is lost or another claim has taken the row over."""
        lease = self._lease(tx)
        if lease is None:
            return None
        current = self._still_sending(tx, row_id) if after_send else self._still_pending(tx, row_id)
        return None if current is None else (lease, current)

    def _still_pending(self, tx: DeliveryTransaction, row_id: int) -> Adjustment | None:
        current = tx.get(row_id)
        return current if current.status == AdjustmentStatus.PENDING else None

    def _still_sending(self, tx: DeliveryTransaction, row_id: int) -> Adjustment | None:
        """The row as we left it before the call, or None when another claim has taken over."""
        current = tx.get(row_id)
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
