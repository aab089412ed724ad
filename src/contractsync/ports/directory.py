"""Resellers, connections, customers, subscriptions and their mappings, as the use cases read them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, Protocol

from contractsync.domain.model import Customer, Reseller, Subscription

#: A subscription's badge: what the console and the API show of its delivery (the API calls it `sync_state`).
SyncBadge = Literal["synced", "pending", "out_of_sync", "failed", "unmapped"]
SYNC_BADGES: tuple[SyncBadge, ...] = ("synced", "pending", "out_of_sync", "failed", "unmapped")


@dataclass(frozen=True)
class StoredConnection:
    """A PSA connection as stored (the secret encrypted)."""

    id: str
    reseller_id: str
    kind: str
    username: str
    secret_encrypted: str
    integration_code: str
    base_url: str | None
    timezone: str
    settle_seconds: int
    created_at: datetime
    policies: dict[str, str] = field(default_factory=dict)
    credentials_version: int = 1


@dataclass(frozen=True)
class ConnectionPause:
    """Deliveries of a connection wait because the PSA refused its credentials."""

    connection_id: str
    reason: str
    since: datetime
    next_probe_at: datetime


@dataclass(frozen=True)
class StoredSubscription:
    value: Subscription
    version: int = 1


@dataclass(frozen=True)
class CustomerMapping:
    customer_id: str
    connection_id: str
    company_id: int


@dataclass(frozen=True)
class SubscriptionMapping:
    subscription_id: str
    connection_id: str
    contract_id: int
    contract_service_id: int
    service_id: int | None
    mapped_on: date


@dataclass(frozen=True)
class CredentialsChange:
    secret_encrypted: str
    username: str | None = None
    integration_code: str | None = None

    def values(self) -> dict[str, Any]:
        """The stored columns this change sets."""
        changed = {"username": self.username, "integration_code": self.integration_code}
        return {"secret_encrypted": self.secret_encrypted} | {
            k: v for k, v in changed.items() if v is not None
        }


class Directory(Protocol):
    """Reads and writes of the directory in the unit of work's transaction. `only` narrows a list
    to one reseller's rows (None: every reseller's); lists are ordered by id. `add_*` answers
    False, and stores nothing, when the id exists already."""

    def reseller(self, reseller_id: str) -> Reseller | None: ...

    def resellers(self, only: str | None = None) -> list[Reseller]: ...

    def add_reseller(self, reseller: Reseller) -> bool: ...

    def approve_billing(self, reseller_id: str, through: date) -> None: ...

    def connection(self, connection_id: str) -> StoredConnection | None: ...

    def connections(self, only: str | None = None) -> list[StoredConnection]: ...

    def add_connection(self, connection: StoredConnection) -> bool: ...

    def change_credentials(self, connection_id: str, change: CredentialsChange) -> None:
        """New credentials; the connection's `credentials_version` goes up by one."""
        ...

    def pause(self, connection_id: str) -> ConnectionPause | None: ...

    def pauses(self) -> dict[str, ConnectionPause]: ...

    def probe_now(self, connection_id: str, now: datetime) -> None:
        """A paused connection is probed at `now` (nothing when it is not paused)."""
        ...

    def customer(self, customer_id: str) -> Customer | None: ...

    def customers(self, only: str | None = None) -> list[Customer]: ...

    def add_customer(self, customer: Customer) -> bool: ...

    def customer_mapping(self, customer_id: str) -> CustomerMapping | None: ...

    def add_customer_mapping(self, mapping: CustomerMapping) -> bool:
        """Map the customer to a company on the connection; False, and nothing stored, when the
        customer, or the company, is mapped on that connection already."""
        ...

    def remove_customer_mapping(self, customer_id: str, connection_id: str) -> None:
        """The customer's company on the connection is forgotten (its subscriptions' mappings stay)."""
        ...

    def move_customer_mapping(self, customer_id: str, connection_id: str, company_id: int) -> None:
        """The mapped customer's company on the connection becomes `company_id`."""
        ...

    def subscription(self, subscription_id: str) -> StoredSubscription | None: ...

    def subscription_ids(self, only: str | None = None, customer_id: str | None = None) -> list[str]: ...

    def subscriptions(self, subscription_ids: Iterable[str]) -> list[StoredSubscription]:
        """The stored ones among these ids, in one read, in any order."""
        ...

    def add_subscription(self, subscription: Subscription, now: datetime) -> bool: ...

    def subscription_mapping(self, subscription_id: str) -> SubscriptionMapping | None: ...

    def remove_subscription_mapping(self, subscription_id: str) -> SubscriptionMapping | None:
        """The subscription's mapping is forgotten; answers what it was (None: it had none)."""
        ...

    def customer_mappings_of(self, connection_id: str) -> list[CustomerMapping]: ...

    def subscription_mappings_of(self, connection_id: str) -> list[SubscriptionMapping]: ...

    def open_manual_actions(self, subscription_id: str) -> int:
        """How many manual actions of the subscription are open."""
        ...

    def sync_badge(self, subscription_id: str) -> SyncBadge: ...
