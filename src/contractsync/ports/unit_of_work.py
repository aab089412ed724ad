"""The unit of work: one transaction, and the repositories that read and write in it."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Protocol, Self, TypeVar

from contractsync.ports.alerts import Alerts
from contractsync.ports.api_tokens import ApiTokens
from contractsync.ports.audit_records import AuditRecords
from contractsync.ports.autotask_names import AutotaskNames
from contractsync.ports.console_sessions import ConsoleSessions
from contractsync.ports.dashboard import DashboardFacts
from contractsync.ports.directory import Directory
from contractsync.ports.ledger import Ledger
from contractsync.ports.partner_center import PartnerCenterSources
from contractsync.ports.reconciliation_facts import ReconciliationFacts
from contractsync.ports.reconciliation_runs import ReconciliationRuns
from contractsync.ports.service_creations import ServiceCreations
from contractsync.ports.sign_in_attempts import SignInAttempts
from contractsync.ports.subscription_books import SubscriptionBooks

T = TypeVar("T")


class RetriesExhausted(Exception):
    """A use case lost the race (a deadlock, a serialization failure) every time it was run."""


class UnitOfWork(Protocol):
    """`with factory(commit=...) as uow:` — leaving the block without an exception commits (unless
    the factory was told `commit=False`, as previews are); an exception rolls everything back."""

    @property
    def directory(self) -> Directory: ...

    @property
    def audit_records(self) -> AuditRecords: ...

    @property
    def console_sessions(self) -> ConsoleSessions: ...

    @property
    def sign_in_attempts(self) -> SignInAttempts: ...

    @property
    def alerts(self) -> Alerts: ...

    @property
    def reconciliation_runs(self) -> ReconciliationRuns: ...

    @property
    def partner_center(self) -> PartnerCenterSources: ...

    @property
    def service_creations(self) -> ServiceCreations: ...

    @property
    def dashboard(self) -> DashboardFacts: ...

    @property
    def reconciliation_facts(self) -> ReconciliationFacts: ...

    @property
    def api_tokens(self) -> ApiTokens: ...

    @property
    def autotask_names(self) -> AutotaskNames: ...

    @property
    def books(self) -> SubscriptionBooks: ...

    @property
    def ledger(self) -> Ledger: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None:
        """Commit what is done so far; the unit of work goes on in a new transaction."""
        ...

    def lock_subscription(self, subscription_id: str) -> None:
        """Serialise concurrent writers of one subscription until this transaction ends."""
        ...


class UnitOfWorkFactory(Protocol):
    def __call__(self, *, commit: bool = True) -> UnitOfWork: ...

    def reachable(self) -> bool:
        """The store answers (for /healthz)."""
        ...

    def retrying(self, run: Callable[[], T]) -> T:
        """`run` (which opens its own units of work) again after a deadlock or serialization
        failure, a few times with a jittered wait; then `RetriesExhausted`."""
        ...
