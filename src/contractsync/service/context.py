"""What every use case gets: units of work, the clock, the secret box and a PSA connector factory."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from contractsync.domain.bounds import control_character
from contractsync.domain.model import Customer, Reseller
from contractsync.ports.clock import Clock
from contractsync.ports.directory import Directory, StoredConnection, StoredSubscription
from contractsync.ports.partner_center_api import PartnerCenterKit
from contractsync.ports.secrets import OutboundPolicy, Secrets
from contractsync.ports.unit_of_work import UnitOfWorkFactory
from contractsync.service.actor import Actor
from contractsync.service.errors import Forbidden, NotFound, Unavailable

T = TypeVar("T")


@dataclass(frozen=True)
class Leases:
    """A PSA call this process claims in the database (a contract-service creation) is its own
    for `seconds` after the last renewal, renewed every `heartbeat_seconds` while the call lasts:
    a live caller keeps it however long the call takes, a dead one loses it `seconds` after its
    last beat (`CONTRACTSYNC_LEASE_SECONDS`, `CONTRACTSYNC_HEARTBEAT_SECONDS`, as the worker's)."""

    seconds: float = 30.0
    heartbeat_seconds: float = 10.0


@dataclass
class ServiceContext:
    #: `with ctx.units(commit=False) as uow:` — one transaction and its repositories
    units: UnitOfWorkFactory
    clock: Clock
    secrets: Secrets
    #: connection row → an Autotask connector (for mapping searches and reconciliation)
    connector_for: Callable[[Any], Any]
    #: where Autotask requests may go (CONTRACTSYNC_PSA_ALLOWED_HOSTS adds hosts)
    outbound: OutboundPolicy
    #: Partner Center's client, webhook check and reader (None: this process has no Partner Center)
    partner_center: PartnerCenterKit | None = None
    #: subscriptions the sweep plans and commits together (memory is bounded by it)
    sweep_chunk: int = 2000
    leases: Leases = Leases()

    @property
    def partner_center_kit(self) -> PartnerCenterKit:
        if self.partner_center is None:
            raise Unavailable("Partner Center is not set up in this process")
        return self.partner_center

    @property
    def sessions(self) -> Any:
        """The SQL session factory (None in memory), for the wiring (metrics, the sweep scheduler)."""
        return getattr(self.units, "sessions", None)

    def now(self) -> datetime:
        return self.clock.now()

    def today_in(self, timezone: str) -> date:
        return self.now().astimezone(ZoneInfo(timezone)).date()


def require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("only the provider's admin token may do this")


def _found(actor: Actor, value: T | None, reseller_id: Callable[[T], str], what: str, key: str) -> T:
    """`value`, or NotFound — also for another reseller's, so ids don't leak."""
    if value is None or not actor.can_see(reseller_id(value)):
        raise NotFound(f"{what} {key} not found")
    return value


def _checked(key: str, what: str) -> None:
    if control_character(key) is not None:  # no stored id has one (and NUL fails on PostgreSQL)
        raise NotFound(f"{what} {key!r} not found")


def visible_reseller(directory: Directory, actor: Actor, reseller_id: str) -> Reseller:
    _checked(reseller_id, "reseller")
    return _found(actor, directory.reseller(reseller_id), lambda r: r.id, "reseller", reseller_id)


def visible_customer(directory: Directory, actor: Actor, customer_id: str) -> Customer:
    _checked(customer_id, "customer")
    return _found(actor, directory.customer(customer_id), lambda c: c.reseller_id, "customer", customer_id)


def visible_subscription(directory: Directory, actor: Actor, subscription_id: str) -> StoredSubscription:
    _checked(subscription_id, "subscription")
    found = directory.subscription(subscription_id)
    return _found(actor, found, lambda s: s.value.reseller_id, "subscription", subscription_id)


def visible_connection(directory: Directory, actor: Actor, connection_id: str) -> StoredConnection:
    _checked(connection_id, "connection")
    found = directory.connection(connection_id)
    return _found(actor, found, lambda c: c.reseller_id, "connection", connection_id)


def read_connection(ctx: ServiceContext, actor: Actor, connection_id: str) -> StoredConnection:
    """`visible_connection` in a read-only unit of work of its own (before a PSA call)."""
    with ctx.units(commit=False) as uow:
        return visible_connection(uow.directory, actor, connection_id)
