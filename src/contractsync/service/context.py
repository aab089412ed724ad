"""What every use case gets: the database, the clock, the secret box and a PSA connector factory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from contractsync.adapters.autotask.outbound import OutboundPolicy
from contractsync.adapters.clock import Clock
from contractsync.adapters.db.session import UnitOfWork
from contractsync.adapters.db.tables import connections, customers, resellers, subscriptions
from contractsync.adapters.secrets import SecretBox
from contractsync.domain.bounds import control_character
from contractsync.service.actor import Actor
from contractsync.service.errors import Forbidden, NotFound


@dataclass
class ServiceContext:
    sessions: sessionmaker[Session]
    clock: Clock
    secrets: SecretBox
    #: connection row → an Autotask connector (for mapping searches and reconciliation)
    connector_for: Callable[[Any], Any]
    #: where Autotask requests may go (CONTRACTSYNC_PSA_ALLOWED_HOSTS adds hosts)
    outbound: OutboundPolicy = field(default_factory=OutboundPolicy)

    def now(self) -> datetime:
        return self.clock.now()

    def today_in(self, timezone: str) -> date:
        return self.now().astimezone(ZoneInfo(timezone)).date()

    @contextmanager
    def unit_of_work(self, commit: bool = True) -> Iterator[UnitOfWork]:
        with UnitOfWork(self.sessions, commit=commit) as uow:
            yield uow


def require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("only the provider's admin token may do this")


def _visible(session: Session, actor: Actor, table: Any, key: str, what: str) -> Any:
    """The row with id `key`, or NotFound — also for another reseller's rows, so ids don't leak."""
    if control_character(key) is not None:  # no stored id has one (and NUL fails on PostgreSQL)
        raise NotFound(f"{what} {key!r} not found")
    row = session.execute(select(table).where(table.c.id == key)).first()
    if row is None or not actor.can_see(row.id if table is resellers else row.reseller_id):
        raise NotFound(f"{what} {key} not found")
    return row


def visible_reseller(session: Session, actor: Actor, reseller_id: str) -> Any:
    return _visible(session, actor, resellers, reseller_id, "reseller")


def visible_customer(session: Session, actor: Actor, customer_id: str) -> Any:
    return _visible(session, actor, customers, customer_id, "customer")


def visible_subscription(session: Session, actor: Actor, subscription_id: str) -> Any:
    return _visible(session, actor, subscriptions, subscription_id, "subscription")


def visible_connection(session: Session, actor: Actor, connection_id: str) -> Any:
    return _visible(session, actor, connections, connection_id, "connection")
