"""SyncEngine: applies rule decisions to the connection's state, keeping books and records.

The same engine runs behind `contractsync plan` (everything in memory) and behind the service,
which loads the part of the state an operation touches, runs the engine, and saves the result in
one transaction (the transactional outbox).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from contractsync.domain.books import (
    PendingAdjustment,
    Record,
    ServiceBook,
    replan,
    service_window,
)
from contractsync.domain.decisions import Alert, Decision, Effect, ManualAction, RuleContext, full_intent
from contractsync.domain.enums import RecordStatus, RecordType
from contractsync.domain.model import (
    ConnectionSettings,
    Contract,
    Customer,
    Reseller,
    Subscription,
    SubscriptionMapping,
)
from contractsync.domain.schedule import OutsideContract


@dataclass
class SyncState:
    connection: ConnectionSettings
    resellers: dict[str, Reseller] = field(default_factory=dict)
    customers: dict[str, Customer] = field(default_factory=dict)
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    contracts: dict[int, Contract] = field(default_factory=dict)
    mappings: dict[str, SubscriptionMapping] = field(default_factory=dict)
    books: dict[int, ServiceBook] = field(default_factory=dict)
    records: dict[int, Record] = field(default_factory=dict)
    alerts: list[Alert] = field(default_factory=list)
    manual_actions: list[ManualAction] = field(default_factory=list)
    next_record_id: int = 1
    next_row_key: int = 1

    def context(self) -> RuleContext:
        return RuleContext(
            self.connection, self.subscriptions, self.customers, self.resellers, self.mappings, self.contracts
        )


class SyncEngine:
    def __init__(self, state: SyncState) -> None:
        self.state = state

    def apply(self, decision: Decision, now: datetime) -> list[Record]:
        """Store the decision's new state; open a record per effect; re-plan the touched books."""
        state = self.state
        for subscription in decision.subscriptions:
            state.subscriptions[subscription.id] = subscription
        for customer in decision.customers:
            state.customers[customer.id] = customer
        state.alerts.extend(decision.alerts)
        state.manual_actions.extend(decision.manual_actions)
        records = [self._open(effect, now) for effect in decision.effects]
        for effect in decision.effects:
            if effect.release_mapping:
                state.mappings.pop(effect.subscription_id, None)
        return records

    def map_subscription(self, mapping: SubscriptionMapping, record: Record, now: datetime) -> None:
        """Mapping aligns the contract service to the subscription's units, price and cost."""
        state = self.state
        state.mappings[mapping.subscription_id] = mapping
        subscription = state.subscriptions[mapping.subscription_id]
        book = state.books.setdefault(
            mapping.contract_service_id,
            ServiceBook(mapping.contract_id, mapping.contract_service_id, mapping.service_start),
        )
        book.service_start = min(book.service_start, mapping.service_start)
        pricing = state.context().pricing(subscription)
        units = subscription.quantity if subscription.is_live else 0
        effect = Effect(
            record.type,
            subscription.id,
            mapping.contract_service_id,
            mapping.service_start,
            intents=(full_intent(mapping.service_start, units, pricing),),
        )
        state.records[record.id] = record
        self._plan(effect, record, now)

    def repair(
        self,
        subscription_id: str,
        contract_service_id: int,
        since: date,
        now: datetime,
        record_type: RecordType = RecordType.RECONCILE,
    ) -> Record:
        """Re-plan a contract service from `since`: after X1 rebuilt `held` from what Autotask
        shows, or after Autotask refused a period it had posted (a retry)."""
        effect = Effect(record_type, subscription_id, contract_service_id, since)
        record = self.new_record(effect, now)
        record.reason = "reconciliation: Autotask differed from the expected units or price"
        self.replan_service(record, since, now)
        return record

    def replan_service(self, record: Record, since: date, now: datetime) -> None:
        """Re-plan `record`'s contract service from `since` with the intents it already has; the
        rows that change belong to `record` (a new one, or an existing one whose adjustment moved)."""
        assert record.subscription_id is not None and record.contract_service_id is not None
        book = self.state.books[record.contract_service_id]
        effect = Effect(
            record.type,
            record.subscription_id,
            record.contract_service_id,
            since,
            intents=tuple(book.intents.values()),
        )
        self.state.records[record.id] = record
        self._plan(effect, record, now, changed_from=since)

    def new_record(self, effect: Effect, now: datetime) -> Record:
        record = Record(
            id=self.state.next_record_id,
            type=effect.record_type,
            subscription_id=effect.subscription_id,
            contract_service_id=effect.contract_service_id,
            effective_date=effect.effective_date,
            created_at=now,
            status=effect.status,
            reason=effect.reason,
            manual_actions=list(effect.manual_actions),
        )
        self.state.next_record_id += 1
        return record

    def _open(self, effect: Effect, now: datetime) -> Record:
        record = self.new_record(effect, now)
        self.state.records[record.id] = record
        self.state.manual_actions.extend(effect.manual_actions)
        if effect.status is RecordStatus.PENDING:
            self._plan(effect, record, now)
        return record

    def _plan(self, effect: Effect, record: Record, now: datetime, changed_from: date | None = None) -> None:
        state = self.state
        book = state.books[effect.contract_service_id]
        contract = state.contracts[book.contract_id]
        window = service_window(contract, book.service_start)
        intents = book.with_intents(effect.intents)
        if changed_from is None:
            changed_from = min(intent.effective_date for intent in effect.intents)
        try:
            result = replan(book, intents, window, changed_from)
        except OutsideContract as error:
            record.status = RecordStatus.FAILED
            record.reason = f"Not sent: the {error}"
            state.alerts.append(Alert("adjustment_outside_contract", record.reason, effect.subscription_id))
            return
        book.intents = intents
        record.notes.extend(result.notes)
        due = now + timedelta(seconds=state.connection.settle_seconds)
        new_rows = [PendingAdjustment(self._row_key(), record.id, planned, due) for planned in result.new]
        book.pending = result.keep + new_rows
        for row in result.discard:
            self._supersede_if_empty(row.owner, record.id)
        if not new_rows and not any(row.owner == record.id for row in result.keep):
            record.status = RecordStatus.SKIPPED
            record.reason = _join(record.reason, "Autotask already holds this; nothing to send")

    def _row_key(self) -> int:
        key = self.state.next_row_key
        self.state.next_row_key += 1
        return key

    def _supersede_if_empty(self, record_id: int, by: int) -> None:
        record = self.state.records.get(record_id)
        if record is None or record.id == by or record.status is not RecordStatus.PENDING:
            return
        still_pending = any(
            row.owner == record_id for book in self.state.books.values() for row in book.pending
        )
        if not still_pending and not record.sent:
            record.status = RecordStatus.SUPERSEDED
            record.reason = f"carried by connection operation #{by}"

    def approve_billing(self, reseller_id: str, through: date) -> None:
        reseller = self.state.resellers[reseller_id]
        self.state.resellers[reseller_id] = replace(reseller, approved_through=through)

    def post_periods(self, contract_id: int, through: date) -> None:
        contract = self.state.contracts[contract_id]
        self.state.contracts[contract_id] = replace(contract, posted_through=through)


def _join(first: str | None, second: str) -> str:
    return second if not first else f"{first}; {second}"
