"""A unit of work over dictionaries (cosmicpython's FakeUnitOfWork): no database.

`MemoryData` holds every aggregate; `FakeUnitsOfWork(data)` is the factory a `ServiceContext`
takes. A unit of work runs alone (one lock, as SQLite's write lock), and leaving it with an
exception, or a preview (`commit=False`), puts the data back as it was.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import datetime
from types import TracebackType
from typing import Self, TypeVar

from contractsync.adapters.memory.alerts import MemoryAlerts
from contractsync.adapters.memory.api_tokens import MemoryApiTokens
from contractsync.adapters.memory.audit_records import MemoryAuditRecords
from contractsync.adapters.memory.autotask_names import MemoryAutotaskNames
from contractsync.adapters.memory.console_sessions import MemoryConsoleSessions
from contractsync.adapters.memory.dashboard import MemoryDashboardFacts
from contractsync.adapters.memory.directory import MemoryDirectory
from contractsync.adapters.memory.ledger import MemoryLedger
from contractsync.adapters.memory.partner_center_sources import MemoryPartnerCenterSources
from contractsync.adapters.memory.reconciliation_facts import MemoryReconciliationFacts
from contractsync.adapters.memory.reconciliation_runs import MemoryReconciliationRuns
from contractsync.adapters.memory.service_creations import MemoryServiceCreations
from contractsync.adapters.memory.sign_in_attempts import MemorySignInAttempts
from contractsync.adapters.memory.subscription_books import (
    HistoryLine,
    LedgerLine,
    MemorySubscriptionBooks,
    StoredBook,
)
from contractsync.domain.model import Contract, Customer, Reseller
from contractsync.ports.alerts import Alert
from contractsync.ports.api_tokens import StoredToken
from contractsync.ports.audit_records import AdjustmentLine, AuditRecord, ManualAction
from contractsync.ports.autotask_names import NameKind
from contractsync.ports.console_sessions import ConsoleSession
from contractsync.ports.directory import (
    ConnectionPause,
    CustomerMapping,
    StoredConnection,
    StoredSubscription,
    SubscriptionMapping,
    SyncBadge,
)
from contractsync.ports.partner_center import PartnerCenterSource, PollState
from contractsync.ports.reconciliation_runs import RunResult, Schedule
from contractsync.ports.service_creations import ServiceCreation
from contractsync.ports.subscription_books import StoredKey

T = TypeVar("T")


@dataclass
class MemoryData:
    resellers: dict[str, Reseller] = field(default_factory=dict)
    connections: dict[str, StoredConnection] = field(default_factory=dict)
    pauses: dict[str, ConnectionPause] = field(default_factory=dict)
    customers: dict[str, Customer] = field(default_factory=dict)
    #: by (customer, connection): a customer has a company on each connection it is mapped on
    customer_mappings: dict[tuple[str, str], CustomerMapping] = field(default_factory=dict)
    subscriptions: dict[str, StoredSubscription] = field(default_factory=dict)
    subscription_mappings: dict[str, SubscriptionMapping] = field(default_factory=dict)
    #: badges a test sets (see `MemoryDirectory.sync_badge` for the default)
    sync_badges: dict[str, SyncBadge] = field(default_factory=dict)
    records: dict[int, AuditRecord] = field(default_factory=dict)
    adjustments: dict[int, AdjustmentLine] = field(default_factory=dict)
    manual_actions: dict[int, ManualAction] = field(default_factory=dict)
    console_sessions: dict[str, ConsoleSession] = field(default_factory=dict)
    #: (key, made at) of the console's counted sign-in attempts
    sign_in_attempts: list[tuple[str, datetime]] = field(default_factory=list)
    alerts: dict[int, Alert] = field(default_factory=dict)
    alert_keys: dict[int, str] = field(default_factory=dict)  # id → dedupe key
    runs: dict[int, RunResult] = field(default_factory=dict)
    schedules: dict[str, Schedule] = field(default_factory=dict)
    sources: dict[str, PartnerCenterSource] = field(default_factory=dict)
    polls: dict[str, PollState] = field(default_factory=dict)
    creations: dict[int, ServiceCreation] = field(default_factory=dict)
    tokens: dict[int, StoredToken] = field(default_factory=dict)
    #: (connection id, kind, Autotask id) → (name, refreshed at)
    autotask_names: dict[tuple[str, NameKind, int], tuple[str, datetime]] = field(default_factory=dict)
    operation_keys: dict[tuple[str, str], StoredKey] = field(default_factory=dict)
    #: what only operations read and write (see `subscription_books`): (connection, id) keys
    contracts: dict[tuple[str, int], Contract] = field(default_factory=dict)
    books: dict[tuple[str, int], StoredBook] = field(default_factory=dict)
    ledger: dict[tuple[str, int], list[LedgerLine]] = field(default_factory=dict)
    history: list[HistoryLine] = field(default_factory=list)
    #: when each subscription was mapped (default: midnight UTC of its `mapped_on`)
    mapped_at: dict[str, datetime] = field(default_factory=dict)
    #: (connection, contract service) whose PSA units the worker reads before it next sends
    units_unknown: set[tuple[str, int]] = field(default_factory=set)

    def mappings_of_customer(self, customer_id: str) -> list[CustomerMapping]:
        """The customer's companies, by connection id."""
        return [m for (customer, _), m in sorted(self.customer_mappings.items()) if customer == customer_id]

    def restore(self, saved: MemoryData) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(saved, f.name))


