"""The unit of work in SQL: one database transaction and the repositories reading and writing in it.

Built on `session.UnitOfWork` (its `session` and `lock_subscription` serve the repositories;
the use cases see only the ports).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Self, TypeVar

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from contractsync.adapters.db.alerts import SqlAlerts
from contractsync.adapters.db.api_tokens import SqlApiTokens
from contractsync.adapters.db.audit_records import SqlAuditRecords
from contractsync.adapters.db.autotask_names import SqlAutotaskNames
from contractsync.adapters.db.console_sessions import SqlConsoleSessions
from contractsync.adapters.db.dashboard_queries import SqlDashboardFacts
from contractsync.adapters.db.directory import SqlDirectory
from contractsync.adapters.db.ledger import SqlLedger
from contractsync.adapters.db.partner_center_sources import SqlPartnerCenterSources
from contractsync.adapters.db.reconciliation_facts import SqlReconciliationFacts
from contractsync.adapters.db.reconciliation_runs import SqlReconciliationRuns
from contractsync.adapters.db.service_creations import SqlServiceCreations
from contractsync.adapters.db.session import UnitOfWork, retrying
from contractsync.adapters.db.sign_in_attempts import SqlSignInAttempts
from contractsync.adapters.db.subscription_books import SqlSubscriptionBooks

T = TypeVar("T")


class SqlUnitOfWork(UnitOfWork):
    directory: SqlDirectory
    audit_records: SqlAuditRecords
    console_sessions: SqlConsoleSessions
    sign_in_attempts: SqlSignInAttempts
    alerts: SqlAlerts
    reconciliation_runs: SqlReconciliationRuns
    partner_center: SqlPartnerCenterSources
    service_creations: SqlServiceCreations
    dashboard: SqlDashboardFacts
    reconciliation_facts: SqlReconciliationFacts
    api_tokens: SqlApiTokens
    autotask_names: SqlAutotaskNames
    books: SqlSubscriptionBooks
    ledger: SqlLedger

    def __enter__(self) -> Self:
        super().__enter__()
        self.directory = SqlDirectory(self.session)
        self.audit_records = SqlAuditRecords(self.session)
        self.console_sessions = SqlConsoleSessions(self.session)
        self.sign_in_attempts = SqlSignInAttempts(self.session)
        self.alerts = SqlAlerts(self.session)
        self.reconciliation_runs = SqlReconciliationRuns(self.session)
        self.partner_center = SqlPartnerCenterSources(self.session)
        self.service_creations = SqlServiceCreations(self.session)
        self.dashboard = SqlDashboardFacts(self.session)
        self.reconciliation_facts = SqlReconciliationFacts(self.session)
        self.api_tokens = SqlApiTokens(self.session)
        self.autotask_names = SqlAutotaskNames(self.session)
        self.books = SqlSubscriptionBooks(self.session)
        self.ledger = SqlLedger(self.session)
        return self


class SqlUnitsOfWork:
    """The factory the service context holds: `units(commit=False)` is a new SqlUnitOfWork."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def __call__(self, *, commit: bool = True) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.sessions, commit=commit)

    def retrying(self, run: Callable[[], T]) -> T:
        return retrying(run)

    def reachable(self) -> bool:
        try:
            with self.sessions() as session:
                session.execute(text("SELECT 1"))
        except Exception:  # any failure to reach the database means "not healthy"
            return False
        return True
