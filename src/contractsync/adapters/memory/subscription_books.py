"""`SubscriptionBooks` in memory, over `MemoryData`: what `adapters/db/subscription_books.py` does in
SQL (`state_store`, `operation_store`, `outbox`, the keys table), with the same answers
(`tests/integration/service/test_repositories_agree.py` holds the two together).

The state slice is read from the directory's dictionaries plus the ones only operations use
(`contracts`, `books`, `ledger`, `history`); records, outbox rows and manual actions are the
audit log's (`records`, `adjustments`, `manual_actions`). A unit of work runs alone, so nothing
is locked; a subscription saved at another version than it was loaded at is still a `LostRace`.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any

from contractsync.domain.books import ServiceBook, add_open_rows
from contractsync.domain.engine import SyncState
from contractsync.domain.enums import Policy
from contractsync.domain.model import (
    ConnectionSettings,
    Contract,
    Policies,
    Subscription,
    SubscriptionMapping,
)
from contractsync.domain.schedule import HeldAdjustment
from contractsync.ports.alerts import Alert
from contractsync.ports.audit_records import AdjustmentLine, AuditRecord, ManualAction
from contractsync.ports.directory import SubscriptionMapping as StoredMapping
from contractsync.ports.outbox import OPEN_STATUSES, AdjustmentStatus, derived_status
from contractsync.ports.subscription_books import (
    TEMP_BASE,
    LoadedState,
    LostRace,
    OperationContext,
    RetryRefused,
    StoredKey,
)

if TYPE_CHECKING:
    from contractsync.adapters.memory.unit_of_work import MemoryData

_FAILED, _PENDING, _SENT = "failed", "pending", "sent"
_DEFAULT_CONNECTION = ConnectionSettings("none")


@dataclass(frozen=True)
class StoredBook:
    """A contract service's intents, as an operation left them."""

    contract_id: int
    service_start: date
    intents: dict[date, Any]


@dataclass(frozen=True)
class LedgerLine:
    """What the PSA holds for a contract service: one sent change (`adjustment_id`: its outbox row)."""

    adjustment_id: int | None
    held: HeldAdjustment
    #: the PSA's id of the adjustment, when known
    autotask_id: int | None = None


@dataclass(frozen=True)
class HistoryLine:
    subscription_id: str
    version: int
    changed_at: datetime
    value: Subscription
    operation_key: str


@dataclass(frozen=True)
class SubscriptionRow:
    """A subscription as the use cases see it in a context: its value and the version read."""

    value: Subscription
    version: int

    @property
    def id(self) -> str:
        return self.value.id

    @property
    def reseller_id(self) -> str:
        return self.value.reseller_id


@dataclass
class MemoryContext:
    subscriptions: dict[str, Any] = field(default_factory=dict)
    connections: dict[str, Any] = field(default_factory=dict)
    connection_of: dict[str, str | None] = field(default_factory=dict)


@dataclass
class MemoryLoaded:
    state: SyncState
    connection_id: str | None
    versions: dict[str, int] = field(default_factory=dict)
    subscriptions_before: dict[str, Subscription] = field(default_factory=dict)
    customers_before: dict[str, object] = field(default_factory=dict)
    mappings_before: set[str] = field(default_factory=set)
    pending_before: dict[int, set[int]] = field(default_factory=dict)
    alerts_before: int = 0
    actions_before: int = 0
    written_records: dict[int, Any] = field(default_factory=dict)
    written_adjustments: list[Any] = field(default_factory=list)