class FakeUnitOfWork:
    def __init__(self, data: MemoryData, lock: threading.RLock, *, commit: bool = True) -> None:
        self.data = data
        self._lock = lock
        self._commit_on_exit = commit
        self._saved = data
        self.commits = 0
        self.session = None  # no SQL here (tests tell the two units of work apart by it)
        self.directory = MemoryDirectory(data)
        self.audit_records = MemoryAuditRecords(data)
        self.console_sessions = MemoryConsoleSessions(data)
        self.sign_in_attempts = MemorySignInAttempts(data)
        self.alerts = MemoryAlerts(data)
        self.reconciliation_runs = MemoryReconciliationRuns(data)
        self.partner_center = MemoryPartnerCenterSources(data)
        self.service_creations = MemoryServiceCreations(data)
        self.dashboard = MemoryDashboardFacts(data)
        self.reconciliation_facts = MemoryReconciliationFacts(data)
        self.api_tokens = MemoryApiTokens(data)
        self.autotask_names = MemoryAutotaskNames(data)
        self.books = MemorySubscriptionBooks(data)
        self.ledger = MemoryLedger(data)

    def __enter__(self) -> Self:
        self._lock.acquire()
        self._saved = copy.deepcopy(self.data)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc_type is None and self._commit_on_exit:
                self.commits += 1
            else:
                self.data.restore(self._saved)
        finally:
            self._lock.release()

    def commit(self) -> None:
        if self._commit_on_exit:
            self._saved = copy.deepcopy(self.data)
            self.commits += 1

    def lock_subscription(self, subscription_id: str) -> None:
        """Nothing to do: a unit of work runs alone."""


class FakeUnitsOfWork:
    """The factory of `FakeUnitOfWork`s over one `MemoryData`."""

    sessions = None  # transitional (see ServiceContext.sessions)

    def __init__(self, data: MemoryData | None = None) -> None:
        self.data = data if data is not None else MemoryData()
        self._lock = threading.RLock()
        self.opened: list[FakeUnitOfWork] = []

    def __call__(self, *, commit: bool = True) -> FakeUnitOfWork:
        uow = FakeUnitOfWork(self.data, self._lock, commit=commit)
        self.opened.append(uow)
        return uow

    def reachable(self) -> bool:
        return True

    def retrying(self, run: Callable[[], T]) -> T:
        """Nothing to retry: a unit of work runs alone, so it never loses a race."""
        return run()