class MemorySubscriptionBooks:
    def __init__(self, data: MemoryData) -> None:
        self.data = data

    # --- reading the state slice ----------------------------------------------------------------
    def read_context(self, subscription_ids: Iterable[str]) -> MemoryContext:
        answer = MemoryContext()
        rows = self.read_subscriptions(subscription_ids)
        for subscription_id, row in rows.items():
            answer.subscriptions[subscription_id] = row
            mapping = self.data.subscription_mappings.get(subscription_id)
            connection_id = mapping.connection_id if mapping else self._first_connection(row.reseller_id)
            answer.connection_of[subscription_id] = connection_id
            if connection_id is not None:
                answer.connections[connection_id] = self.data.connections[connection_id]
        return answer

    def _first_connection(self, reseller_id: str) -> str | None:
        return min(
            (c.id for c in self.data.connections.values() if c.reseller_id == reseller_id), default=None
        )

    def read_subscriptions(self, subscription_ids: Iterable[str]) -> dict[str, SubscriptionRow]:
        found = (self.data.subscriptions.get(i) for i in sorted(set(subscription_ids)))
        return {s.value.id: SubscriptionRow(s.value, s.version) for s in found if s is not None}

    def load(
        self,
        connection_id: str | None,
        subscription_ids: Iterable[str] = (),
        customer_ids: Iterable[str] = (),
        reseller_ids: Iterable[str] = (),
        *,
        locked_rows: Mapping[str, Any] | None = None,
        connection_row: Any = None,
        context: OperationContext | None = None,
    ) -> MemoryLoaded:
        settings = _DEFAULT_CONNECTION
        if connection_id is not None:
            stored = self.data.connections[connection_id]
            policies = {k: Policy(v) for k, v in stored.policies.items()}
            settings = ConnectionSettings(
                stored.id, stored.timezone, stored.settle_seconds, Policies(**policies)
            )
        state = SyncState(connection=settings, next_record_id=TEMP_BASE, next_row_key=TEMP_BASE)
        loaded = MemoryLoaded(state, connection_id)
        # Always read as stored now: a unit of work runs alone, so the rows a caller read are these.
        for subscription_id, row in self.read_subscriptions(subscription_ids).items():
            state.subscriptions[subscription_id] = row.value
            loaded.versions[subscription_id] = row.version
        customers = set(customer_ids) | {s.customer_id for s in state.subscriptions.values()}
        state.customers = {i: self.data.customers[i] for i in sorted(customers) if i in self.data.customers}
        resellers = set(reseller_ids) | {c.reseller_id for c in state.customers.values()}
        state.resellers = {i: self.data.resellers[i] for i in sorted(resellers) if i in self.data.resellers}
        loaded.subscriptions_before = dict(state.subscriptions)
        loaded.customers_before = dict(state.customers)
        if connection_id is not None:
            self._load_mappings_and_books(loaded, connection_id)
        return loaded

    def _load_mappings_and_books(self, loaded: MemoryLoaded, connection_id: str) -> None:
        state = loaded.state
        for subscription_id in sorted(state.subscriptions):
            stored = self.data.subscription_mappings.get(subscription_id)
            if stored is None or stored.connection_id != connection_id:
                continue
            mapped_at = self.data.mapped_at.get(subscription_id) or datetime.combine(
                stored.mapped_on, time(), UTC
            )
            state.mappings[subscription_id] = SubscriptionMapping(
                subscription_id, stored.contract_id, stored.contract_service_id, mapped_at, stored.mapped_on,
                stored.service_id,
            )  # fmt: skip
        loaded.mappings_before = set(state.mappings)
        for m in state.mappings.values():
            contract = self.data.contracts.get((connection_id, m.contract_id))
            if contract is not None:
                state.contracts[m.contract_id] = contract
        for m in sorted(state.mappings.values(), key=lambda m: m.contract_service_id):
            self._load_book(loaded, m.contract_service_id, m.contract_id, m.service_start)

    def _load_book(self, loaded: MemoryLoaded, cs: int, contract_id: int, service_start: date) -> None:
        state = loaded.state
        connection_id = state.connection.id
        if cs in state.books:
            return
        stored_book = self.data.books.get((connection_id, cs))
        if stored_book is not None:
            book = ServiceBook(
                stored_book.contract_id, cs, stored_book.service_start, dict(stored_book.intents)
            )
        else:
            book = ServiceBook(contract_id, cs, service_start)
        lines = self.data.ledger.get((connection_id, cs), [])
        book.held = [line.held for line in sorted(lines, key=lambda line: line.held.effective_date)]
        sent_ids = {line.adjustment_id for line in lines if line.adjustment_id is not None}
        open_rows = sorted(
            (
                a
                for a in self.data.adjustments.values()
                if a.connection_id == connection_id
                and a.contract_service_id == cs
                and a.status in OPEN_STATUSES
                and a.id not in sent_ids
            ),
            key=lambda a: a.id,
        )
        loaded.pending_before[cs] = add_open_rows(book, open_rows)
        state.books[cs] = book

    def load_service(
        self, loaded: LoadedState, contract_id: int, contract_service_id: int, service_start: date
    ) -> None:
        assert isinstance(loaded, MemoryLoaded)
        contract = self.data.contracts[(loaded.state.connection.id, contract_id)]
        loaded.state.contracts[contract_id] = contract
        self._load_book(loaded, contract_service_id, contract_id, service_start)

    # --- what mapping a subscription reads and keeps ---------------------------------------------
    def contract(self, connection_id: str, contract_id: int) -> Contract | None:
        return self.data.contracts.get((connection_id, contract_id))

    def keep_contract(self, connection_id: str, contract: Contract) -> None:
        self.data.contracts.setdefault((connection_id, contract.id), contract)

    def mapped_to(self, connection_id: str, contract_service_id: int) -> str | None:
        return min(
            (
                m.subscription_id
                for m in self.data.subscription_mappings.values()
                if m.connection_id == connection_id and m.contract_service_id == contract_service_id
            ),
            default=None,
        )

    # --- saving what the engine changed ------------------------------------------------------------
    def save(
        self,
        loaded: LoadedState,
        operation_key: str,
        now: datetime,
        actor: str | None = None,
        actors: Mapping[int, str | None] | None = None,
    ) -> list[int]:
        assert isinstance(loaded, MemoryLoaded)
        state = loaded.state
        record_ids = self._save_records(loaded, operation_key, now, actor, actors or {})
        self._save_subscriptions(loaded, operation_key, now)
        for customer_id, value in state.customers.items():
            if loaded.customers_before.get(customer_id) != value:
                stored = self.data.customers[customer_id]
                self.data.customers[customer_id] = dataclasses.replace(
                    stored, provider_margins=dict(value.provider_margins)
                )
        for released in loaded.mappings_before - set(state.mappings):
            self.data.subscription_mappings.pop(released, None)
        for subscription_id in sorted(set(state.mappings) - loaded.mappings_before):
            m = state.mappings[subscription_id]
            self.data.subscription_mappings[subscription_id] = StoredMapping(
                subscription_id, state.connection.id, m.contract_id, m.contract_service_id, m.service_id,
                m.service_start,
            )  # fmt: skip
            self.data.mapped_at[subscription_id] = m.mapped_at
        self._save_books(loaded, record_ids, operation_key, now)
        self._save_alerts(loaded, now)
        return [record_ids[r] for r in sorted(record_ids) if r >= TEMP_BASE]

    def _save_records(
        self,
        loaded: MemoryLoaded,
        operation_key: str,
        now: datetime,
        actor: str | None,
        actors: Mapping[int, str | None],
    ) -> dict[int, int]:
        state = loaded.state
        new = [(temp_id, record) for temp_id, record in sorted(state.records.items()) if temp_id >= TEMP_BASE]
        ids = {record_id: record_id for record_id in state.records if record_id < TEMP_BASE}
        if not new:
            return ids
        assert loaded.connection_id is not None, "records exist only for mapped subscriptions"
        real: list[int] = []
        for temp_id, record in new:
            record_id = max(self.data.records, default=0) + 1
            details: dict[str, Any] = {"notes": list(record.notes)} if record.notes else {}
            who = actors.get(temp_id, actor)
            if who:
                details["actor"] = who
            subscription = state.subscriptions.get(record.subscription_id or "")
            self.data.records[record_id] = stored = AuditRecord(
                record_id, loaded.connection_id, record.subscription_id,
                subscription.customer_id if subscription else None, operation_key, record.type.value,
                record.status.value, record.reason, record.effective_date, now, now, details,
            )  # fmt: skip
            loaded.written_records[record_id] = stored
            ids[temp_id] = record_id
            real.append(record_id)
        actions = [(ids[temp_id], action) for temp_id, record in new for action in record.manual_actions]
        attached = {id(action) for _, action in actions}
        actions += [
            (real[0], a) for a in state.manual_actions[loaded.actions_before :] if id(a) not in attached
        ]
        for operation_id, action in actions:
            action_id = max(self.data.manual_actions, default=0) + 1
            self.data.manual_actions[action_id] = ManualAction(
                action_id, loaded.connection_id, operation_id, action.subscription_id,
                action.contract_service_id, action.effective_date, action.unit_change or 0,
                action.instruction, "open", now,
            )  # fmt: skip
        return ids

    def _save_subscriptions(self, loaded: MemoryLoaded, operation_key: str, now: datetime) -> None:
        changed = [
            (subscription_id, value)
            for subscription_id, value in loaded.state.subscriptions.items()
            if loaded.subscriptions_before.get(subscription_id) != value
        ]
        for subscription_id, _ in changed:
            stored = self.data.subscriptions.get(subscription_id)
            if stored is None or stored.version != loaded.versions[subscription_id]:
                raise LostRace("a subscription changed concurrently")
        for subscription_id, value in changed:
            version = loaded.versions[subscription_id] + 1
            stored = self.data.subscriptions[subscription_id]
            self.data.subscriptions[subscription_id] = dataclasses.replace(
                stored, value=value, version=version
            )
            self.data.history.append(HistoryLine(subscription_id, version, now, value, operation_key))

    def _save_books(
        self, loaded: MemoryLoaded, record_ids: dict[int, int], operation_key: str, now: datetime
    ) -> None:
        state = loaded.state
        connection_id = state.connection.id
        if not state.books:
            return
        for cs, book in state.books.items():
            self.data.books[(connection_id, cs)] = StoredBook(
                book.contract_id, book.service_start, dict(book.intents)
            )
        discarded: set[int] = set()
        new_rows: list[AdjustmentLine] = []
        for cs, book in state.books.items():
            discarded |= loaded.pending_before.get(cs, set()) - {row.key for row in book.pending}
            for row in book.pending:
                if row.key < TEMP_BASE:
                    continue
                new_rows.append(
                    AdjustmentLine(
                        id=0, operation_id=record_ids[row.owner], connection_id=connection_id,
                        subscription_id=state.records[row.owner].subscription_id, contract_id=book.contract_id,
                        contract_service_id=cs, effective_date=row.planned.effective_date,
                        target_units=row.planned.target_units, planned_unit_change=row.planned.unit_change,
                        sent_unit_change=None, unit_price=row.planned.unit_price,
                        unit_cost=row.planned.unit_cost, status=AdjustmentStatus.PENDING.value, attempts=0,
                        error=None, due_at=row.due_at, sent_at=None,
                    )
                )  # fmt: skip
        if discarded:
            self._supersede(discarded, f"re-planned by operation {operation_key}", now)
        for line in new_rows:
            line = dataclasses.replace(line, id=max(self.data.adjustments, default=0) + 1)
            self.data.adjustments[line.id] = line
            loaded.written_adjustments.append(line)

    def _supersede(self, ids: set[int], reason: str, now: datetime) -> None:
        missing = ids - self.data.adjustments.keys()
        if missing:
            raise LostRace(f"unknown adjustments: {sorted(missing)}")
        found = [self.data.adjustments[i] for i in sorted(ids)]
        busy = [a.id for a in found if a.status in (AdjustmentStatus.SENDING, AdjustmentStatus.SENT)]
        if busy:
            raise LostRace(f"adjustments {busy} are already being sent or sent; they cannot be superseded")
        for a in found:
            if a.status != AdjustmentStatus.SUPERSEDED:
                self.data.adjustments[a.id] = dataclasses.replace(
                    a, status=AdjustmentStatus.SUPERSEDED.value, error=reason
                )
        for operation_id in sorted({a.operation_id for a in found}):
            counts = Counter(
                a.status for a in self.data.adjustments.values() if a.operation_id == operation_id
            )
            record = self.data.records.get(operation_id)
            if record is not None and counts:
                status = derived_status(dict(counts), record.status)
                if status != record.status:
                    self.data.records[operation_id] = dataclasses.replace(
                        record, status=status, updated_at=now
                    )

    def _save_alerts(self, loaded: MemoryLoaded, now: datetime) -> None:
        for alert in loaded.state.alerts[loaded.alerts_before :]:
            key = hashlib.sha256(f"{alert.kind}|{alert.subscription_id}|{alert.message}".encode()).hexdigest()
            if key in self.data.alert_keys.values():
                continue
            alert_id = max(self.data.alerts, default=0) + 1
            self.data.alerts[alert_id] = Alert(
                alert_id, alert.kind, alert.message, loaded.connection_id, alert.subscription_id, now
            )
            self.data.alert_keys[alert_id] = key

    @contextmanager
    def _savepoint(self) -> Iterator[object]:
        saved = copy.deepcopy(self.data)
        try:
            yield self
        except BaseException:
            self.data.restore(saved)
            raise

    def savepoint(self) -> AbstractContextManager[object]:
        return self._savepoint()

    def customer_subscriptions(self, customer_id: str) -> dict[str | None, list[str]]:
        return self._by_connection(
            s.value.id for s in self.data.subscriptions.values() if s.value.customer_id == customer_id
        )

    def ending_before(self, day: date, reseller_id: str | None = None) -> dict[str | None, list[str]]:
        return self._by_connection(
            s.value.id
            for s in self.data.subscriptions.values()
            if s.value.status.value in ("active", "suspended")
            and s.value.end_date < day
            and reseller_id in (None, s.value.reseller_id)
        )

    def _by_connection(self, ids: Iterable[str]) -> dict[str | None, list[str]]:
        groups: dict[str | None, list[str]] = {}
        for subscription_id in sorted(ids):
            mapping = self.data.subscription_mappings.get(subscription_id)
            groups.setdefault(mapping.connection_id if mapping else None, []).append(subscription_id)
        return groups

    def connection_reseller(self, connection_id: str) -> str:
        return self.data.connections[connection_id].reseller_id

    def stored_keys(self, keys: Iterable[str]) -> dict[tuple[str, str], StoredKey]:
        wanted = set(keys)
        return {where: key for where, key in self.data.operation_keys.items() if where[1] in wanted}

    def store_keys(self, keys: list[StoredKey]) -> None:
        if any((key.scope, key.key) in self.data.operation_keys for key in keys):
            raise LostRace("an operation with the same idempotency key was applied concurrently")
        self.data.operation_keys.update(((key.scope, key.key), key) for key in keys)

    def requeue_failed(self, operation_id: int, now: datetime) -> list[int]:
        record = self.data.records.get(operation_id)
        if record is None:
            raise RetryRefused(f"operation {operation_id} does not exist")
        if record.status != _FAILED:
            raise RetryRefused(
                f"operation {operation_id} is {record.status}; only failed operations can be retried"
            )
        failed = sorted(
            (
                a
                for a in self.data.adjustments.values()
                if a.operation_id == operation_id and a.status == _FAILED
            ),
            key=lambda a: a.id,
        )
        if not failed:
            raise RetryRefused(
                f"operation {operation_id} has no adjustment to retry (nothing was planned for Autotask)"
            )
        for row in failed:
            blocker = min(
                (
                    a.id
                    for a in self.data.adjustments.values()
                    if a.connection_id == row.connection_id
                    and a.contract_service_id == row.contract_service_id
                    and a.status == _SENT
                    and a.id > row.id
                ),
                default=None,
            )
            if blocker is not None:
                raise RetryRefused.sent_later(blocker, row.contract_service_id)
        for row in failed:
            self.data.adjustments[row.id] = dataclasses.replace(
                row, status=_PENDING, attempts=0, error=None, posted_period_refused=False
            )
        self.data.records[operation_id] = dataclasses.replace(
            record, status=_PENDING, reason=None, updated_at=now
        )
        return [row.id for row in failed]
